"""The JSON API over the same users: ``/api/users`` and ``/api/users/<id>``.

=======  ====================  ==========================================================
method   path                  answers
=======  ====================  ==========================================================
GET      /api/users            200 ``{"users": [...], "total", "page", "pages", "per_page"}``
                               (``?q=`` searches names, ``?page=``, ``?per_page=`` up to 100)
POST     /api/users            201 with ``Location`` and the new user
GET      /api/users/<id>       200 the user
PUT      /api/users/<id>       200 the user as replaced (fields left out are cleared,
                               ``active`` left out stays as it is)
DELETE   /api/users/<id>       204
=======  ====================  ==========================================================

Errors are JSON too: ``{"error": text}``, plus ``"errors": {field: message}`` for
400 (invalid fields, a body that is not a JSON object) and 409 (an e-mail address
already registered, found by the unique index). 404 for an unknown id, 405 (with
``Allow``) for another method, 415 for a body that is not ``application/json``.

Tornado's XSRF check is off here: a browser sends a cross-site ``application/json``
POST, a PUT or a DELETE only after a CORS preflight, which this API never grants,
and bodies of any other type are refused (415) before anything is written.
"""

from __future__ import annotations

import http
import json
from typing import Any

import tornado.web

from mongotor.errors import DuplicateKeyError
from mongotor.orm import DocumentNotFoundError

from .forms import DUPLICATE_EMAIL, Submission, as_json, from_json
from .listing import list_users
from .models import User, find_user

__all__ = ["ApiError", "ApiHandler", "ApiNotFoundHandler", "UserApiHandler", "UsersApiHandler"]

MAX_PER_PAGE = 100


class ApiError(tornado.web.HTTPError):
    """An HTTP error whose body lists the fields at fault."""

    def __init__(self, status: int, errors: dict[str, str]) -> None:
        super().__init__(status)
        self.errors = errors


class ApiHandler(tornado.web.RequestHandler):
    """JSON in, JSON out, JSON errors."""

    allowed: tuple[str, ...] = ()

    def check_xsrf_cookie(self) -> None:
        """No XSRF token here: see the module's docstring for why none is needed."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("X-Content-Type-Options", "nosniff")

    def send_json(self, status: int, body: Any) -> None:
        self.set_status(status)
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        body: dict[str, Any] = {"error": self._reason}
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            body["errors"] = exc.errors
        if status_code == http.HTTPStatus.METHOD_NOT_ALLOWED:
            self.set_header("Allow", ", ".join(self.allowed))
        self.finish(json.dumps(body))

    def submission(self) -> Submission:
        """The body's fields, checked; raises 415 or 400 when they cannot be used."""
        media_type = self.request.headers.get("Content-Type", "").partition(";")[0].strip()
        if media_type.lower() != "application/json":
            raise tornado.web.HTTPError(
                http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE, reason="The body must be application/json"
            )
        try:
            body = json.loads(self.request.body)
        except ValueError:  # also a body that is not UTF-8
            raise ApiError(http.HTTPStatus.BAD_REQUEST, {"body": "is not valid JSON"}) from None
        submission = from_json(body)
        if submission.errors:
            raise ApiError(http.HTTPStatus.BAD_REQUEST, submission.errors)
        return submission

    async def load_user(self, user_id: str) -> User:
        user = await find_user(user_id)
        if user is None:
            raise tornado.web.HTTPError(http.HTTPStatus.NOT_FOUND, reason="No such user")
        return user

    async def save(self, user: User) -> None:
        """Save, turning a duplicate e-mail address into 409 and a vanished user into 404."""
        try:
            await user.save()
        except DuplicateKeyError:
            raise ApiError(http.HTTPStatus.CONFLICT, {"email": DUPLICATE_EMAIL}) from None
        except DocumentNotFoundError:
            raise tornado.web.HTTPError(http.HTTPStatus.NOT_FOUND, reason="No such user") from None

    def positive_int(self, name: str, default: int, errors: dict[str, str]) -> int:
        text = self.get_query_argument(name, str(default))
        if text.isdigit() and int(text) >= 1:
            return int(text)
        errors[name] = "must be a whole number of at least 1"
        return default


class UsersApiHandler(ApiHandler):
    """``/api/users``."""

    allowed = ("GET", "POST")

    async def get(self) -> None:
        errors: dict[str, str] = {}
        page = self.positive_int("page", 1, errors)
        per_page = self.positive_int("per_page", 20, errors)
        if per_page > MAX_PER_PAGE:
            errors["per_page"] = f"must be at most {MAX_PER_PAGE}"
        if errors:
            raise ApiError(http.HTTPStatus.BAD_REQUEST, errors)
        listing = await list_users(self.get_query_argument("q", ""), page, per_page)
        self.send_json(
            http.HTTPStatus.OK,
            {
                "users": [as_json(user) for user in listing.users],
                "total": listing.total,
                "page": listing.page,
                "pages": listing.pages,
                "per_page": listing.per_page,
            },
        )

    async def post(self) -> None:
        submission = self.submission()
        user = User(**{k: v for k, v in submission.values.items() if v is not None})
        await self.save(user)
        self.set_header("Location", f"/api/users/{user._id}")
        self.send_json(http.HTTPStatus.CREATED, as_json(user))


class UserApiHandler(ApiHandler):
    """``/api/users/<id>``."""

    allowed = ("GET", "PUT", "DELETE")

    async def get(self, user_id: str) -> None:
        self.send_json(http.HTTPStatus.OK, as_json(await self.load_user(user_id)))

    async def put(self, user_id: str) -> None:
        user = await self.load_user(user_id)
        for name, value in self.submission().values.items():
            setattr(user, name, value)
        await self.save(user)
        self.send_json(http.HTTPStatus.OK, as_json(user))

    async def delete(self, user_id: str) -> None:
        user = await self.load_user(user_id)
        await user.remove()
        self.set_status(http.HTTPStatus.NO_CONTENT)
        self.clear_header("Content-Type")
        self.finish()


class ApiNotFoundHandler(ApiHandler):
    """Any other address under ``/api/``: a JSON 404."""

    def prepare(self) -> None:
        raise tornado.web.HTTPError(http.HTTPStatus.NOT_FOUND)
