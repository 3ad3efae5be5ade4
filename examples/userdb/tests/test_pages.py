"""The HTML pages, through real HTTP requests against an embedded fakemongo."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from mongotor.orm.signal import pre_save
from userdb.models import User

from ._support import AppTestCase, field_error, field_value, text

ANA = {"name": "Ana Lima", "email": "ana@example.com", "age": "31", "website": "", "bio": ""}


def utc_now() -> datetime:
    """Now, as the client reads BSON dates back: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class HomeAndRegisterTest(AppTestCase):
    def test_home_redirects_to_the_list(self) -> None:
        response = self.page("/")
        assert response.code == 302
        assert response.headers["Location"] == "/users"

    def test_the_form_has_every_field_an_xsrf_token_and_the_storage_in_the_footer(self) -> None:
        response = self.page("/register")
        assert response.code == 200
        body = response.body.decode()
        for name in ("name", "email", "age", "website", "bio"):
            assert f'name="{name}"' in body
        assert 'name="_xsrf"' in body
        assert self.xsrf_token is not None
        assert f"Storage: embedded fakemongo {self.storage.server.version}" in text(response)  # type: ignore[union-attr]
        assert f"at {self.storage.server.address}, database userdb" in text(response)  # type: ignore[union-attr]

    def test_pages_forbid_scripts_and_framing(self) -> None:
        headers = self.page("/register").headers
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"

    def test_a_form_without_the_xsrf_token_is_refused(self) -> None:
        response = self.post_form("/register", ANA, xsrf=False)
        assert response.code == 403
        assert self.call(User.objects.count()) == 0

    def test_registering_stores_the_user_stamped_by_the_pre_save_receiver(self) -> None:
        before = utc_now().replace(microsecond=0)
        user_id = self.register(**{**ANA, "email": " Ana@Example.COM ", "bio": "Hi.\nMe."})
        stored = self.call(self.db.users.find_one(ObjectId(user_id)))
        assert stored["name"] == "Ana Lima"
        assert stored["email"] == "ana@example.com"  # trimmed and lowercased
        assert stored["age"] == 31
        assert stored["bio"] == "Hi.\nMe."
        assert stored["active"] is True
        assert "website" not in stored  # left blank: not stored at all
        assert before <= stored["created"] <= utc_now() + timedelta(seconds=1)

        page = self.page(f"/users/{user_id}?notice=registered")
        assert page.code == 200
        shown = text(page)
        assert "Thank you for registering." in shown
        assert "Ana Lima" in shown and "ana@example.com" in shown and "31" in shown
        assert "Registered " + stored["created"].strftime("%Y-%m-%d %H:%M") + " UTC" in shown

    def test_a_bad_form_shows_every_error_next_to_its_field_and_keeps_the_values(self) -> None:
        sent = {
            "name": "  ",
            "email": "not-an-address",
            "age": "thirty",
            "website": "example.com/<me>",
            "bio": "x" * 501,
        }
        response = self.post_form("/register", sent)
        assert response.code == 400
        assert "Please correct the fields marked below." in text(response)
        assert field_error(response, "name") == "Name is required"
        assert field_error(response, "email") == "E-mail must be an e-mail address"
        assert field_error(response, "age") == "Age must be a whole number"
        assert field_error(response, "website") == (
            "Website must be an absolute URL (http, https) with a host"
        )
        assert field_error(response, "bio") == "About you must be at most 500 characters long"
        for name, value in sent.items():
            # Kept (Tornado strips form arguments), and escaped in the page.
            assert field_value(response, name) == value.strip()
        assert "<me>" not in response.body.decode()
        assert self.call(User.objects.count()) == 0

    def test_an_age_is_written_with_digits_only(self) -> None:
        for typed in ("1_0", "٣", "3.0", "+3"):
            response = self.post_form("/register", {**ANA, "age": typed})
            assert response.code == 400, typed
            assert field_error(response, "age") == "Age must be a whole number"

    def test_the_models_limits_are_the_forms_limits(self) -> None:
        response = self.post_form("/register", {**ANA, "age": "-1", "website": "ftp://x.org"})
        assert response.code == 400
        assert field_error(response, "age") == "Age must be at least 0"
        assert field_error(response, "website") is not None
        assert field_error(response, "name") is None
        assert field_value(response, "name") == "Ana Lima"

    def test_an_address_already_registered_is_refused_next_to_the_email_field(self) -> None:
        self.register(**ANA)
        response = self.post_form("/register", {**ANA, "name": "Other", "email": "ANA@example.com"})
        assert response.code == 409
        assert field_error(response, "email") == "E-mail is already registered"
        assert field_value(response, "name") == "Other"
        assert self.call(User.objects.count()) == 1


class ListTest(AppTestCase):
    def register_many(self, *names: str) -> None:
        for i, name in enumerate(names):
            self.register(name=name, email=f"u{i}@example.com")

    def names(self, path: str) -> list[str]:
        response = self.page(path)
        assert response.code == 200
        return re.findall(
            r'<td><a href="/users/[0-9a-f]{24}">([^<]*)</a></td>', response.body.decode()
        )

    def test_an_empty_list_invites_to_register(self) -> None:
        response = self.page("/users")
        assert "0 users" in text(response)
        assert "Nobody yet. Register ." in text(response)

    def test_users_are_listed_by_name_a_page_at_a_time(self) -> None:
        self.register_many("Eve", "bob", "Dan", "Ana", "Cid", "Fay", "Gil")
        assert self.names("/users") == ["Ana", "Cid", "Dan"]  # then "bob": byte order
        first = self.page("/users").body.decode()
        assert "7 users" in first and "Page 1 of 3" in first
        assert 'rel="next" href="/users?page=2"' in first
        assert 'rel="prev"' not in first
        assert self.names("/users?page=2") == ["Eve", "Fay", "Gil"]
        second = self.page("/users?page=2").body.decode()
        assert 'rel="prev" href="/users?page=1"' in second
        assert 'rel="next" href="/users?page=3"' in second
        assert self.names("/users?page=3") == ["bob"]
        assert 'rel="next"' not in self.page("/users?page=3").body.decode()
        # Past the end is the last page; nonsense is the first.
        assert self.names("/users?page=99") == ["bob"]
        assert self.names("/users?page=zero") == ["Ana", "Cid", "Dan"]
        assert self.names("/users?page=-4") == ["Ana", "Cid", "Dan"]

    def test_one_page_shows_no_page_links(self) -> None:
        self.register_many("Ana")
        body = self.page("/users").body.decode()
        assert "1 user" in text(self.page("/users"))
        assert "Page 1 of 1" not in body

    def test_search_by_name_ignores_case_and_takes_the_text_literally(self) -> None:
        self.register_many("Ana Lima", "Mariana", "Bob", "a.c", "abc", "Lana", "Diana")
        assert self.names("/users?q=ANA") == ["Ana Lima", "Diana", "Lana"]
        assert self.names("/users?q=ANA&page=2") == ["Mariana"]
        page = self.page("/users?q=ana").body.decode()
        assert "4 users whose name contains “ana”" in text(self.page("/users?q=ana"))
        assert 'rel="next" href="/users?q=ana&amp;page=2"' in page
        assert 'value="ana"' in page and 'href="/users">Show all' in page
        assert self.names("/users?q=a.c") == ["a.c"]  # not a regular expression
        assert self.names("/users?q=%20bob%20") == ["Bob"]
        assert self.names("/users?q=zzz") == []

    def test_inactive_users_are_marked(self) -> None:
        self.register_many("Ana")
        user = self.call(User.objects.first())
        self.post_form(f"/users/{user._id}/deactivate", {})
        body = self.page("/users").body.decode()
        assert '<tr class="user inactive">' in body
        assert f'action="/users/{user._id}/activate"' in body


class UserPagesTest(AppTestCase):
    def test_a_profile_shows_the_website_and_the_bio(self) -> None:
        user_id = self.register(
            **{**ANA, "website": "https://ana.example.org/", "bio": "<b>hi</b>"}
        )
        body = self.page(f"/users/{user_id}").body.decode()
        assert '<a href="https://ana.example.org/" rel="nofollow noopener">' in body
        assert "&lt;b&gt;hi&lt;/b&gt;" in body

    def test_an_unknown_or_malformed_id_is_a_404_page(self) -> None:
        for path in (f"/users/{ObjectId()}", "/users/nope", f"/users/{ObjectId()}/edit"):
            response = self.page(path)
            assert response.code == 404, path
            assert "No such user" in text(response)
            assert "Storage: embedded fakemongo" in text(response)
        for path in (f"/users/{ObjectId()}/remove", f"/users/{ObjectId()}/deactivate"):
            assert self.post_form(path, {}).code == 404

    def test_an_unknown_address_is_a_404_page_and_a_wrong_method_a_405(self) -> None:
        response = self.page("/nowhere")
        assert response.code == 404
        assert "There is nothing at this address." in text(response)
        user_id = self.register(**ANA)
        response = self.page(f"/users/{user_id}/remove")  # a GET cannot remove
        assert response.code == 405
        assert "HTTP 405" in text(response)
        assert self.call(User.objects.count()) == 1

    def test_the_edit_form_is_filled_in(self) -> None:
        user_id = self.register(**{**ANA, "bio": "About me"})
        response = self.page(f"/users/{user_id}/edit")
        assert response.code == 200
        assert f'action="/users/{user_id}/edit"' in response.body.decode()
        assert field_value(response, "name") == "Ana Lima"
        assert field_value(response, "age") == "31"
        assert field_value(response, "website") == ""
        assert field_value(response, "bio") == "About me"

    def test_editing_saves_what_changed_and_clears_what_was_emptied(self) -> None:
        user_id = self.register(**ANA)
        response = self.post_form(
            f"/users/{user_id}/edit",
            {**ANA, "name": "Ana L. Lima", "age": "", "website": "http://ana.example"},
        )
        assert response.code == 303
        assert response.headers["Location"] == f"/users/{user_id}?notice=saved"
        stored = self.call(self.db.users.find_one(ObjectId(user_id)))
        assert stored["name"] == "Ana L. Lima"
        assert stored["website"] == "http://ana.example"
        assert "age" not in stored  # $unset
        assert "The changes are saved." in text(self.page(response.headers["Location"]))

    def test_a_bad_edit_is_shown_again_and_nothing_is_saved(self) -> None:
        user_id = self.register(**ANA)
        response = self.post_form(f"/users/{user_id}/edit", {**ANA, "name": "", "email": "x@"})
        assert response.code == 400
        assert field_error(response, "name") == "Name is required"
        assert field_error(response, "email") == "E-mail must be an e-mail address"
        assert field_value(response, "email") == "x@"
        assert self.call(self.db.users.find_one(ObjectId(user_id)))["name"] == "Ana Lima"

    def test_editing_to_an_address_someone_else_has_is_a_conflict(self) -> None:
        self.register(**ANA)
        bob = self.register(name="Bob", email="bob@example.com")
        response = self.post_form(f"/users/{bob}/edit", {**ANA, "name": "Bob"})
        assert response.code == 409
        assert field_error(response, "email") == "E-mail is already registered"
        assert self.call(self.db.users.find_one(ObjectId(bob)))["email"] == "bob@example.com"

    def test_deactivate_and_activate_again(self) -> None:
        user_id = self.register(**ANA)
        response = self.post_form(f"/users/{user_id}/deactivate", {})
        assert response.code == 303
        assert response.headers["Location"] == f"/users/{user_id}?notice=deactivated"
        assert self.call(self.db.users.find_one(ObjectId(user_id)))["active"] is False
        page = text(self.page(response.headers["Location"]))
        assert "The user is deactivated." in page and "Status inactive" in page
        response = self.post_form(f"/users/{user_id}/activate", {})
        assert response.headers["Location"] == f"/users/{user_id}?notice=activated"
        assert self.call(self.db.users.find_one(ObjectId(user_id)))["active"] is True

    def test_remove(self) -> None:
        user_id = self.register(**ANA)
        response = self.post_form(f"/users/{user_id}/remove", {})
        assert response.code == 303
        assert response.headers["Location"] == "/users?notice=removed"
        assert self.call(self.db.users.find_one(ObjectId(user_id))) is None
        page = text(self.page(response.headers["Location"]))
        assert "The user is removed." in page and "0 users" in page

    def test_a_user_removed_while_being_edited_or_deactivated_is_a_404(self) -> None:
        """The user is loaded, then removed (by another request: here a pre_save
        receiver) before the change is written: the save finds nothing to update."""
        user_id = self.register(**ANA)

        async def removed_meanwhile(sender: Any, instance: Any) -> None:
            await self.db.users.delete_one({"_id": instance._id})

        pre_save.connect(User, removed_meanwhile)
        try:
            edit = self.post_form(f"/users/{user_id}/edit", {**ANA, "name": "Gone"})
            assert edit.code == 404
            assert "No such user" in text(edit)
            other = self.register(name="Bob", email="bob@example.com")
            assert self.post_form(f"/users/{other}/deactivate", {}).code == 404
        finally:
            pre_save.disconnect(User, removed_meanwhile)
        assert self.call(User.objects.count()) == 0
