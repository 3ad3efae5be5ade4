"""String fields: plain (with a regex and length bounds), e-mail, URL, MD5 and
SHA-1 digests.

Each field is generic in its attribute's type: ``StringField()`` reads as
``str | None``; ``StringField(required=True)`` or ``StringField(default="")``
as ``str`` (the overloads tell a type checker).
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypeVar, Unpack, overload
from urllib.parse import urlsplit

from ._field import Default, Field, FieldOptions

__all__ = ["EmailField", "Md5Field", "Sha1Field", "StringField", "UrlField"]

T = TypeVar("T")


class StringField(Field[T]):
    """A string. ``regex`` must match the whole value (``re.fullmatch``);
    ``min_length`` / ``max_length`` bound its length."""

    plain_type = str

    @overload
    def __init__(
        self: StringField[str],
        *,
        required: Literal[True],
        default: Default[str] | None = None,
        regex: str | re.Pattern[str] | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: StringField[str],
        *,
        required: bool = False,
        default: Default[str],
        regex: str | re.Pattern[str] | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: StringField[str | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        regex: str | re.Pattern[str] | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        regex: str | re.Pattern[str] | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        Field.__init__(self, required=required, default=default, **options)
        self._rules(regex, min_length, max_length)

    def _rules(
        self, regex: str | re.Pattern[str] | None, min_length: int | None, max_length: int | None
    ) -> None:
        #: The compiled ``regex`` (``None`` without one).
        self.pattern_rule = re.compile(regex) if isinstance(regex, str) else regex
        self.min_length = min_length
        self.max_length = max_length
        if regex is not None or min_length is not None or max_length is not None:
            self._constrained()

    def coerce(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        raise ValueError(f"must be a string, not {type(value).__name__}")

    def check(self, value: Any) -> None:
        if self.min_length is not None and len(value) < self.min_length:
            raise ValueError(f"must be at least {self.min_length} characters long")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters long")
        rule = self.pattern_rule
        if rule is not None and rule.fullmatch(value) is None:
            raise ValueError(self._mismatch(rule))

    def _mismatch(self, regex: re.Pattern[str]) -> str:
        return f"must match {regex.pattern!r}"

    def to_python(self, value: Any) -> str:
        return value  # type: ignore[no-any-return]


class _FixedForm(StringField[T]):
    """A string of one form: subclasses give its pattern and description."""

    pattern: re.Pattern[str]
    description: str

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        Field.__init__(self, required=required, default=default, **options)
        self._rules(self.pattern, None, None)

    def _mismatch(self, regex: re.Pattern[str]) -> str:
        return f"must be {self.description}"


class EmailField(_FixedForm[T]):
    """An e-mail address (``local@domain.tld``, without spaces)."""

    pattern = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
    description = "an e-mail address"

    @overload
    def __init__(
        self: EmailField[str],
        *,
        required: Literal[True],
        default: Default[str] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: EmailField[str],
        *,
        required: bool = False,
        default: Default[str],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: EmailField[str | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)


class UrlField(_FixedForm[T]):
    """An absolute URL with a host, whose scheme is one of ``schemes``
    (``http`` and ``https`` by default)."""

    pattern = re.compile(r"\S+")
    description = "a URL without spaces"

    @overload
    def __init__(
        self: UrlField[str],
        *,
        required: Literal[True],
        default: Default[str] | None = None,
        schemes: tuple[str, ...] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: UrlField[str],
        *,
        required: bool = False,
        default: Default[str],
        schemes: tuple[str, ...] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: UrlField[str | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        schemes: tuple[str, ...] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        schemes: tuple[str, ...] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        _FixedForm.__init__(self, required=required, default=default, **options)
        self.schemes = schemes or ("http", "https")

    def check(self, value: Any) -> None:
        super().check(value)
        parts = urlsplit(value)
        if parts.scheme not in self.schemes or not parts.netloc:
            raise ValueError(f"must be an absolute URL ({', '.join(self.schemes)}) with a host")


class Md5Field(_FixedForm[T]):
    """An MD5 digest: 32 hexadecimal digits."""

    pattern = re.compile(r"[0-9a-fA-F]{32}")
    description = "an MD5 digest (32 hexadecimal digits)"

    @overload
    def __init__(
        self: Md5Field[str],
        *,
        required: Literal[True],
        default: Default[str] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Md5Field[str],
        *,
        required: bool = False,
        default: Default[str],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Md5Field[str | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)


class Sha1Field(_FixedForm[T]):
    """A SHA-1 digest: 40 hexadecimal digits."""

    pattern = re.compile(r"[0-9a-fA-F]{40}")
    description = "a SHA-1 digest (40 hexadecimal digits)"

    @overload
    def __init__(
        self: Sha1Field[str],
        *,
        required: Literal[True],
        default: Default[str] | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Sha1Field[str],
        *,
        required: bool = False,
        default: Default[str],
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: Sha1Field[str | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self, *, required: bool = False, default: Any = None, **options: Unpack[FieldOptions]
    ) -> None:
        super().__init__(required=required, default=default, **options)
