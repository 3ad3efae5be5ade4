"""A real tornado.web.Application whose handlers use the client (Tornado 6 runs
on asyncio: nothing Tornado-specific in mongotor), against fakemongo."""

from __future__ import annotations

import json
from typing import Any

import tornado.web
from tornado.testing import AsyncHTTPTestCase

from fakemongo import FakeMongoThread
from mongotor.database import Database
from mongotor.errors import DuplicateKeyError


class UsersHandler(tornado.web.RequestHandler):
    async def get(self) -> None:
        users = await Database().users.find({}, {"_id": 0}, sort=[("name", 1)])
        self.write({"users": users})

    async def post(self) -> None:
        document: dict[str, Any] = json.loads(self.request.body)
        try:
            await Database().users.insert(document)
        except DuplicateKeyError:
            self.set_status(409)
            self.write({"error": "exists"})
            return
        self.set_status(201)
        self.write({"created": document["name"]})


class TornadoApplicationTest(AsyncHTTPTestCase):
    server: FakeMongoThread

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = FakeMongoThread()
        cls.server.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.stop()

    def get_app(self) -> tornado.web.Application:
        self.database = Database.connect(self.server.uri, "tornado_app")
        return tornado.web.Application([(r"/users", UsersHandler)])

    def tearDown(self) -> None:
        # Inside the test's IOLoop, which the base tearDown closes.
        self.io_loop.run_sync(self.database.close)
        super().tearDown()

    def test_handlers_use_the_default_database(self) -> None:
        for name in ("bob", "ana"):
            response = self.fetch(
                "/users", method="POST", body=json.dumps({"_id": name, "name": name})
            )
            assert response.code == 201, response.body
        duplicate = self.fetch(
            "/users", method="POST", body=json.dumps({"_id": "ana", "name": "x"})
        )
        assert duplicate.code == 409
        listing = self.fetch("/users")
        assert json.loads(listing.body) == {"users": [{"name": "ana"}, {"name": "bob"}]}
