"""The Tornado application: its routes and settings."""

from __future__ import annotations

from pathlib import Path

import tornado.web

from .api import ApiNotFoundHandler, UserApiHandler, UsersApiHandler
from .pages import (
    ActiveHandler,
    EditHandler,
    HomeHandler,
    NotFoundHandler,
    RegisterHandler,
    RemoveHandler,
    UserHandler,
    UsersHandler,
)
from .storage import Storage

__all__ = ["PAGE_SIZE", "make_app"]

HERE = Path(__file__).parent

#: Users shown on one page of the list.
PAGE_SIZE = 10

_ID = r"(?P<user_id>[^/]+)"


def make_app(storage: Storage, *, page_size: int = PAGE_SIZE) -> tornado.web.Application:
    """The application over ``storage`` (already open: the models use its Database)."""
    return tornado.web.Application(
        [
            (r"/", HomeHandler),
            (r"/register", RegisterHandler),
            (r"/users", UsersHandler),
            (rf"/users/{_ID}", UserHandler),
            (rf"/users/{_ID}/edit", EditHandler),
            (rf"/users/{_ID}/(?P<action>deactivate|activate)", ActiveHandler),
            (rf"/users/{_ID}/remove", RemoveHandler),
            (r"/api/users", UsersApiHandler),
            (rf"/api/users/{_ID}", UserApiHandler),
            (r"/api/.*", ApiNotFoundHandler),
        ],
        default_handler_class=NotFoundHandler,
        template_path=str(HERE / "templates"),
        static_path=str(HERE / "static"),
        xsrf_cookies=True,
        storage=storage,
        page_size=page_size,
    )
