"""The other scalar fields: dates, booleans, ObjectIds and UUIDs.

Generic in the attribute's type as the string fields are: ``DateTimeField()``
reads as ``datetime | None``, ``DateTimeField(required=True)`` as ``datetime``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, TypeVar, Unpack, overload

from bson import Binary, ObjectId
from bson.binary import UuidRepresentation

from ._field import Default, Field, FieldOptions

__all__ = ["BooleanField", "DateTimeField", "ObjectIdField", "UuidField"]

T = TypeVar("T")


class DateTimeField(Field[T]):
    """A ``datetime``, stored as a BSON date: milliseconds since the epoch, UTC.
    Microseconds are cut to milliseconds on assignment, so a document equals
    itself reloaded. (Naive datetimes are taken as UTC, as BSON does; the
    client returns naive UTC unless its codec options say ``tz_aware``.)"""

    @overload
    def __init__(
        self: DateTimeField[datetime],
        *,
        required: Literal[True],
        default: Default[datetime] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: DateTimeField[datetime],
        *,
        required: bool = False,
        default: Default[datetime],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: DateTimeField[datetime | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)

    def validate(self, value: Any, deep: bool = False) -> Any:
        if type(value) is datetime and not value.microsecond % 1000 and not self._checks:
            return value
        return super().validate(value, deep)

    def inline_check(self, value: str, ref: str, scope: dict[str, Any]) -> str | None:
        if self._checks:
            return None
        scope[ref] = datetime
        return f"type({value}) is {ref} and not {value}.microsecond % 1000"

    def coerce(self, value: Any) -> Any:
        if isinstance(value, datetime):
            extra = value.microsecond % 1000
            return value.replace(microsecond=value.microsecond - extra) if extra else value
        raise ValueError(f"must be a datetime, not {type(value).__name__}")

    def to_python(self, value: Any) -> datetime:
        return value  # type: ignore[no-any-return]


class BooleanField(Field[T]):
    """``True`` or ``False`` (nothing else is taken for one)."""

    plain_type = bool

    @overload
    def __init__(
        self: BooleanField[bool],
        *,
        required: Literal[True],
        default: Default[bool] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: BooleanField[bool],
        *,
        required: bool = False,
        default: Default[bool],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: BooleanField[bool | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)

    def coerce(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        raise ValueError(f"must be a boolean, not {type(value).__name__}")

    def to_python(self, value: Any) -> bool:
        return value  # type: ignore[no-any-return]


class ObjectIdField(Field[T]):
    """A BSON ObjectId; its 24-hex-digit string form is taken too (an id from a
    URL). A model without an ``_id`` field gets ``_id = ObjectIdField()``, and an
    insert gives a document without one a new ObjectId."""

    plain_type = ObjectId

    @overload
    def __init__(
        self: ObjectIdField[ObjectId],
        *,
        required: Literal[True],
        default: Default[ObjectId] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ObjectIdField[ObjectId],
        *,
        required: bool = False,
        default: Default[ObjectId],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: ObjectIdField[ObjectId | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)

    def coerce(self, value: Any) -> Any:
        if isinstance(value, ObjectId):
            return value
        if isinstance(value, str) and ObjectId.is_valid(value):
            return ObjectId(value)
        raise ValueError(f"must be an ObjectId, not {type(value).__name__}")

    def to_python(self, value: Any) -> ObjectId:
        return value  # type: ignore[no-any-return]


class UuidField(Field[T]):
    """A ``uuid.UUID``, stored as BSON binary subtype 4 (the standard
    representation). Its string form is taken too; stored subtype 3 (the legacy
    Python representation) is read as well."""

    converts = True
    stores_as_is = False
    plain_type = uuid.UUID

    @overload
    def __init__(
        self: UuidField[uuid.UUID],
        *,
        required: Literal[True],
        default: Default[uuid.UUID] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: UuidField[uuid.UUID],
        *,
        required: bool = False,
        default: Default[uuid.UUID],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: UuidField[uuid.UUID | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)

    def coerce(self, value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, Binary) and value.subtype in (3, 4):
            return self.to_python(value)
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a UUID") from None
        raise ValueError(f"must be a UUID, not {type(value).__name__}")

    def to_python(self, value: Any) -> uuid.UUID:
        if isinstance(value, Binary):
            if value.subtype == 4:
                return value.as_uuid()
            if value.subtype == 3:
                return value.as_uuid(UuidRepresentation.PYTHON_LEGACY)
        return value  # type: ignore[no-any-return]

    def to_mongo(self, value: Any) -> Any:
        return Binary.from_uuid(value)
