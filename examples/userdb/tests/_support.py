"""A tornado.testing case running the application over an embedded fakemongo,
with helpers for forms (the XSRF cookie and field) and the JSON API."""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from http.cookies import SimpleCookie
from typing import Any

import tornado.web
from tornado.httpclient import HTTPResponse
from tornado.testing import AsyncHTTPTestCase

from mongotor.database import Database
from userdb import Storage, make_app, open_storage

#: Small, so that a handful of users makes several pages.
PAGE_SIZE = 3


class AppTestCase(AsyncHTTPTestCase):
    """Each test: a fresh embedded fakemongo, the application over it, and a
    browser-like cookie jar holding Tornado's ``_xsrf`` cookie."""

    storage: Storage

    def get_app(self) -> tornado.web.Application:
        self.storage = self.io_loop.run_sync(lambda: open_storage(None))
        self.xsrf_token: str | None = None
        return make_app(self.storage, page_size=PAGE_SIZE)

    def tearDown(self) -> None:
        self.io_loop.run_sync(self.storage.close)
        super().tearDown()

    @property
    def db(self) -> Database[Any]:
        """The Database the models use (for checking what is really stored)."""
        return Database()

    def call(self, coroutine: Any) -> Any:
        """Await ``coroutine`` on the test's loop (the one the Database is bound to)."""
        return self.io_loop.run_sync(lambda: coroutine)

    # -- pages -------------------------------------------------------------------------------

    def page(self, path: str, **kwargs: Any) -> HTTPResponse:
        """GET ``path`` without following redirects; the ``_xsrf`` cookie is kept."""
        response = self.fetch(path, follow_redirects=False, **kwargs)
        for header in response.headers.get_list("Set-Cookie"):
            cookie = SimpleCookie(header)
            if "_xsrf" in cookie:
                self.xsrf_token = cookie["_xsrf"].value
        return response

    def post_form(self, path: str, fields: dict[str, str], *, xsrf: bool = True) -> HTTPResponse:
        """POST a form as a browser would: the XSRF cookie, and the token in the form."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if xsrf:
            if self.xsrf_token is None:
                self.page("/register")
            assert self.xsrf_token is not None
            headers["Cookie"] = f"_xsrf={self.xsrf_token}"
            fields = {**fields, "_xsrf": self.xsrf_token}
        return self.fetch(
            path,
            method="POST",
            body=urllib.parse.urlencode(fields),
            headers=headers,
            follow_redirects=False,
        )

    def register(self, **fields: str) -> str:
        """Register through the form; the new user's id."""
        response = self.post_form("/register", fields)
        assert response.code == 303, response.body
        match = re.fullmatch(
            r"/users/([0-9a-f]{24})\?notice=registered", response.headers["Location"]
        )
        assert match is not None, response.headers["Location"]
        return match.group(1)

    # -- the API -----------------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str | None = "application/json",
        raw: bytes | None = None,
    ) -> tuple[HTTPResponse, Any]:
        """Call the API; the response and its decoded JSON body (``None`` when empty)."""
        headers = {} if content_type is None else {"Content-Type": content_type}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b""
        response = self.fetch(
            path,
            method=method,
            body=data,
            headers=headers,
            follow_redirects=False,
            allow_nonstandard_methods=True,
        )
        return response, json.loads(response.body) if response.body else None


def text(response: HTTPResponse) -> str:
    """The page's text, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.body.decode())).split())


def field_error(response: HTTPResponse, name: str) -> str | None:
    """The message shown next to the form field ``name``, if any."""
    match = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', response.body.decode())
    return None if match is None else html.unescape(match.group(1))


def field_value(response: HTTPResponse, name: str) -> str:
    """What the form's input (or textarea) ``name`` holds."""
    body = response.body.decode()
    if name == "bio":
        match = re.search(r'<textarea id="bio"[^>]*>([^<]*)</textarea>', body)
    else:
        match = re.search(rf'<input id="{name}" name="{name}" type="[a-z]+" value="([^"]*)"', body)
    assert match is not None, f"no field {name}"
    return html.unescape(match.group(1))
