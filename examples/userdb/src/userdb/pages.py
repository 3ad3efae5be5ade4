"""The HTML pages: register, list and search, a user's page, edit, deactivate, remove.

Every change is a POST of a form carrying Tornado's XSRF token (the application
turns ``xsrf_cookies`` on), answered by a redirect (303 See Other) so that
reloading the next page does not send the form again. A form with mistakes is
shown again, with what was typed and a message next to each wrong field, with
status 400 (409 for an e-mail address that is already registered).
"""

from __future__ import annotations

import http
import urllib.parse
from typing import Any

import tornado.web

from mongotor.errors import DuplicateKeyError
from mongotor.orm import DocumentNotFoundError

from .forms import DUPLICATE_EMAIL, Submission, from_form
from .listing import list_users
from .models import EDITABLE, User, find_user

__all__ = [
    "ActiveHandler",
    "EditHandler",
    "HomeHandler",
    "NotFoundHandler",
    "PageHandler",
    "RegisterHandler",
    "RemoveHandler",
    "UserHandler",
    "UsersHandler",
]

#: Messages a redirect may ask the next page to show (``?notice=registered``).
NOTICES = {
    "registered": "Thank you for registering.",
    "saved": "The changes are saved.",
    "deactivated": "The user is deactivated.",
    "activated": "The user is active again.",
    "removed": "The user is removed.",
}

#: No script runs on these pages, and nothing loads from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def page_link(query: str, page: int) -> str:
    """The list's address for this search and page."""
    return "/users?" + urllib.parse.urlencode(
        {"q": query, "page": page} if query else {"page": page}
    )


def said(message: str) -> str:
    """A validation message as a sentence after the field's label ("Name is required")."""
    return "is required" if message == "required" else message


class PageHandler(tornado.web.RequestHandler):
    """What every page shares: the footer's storage line, notices, error pages."""

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)

    def get_template_namespace(self) -> dict[str, Any]:
        namespace = super().get_template_namespace()
        namespace["storage"] = self.settings["storage"].description
        namespace["notice"] = NOTICES.get(self.get_query_argument("notice", ""))
        namespace["page_link"] = page_link
        namespace["said"] = said
        return namespace

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.render("error.html", status=status_code, reason=self._reason)

    async def load_user(self, user_id: str) -> User:
        """The user with this id, or a 404 page."""
        user = await find_user(user_id)
        if user is None:
            raise tornado.web.HTTPError(http.HTTPStatus.NOT_FOUND, reason="No such user")
        return user

    def render_form(self, user: User | None, submission: Submission | None = None) -> None:
        """The registration form (``user`` is ``None``) or a user's edit form."""
        if submission is not None:
            shown = submission.shown
        elif user is None:
            shown = {}
        else:
            shown = {
                name: "" if (v := getattr(user, name)) is None else str(v) for name in EDITABLE
            }
        self.render(
            "form.html",
            user=user,
            shown=shown,
            errors={} if submission is None else submission.errors,
        )

    def form_submission(self) -> Submission:
        return from_form({name: self.get_body_argument(name, "") for name in EDITABLE})

    def refuse(self, user: User | None, submission: Submission, status: int) -> None:
        self.set_status(status)
        self.render_form(user, submission)


class HomeHandler(PageHandler):
    def get(self) -> None:
        self.redirect("/users")


class RegisterHandler(PageHandler):
    """``/register``: the form, and registering what it sends."""

    def get(self) -> None:
        self.render_form(None)

    async def post(self) -> None:
        submission = self.form_submission()
        if submission.errors:
            self.refuse(None, submission, http.HTTPStatus.BAD_REQUEST)
            return
        user = User(**{k: v for k, v in submission.values.items() if v is not None})
        try:
            await user.save()
        except DuplicateKeyError:
            submission.errors["email"] = DUPLICATE_EMAIL
            self.refuse(None, submission, http.HTTPStatus.CONFLICT)
            return
        self.redirect(f"/users/{user._id}?notice=registered", status=http.HTTPStatus.SEE_OTHER)


class UsersHandler(PageHandler):
    """``/users?q=text&page=2``: who registered, a page at a time."""

    async def get(self) -> None:
        try:
            page = int(self.get_query_argument("page", "1"))
        except ValueError:
            page = 1
        listing = await list_users(
            self.get_query_argument("q", ""), page, self.settings["page_size"]
        )
        self.render("users.html", listing=listing)


class UserHandler(PageHandler):
    """``/users/<id>``: one user."""

    async def get(self, user_id: str) -> None:
        self.render("user.html", user=await self.load_user(user_id))


class EditHandler(PageHandler):
    """``/users/<id>/edit``: the form filled in, and saving what changed."""

    async def get(self, user_id: str) -> None:
        self.render_form(await self.load_user(user_id))

    async def post(self, user_id: str) -> None:
        user = await self.load_user(user_id)
        submission = self.form_submission()
        if submission.errors:
            self.refuse(user, submission, http.HTTPStatus.BAD_REQUEST)
            return
        for name, value in submission.values.items():
            setattr(user, name, value)
        try:
            await user.save()  # $set / $unset of what changed
        except DuplicateKeyError:
            submission.errors["email"] = DUPLICATE_EMAIL
            self.refuse(user, submission, http.HTTPStatus.CONFLICT)
            return
        except DocumentNotFoundError:  # removed since it was loaded
            raise tornado.web.HTTPError(http.HTTPStatus.NOT_FOUND, reason="No such user") from None
        self.redirect(f"/users/{user._id}?notice=saved", status=http.HTTPStatus.SEE_OTHER)


class ActiveHandler(PageHandler):
    """``/users/<id>/deactivate`` and ``/users/<id>/activate``."""

    async def post(self, user_id: str, action: str) -> None:
        user = await self.load_user(user_id)
        user.active = action == "activate"
        try:
            await user.save()
        except DocumentNotFoundError:
            raise tornado.web.HTTPError(http.HTTPStatus.NOT_FOUND, reason="No such user") from None
        self.redirect(f"/users/{user._id}?notice={action}d", status=http.HTTPStatus.SEE_OTHER)


class RemoveHandler(PageHandler):
    """``/users/<id>/remove``: delete the user for good."""

    async def post(self, user_id: str) -> None:
        user = await self.load_user(user_id)
        await user.remove()
        self.redirect("/users?notice=removed", status=http.HTTPStatus.SEE_OTHER)


class NotFoundHandler(PageHandler):
    """Any other address: a 404 page."""

    def prepare(self) -> None:
        raise tornado.web.HTTPError(http.HTTPStatus.NOT_FOUND)
