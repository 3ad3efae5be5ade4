"""Turning what a person or an API client sent into a valid User, or into errors.

Both the HTML forms and the JSON API end here, so both report the same messages
for the same mistakes: a dict of field name to message, every error at once.
The model's own validation (``mongotor.orm.ValidationError``) does the checks;
this module only converts form text to values and refuses fields nobody may set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from mongotor.orm import ValidationError

from .models import EDITABLE, User

__all__ = ["DUPLICATE_EMAIL", "Submission", "as_json", "check", "from_form", "from_json"]

#: The message for an e-mail address someone else registered (unique index).
DUPLICATE_EMAIL = "is already registered"

_SETTABLE = (*EDITABLE, "active")
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True)
class Submission:
    """What was sent: ``values`` to write (``None`` clears a field), ``errors``
    by field, and ``shown``, the text to put back in the form's inputs."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)


def check(values: Mapping[str, Any], errors: dict[str, str]) -> None:
    """Add to ``errors`` what the model says of ``values`` (a complete user; the
    constructor reports a required field given as ``None``)."""
    try:
        User(**values)
    except ValidationError as exc:
        for name, message in exc.errors.items():
            errors.setdefault(name, message)


def _text(name: str, value: Any) -> Any:
    """Text as the form and the API both take it: trimmed, blank meaning "not given",
    an e-mail address lowercased (one address, however it was typed). Other
    values are left for the model to judge."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    if name == "email":
        value = value.lower()
    return value or None


def from_form(arguments: Mapping[str, str]) -> Submission:
    """Read the registration / edit form: text inputs, blank meaning "not given"."""
    shown = {name: arguments.get(name, "") for name in EDITABLE}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in EDITABLE:
        text = _text(name, shown[name])
        if name != "age" or text is None:
            values[name] = text
        elif _WHOLE_NUMBER.fullmatch(text):
            values[name] = int(text)
        else:  # int() would also take "1_000" and other digits than 0-9
            errors[name] = "must be a whole number"
    check(values, errors)
    return Submission(values, errors, shown)


def from_json(body: Any) -> Submission:
    """Read an API body: a JSON object of the fields a person fills in, and
    optionally ``active``. A missing field is cleared (POST and PUT both send the
    whole representation); a missing ``active`` is left as it is (true when new)."""
    if not isinstance(body, dict):
        return Submission({}, {"body": "must be a JSON object"})
    errors = {name: "cannot be set" for name in body if name not in _SETTABLE}
    values = {name: _text(name, body.get(name)) for name in EDITABLE}
    if "active" in body:
        values["active"] = body["active"]
        if body["active"] is None:
            errors["active"] = "must be true or false"
    check(values, errors)
    return Submission(values, errors)


def as_json(user: User) -> dict[str, Any]:
    """The API's representation of a user: its id as a string, dates in ISO 8601 UTC."""
    created = user.created
    return {
        "id": str(user._id),
        "name": user.name,
        "email": user.email,
        "age": user.age,
        "website": user.website,
        "bio": user.bio,
        "active": user.active,
        "created": (
            None
            if created is None
            else created.replace(tzinfo=UTC).isoformat(timespec="milliseconds")
        ),
    }
