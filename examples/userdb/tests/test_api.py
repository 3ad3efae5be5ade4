"""The JSON API: every status code it promises, with its body."""

from __future__ import annotations

import re
from typing import Any

from bson import ObjectId

from mongotor.orm.signal import pre_save
from userdb.models import User

from ._support import AppTestCase

ANA = {"name": "Ana Lima", "email": "ana@example.com", "age": 31}


class ApiTest(AppTestCase):
    def create(self, **fields: Any) -> dict[str, Any]:
        response, body = self.api("POST", "/api/users", fields)
        assert response.code == 201, body
        return body  # type: ignore[no-any-return]

    def test_post_creates_201_with_location_and_the_user(self) -> None:
        response, body = self.api(
            "POST",
            "/api/users",
            {**ANA, "email": "Ana@Example.com", "website": "https://a.example"},
        )
        assert response.code == 201
        assert re.fullmatch(r"[0-9a-f]{24}", body["id"])
        assert response.headers["Location"] == f"/api/users/{body['id']}"
        assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
        assert body["email"] == "ana@example.com"
        assert body["active"] is True
        assert body["bio"] is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", body["created"])
        stored = self.call(self.db.users.find_one(ObjectId(body["id"])))
        assert stored["created"].isoformat(timespec="milliseconds") == body["created"][:-6]
        fetched, again = self.api("GET", response.headers["Location"])
        assert fetched.code == 200
        assert again == body

    def test_no_xsrf_token_is_needed_but_json_is(self) -> None:
        response, body = self.api(
            "POST", "/api/users", ANA, content_type="application/json; charset=utf-8"
        )
        assert response.code == 201, body
        for content_type in (None, "application/x-www-form-urlencoded", "text/plain"):
            response, body = self.api("POST", "/api/users", ANA, content_type=content_type)
            assert response.code == 415, content_type
            assert body == {"error": "The body must be application/json"}
        assert self.call(User.objects.count()) == 1

    def test_invalid_fields_are_400_with_every_error(self) -> None:
        response, body = self.api(
            "POST",
            "/api/users",
            {
                "name": 3,
                "email": "nope",
                "age": -2,
                "website": "x",
                "bio": None,
                "_id": "1",
                "admin": True,
            },
        )
        assert response.code == 400
        assert body == {
            "error": "Bad Request",
            "errors": {
                "name": "must be a string, not int",
                "email": "must be an e-mail address",
                "age": "must be at least 0",
                "website": "must be an absolute URL (http, https) with a host",
                "_id": "cannot be set",
                "admin": "cannot be set",
            },
        }
        response, body = self.api("POST", "/api/users", {})
        assert body["errors"] == {"name": "required", "email": "required"}
        response, body = self.api("POST", "/api/users", {**ANA, "active": None})
        assert body["errors"] == {"active": "must be true or false"}
        response, body = self.api("POST", "/api/users", {**ANA, "active": "yes"})
        assert set(body["errors"]) == {"active"}
        assert self.call(User.objects.count()) == 0

    def test_a_body_that_is_not_a_json_object_is_400(self) -> None:
        for raw, error in (
            (b"{", "is not valid JSON"),
            (b"\xff\xfe", "is not valid JSON"),
            (b"[1, 2]", "must be a JSON object"),
            (b"", "is not valid JSON"),
        ):
            response, body = self.api("POST", "/api/users", raw=raw)
            assert response.code == 400, raw
            assert body == {"error": "Bad Request", "errors": {"body": error}}

    def test_a_duplicate_email_is_409(self) -> None:
        self.create(**ANA)
        response, body = self.api("POST", "/api/users", {**ANA, "email": " ANA@example.com"})
        assert response.code == 409
        assert body == {"error": "Conflict", "errors": {"email": "is already registered"}}

    def test_list_searches_and_pages(self) -> None:
        for i, name in enumerate(["Cid", "Ana", "Bea", "Diana", "Ann"]):
            self.create(name=name, email=f"u{i}@example.com")
        response, body = self.api("GET", "/api/users")
        assert response.code == 200
        assert [u["name"] for u in body["users"]] == ["Ana", "Ann", "Bea", "Cid", "Diana"]
        assert (body["total"], body["page"], body["pages"], body["per_page"]) == (5, 1, 1, 20)
        response, body = self.api("GET", "/api/users?q=an&per_page=2&page=2")
        assert [u["name"] for u in body["users"]] == ["Diana"]
        assert (body["total"], body["page"], body["pages"], body["per_page"]) == (3, 2, 2, 2)

    def test_bad_paging_is_400(self) -> None:
        response, body = self.api("GET", "/api/users?page=0&per_page=x")
        assert response.code == 400
        assert body["errors"] == {
            "page": "must be a whole number of at least 1",
            "per_page": "must be a whole number of at least 1",
        }
        response, body = self.api("GET", "/api/users?per_page=101")
        assert response.code == 400
        assert body["errors"] == {"per_page": "must be at most 100"}

    def test_unknown_ids_and_addresses_are_404(self) -> None:
        for method in ("GET", "PUT", "DELETE"):
            for path in (f"/api/users/{ObjectId()}", "/api/users/zzz"):
                response, body = self.api(method, path, ANA)
                assert response.code == 404, (method, path)
                assert body == {"error": "No such user"}
        response, body = self.api("GET", "/api/nothing/here")
        assert response.code == 404
        assert body == {"error": "Not Found"}

    def test_other_methods_are_405_with_allow(self) -> None:
        response, body = self.api("PATCH", "/api/users", ANA)
        assert response.code == 405
        assert response.headers["Allow"] == "GET, POST"
        assert body == {"error": "Method Not Allowed"}
        user = self.create(**ANA)
        for method in ("POST", "PATCH"):
            response, body = self.api(method, f"/api/users/{user['id']}", ANA)
            assert response.code == 405
            assert response.headers["Allow"] == "GET, PUT, DELETE"
            assert body == {"error": "Method Not Allowed"}

    def test_put_replaces_the_fields_and_keeps_active_unless_given(self) -> None:
        user = self.create(**ANA, bio="Hello")
        path = f"/api/users/{user['id']}"
        response, body = self.api("PUT", path, {"name": "Ana L.", "email": "ana@example.com"})
        assert response.code == 200
        assert body == {**user, "name": "Ana L.", "age": None, "bio": None}
        stored = self.call(self.db.users.find_one(ObjectId(user["id"])))
        assert "age" not in stored and "bio" not in stored
        response, body = self.api("PUT", path, {**ANA, "active": False})
        assert body["active"] is False
        assert self.call(self.db.users.find_one(ObjectId(user["id"])))["active"] is False

    def test_put_errors(self) -> None:
        user = self.create(**ANA)
        self.create(name="Bob", email="bob@example.com")
        path = f"/api/users/{user['id']}"
        response, body = self.api("PUT", path, {"name": ""})
        assert response.code == 400
        assert body["errors"] == {"name": "required", "email": "required"}
        response, body = self.api("PUT", path, {"name": "Ana", "email": "bob@example.com"})
        assert response.code == 409
        assert body["errors"] == {"email": "is already registered"}
        response, body = self.api("PUT", path, ANA, content_type="text/plain")
        assert response.code == 415
        assert self.api("GET", path)[1] == user

    def test_put_of_a_user_removed_meanwhile_is_404(self) -> None:
        user = self.create(**ANA)

        async def removed_meanwhile(sender: Any, instance: Any) -> None:
            await self.db.users.delete_one({"_id": instance._id})

        pre_save.connect(User, removed_meanwhile)
        try:
            response, body = self.api("PUT", f"/api/users/{user['id']}", {**ANA, "age": 32})
        finally:
            pre_save.disconnect(User, removed_meanwhile)
        assert response.code == 404
        assert body == {"error": "No such user"}

    def test_delete_is_204_then_404(self) -> None:
        user = self.create(**ANA)
        path = f"/api/users/{user['id']}"
        response, body = self.api("DELETE", path)
        assert response.code == 204
        assert body is None
        assert "Content-Type" not in response.headers
        assert self.api("GET", path)[0].code == 404
        assert self.api("DELETE", path)[0].code == 404
