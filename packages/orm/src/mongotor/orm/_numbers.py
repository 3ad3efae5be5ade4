"""Number fields: integers (any size up to 64 bits, or always 64-bit), floats
and decimals (stored as Decimal128), each with ``min_value`` / ``max_value``.

Generic in the attribute's type as the string fields are: ``IntegerField()``
reads as ``int | None``, ``IntegerField(required=True)`` as ``int``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal, TypeVar, Unpack, overload

from bson import Decimal128, Int64

from ._field import Default, Field, FieldOptions

__all__ = ["DecimalField", "FloatField", "IntegerField", "LongField"]

T = TypeVar("T")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class _Bounded(Field[T]):
    """A number between ``min_value`` and ``max_value`` (both included)."""

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        min_value: Any = None,
        max_value: Any = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        super().__init__(required=required, default=default, **options)
        self.min_value = min_value
        self.max_value = max_value
        if min_value is not None or max_value is not None:
            self._constrained()

    def check(self, value: Any) -> None:
        if self.min_value is not None and value < self.min_value:
            raise ValueError(f"must be at least {self.min_value}")
        if self.max_value is not None and value > self.max_value:
            raise ValueError(f"must be at most {self.max_value}")


class IntegerField(_Bounded[T]):
    """An integer, stored as a 32- or 64-bit BSON integer as its size needs (a
    ``bool`` is refused; so is anything beyond 64 bits)."""

    @overload
    def __init__(
        self: IntegerField[int],
        *,
        required: Literal[True],
        default: Default[int] | None = None,
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: IntegerField[int],
        *,
        required: bool = False,
        default: Default[int],
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: IntegerField[int | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        super().__init__(
            required=required,
            default=default,
            min_value=min_value,
            max_value=max_value,
            **options,
        )

    def validate(self, value: Any, deep: bool = False) -> Any:
        if type(value) is int and not self._checks and _INT64_MIN <= value <= _INT64_MAX:
            return value
        return super().validate(value, deep)

    def inline_check(self, value: str, ref: str, scope: dict[str, Any]) -> str | None:
        if self._checks:
            return None
        return f"type({value}) is int and {_INT64_MIN} <= {value} <= {_INT64_MAX}"

    def coerce(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if _INT64_MIN <= value <= _INT64_MAX:
                return value
            raise ValueError("must fit in 64 bits")
        raise ValueError(f"must be an integer, not {type(value).__name__}")

    def to_python(self, value: Any) -> int:
        return value  # type: ignore[no-any-return]


class LongField(IntegerField[T]):
    """An integer always stored as a 64-bit BSON integer (``Int64``)."""

    stores_as_is = False

    @overload
    def __init__(
        self: LongField[int],
        *,
        required: Literal[True],
        default: Default[int] | None = None,
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: LongField[int],
        *,
        required: bool = False,
        default: Default[int],
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: LongField[int | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        min_value: int | None = None,
        max_value: int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        _Bounded.__init__(
            self,
            required=required,
            default=default,
            min_value=min_value,
            max_value=max_value,
            **options,
        )

    def to_mongo(self, value: Any) -> Any:
        return value if type(value) is Int64 else Int64(value)


class FloatField(_Bounded[T]):
    """A float, stored as a BSON double; an int is taken as its float."""

    plain_type = float

    stores_as_is = False

    @overload
    def __init__(
        self: FloatField[float],
        *,
        required: Literal[True],
        default: Default[float] | None = None,
        min_value: float | None = None,
        max_value: float | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: FloatField[float],
        *,
        required: bool = False,
        default: Default[float],
        min_value: float | None = None,
        max_value: float | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: FloatField[float | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        min_value: float | None = None,
        max_value: float | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        min_value: float | None = None,
        max_value: float | None = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        super().__init__(
            required=required,
            default=default,
            min_value=min_value,
            max_value=max_value,
            **options,
        )

    def coerce(self, value: Any) -> Any:
        if type(value) is float:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ValueError(f"must be a number, not {type(value).__name__}")

    def to_python(self, value: Any) -> float:
        return value  # type: ignore[no-any-return]

    def to_mongo(self, value: Any) -> Any:
        # An int appended in place to a list of floats is stored as a double too.
        return value if type(value) is float else float(value)

    def inline_write(
        self, value: str, ref: str, scope: dict[str, Any], store: str
    ) -> list[str] | None:
        # to_mongo, inline: what the field holds is a float (stored as it is),
        # unless it was read from JSON (from_json) as an int.
        return [f"if type({value}) is not float:", f"    {value} = float({value})", f"    {store}"]


class DecimalField(_Bounded[T]):
    """A ``decimal.Decimal``, stored as BSON Decimal128 (34 significant digits),
    between ``min_value`` and ``max_value``. An int, a numeric string or a
    ``Decimal128`` is taken as its Decimal; a float is refused (it is inexact)."""

    converts = True
    stores_as_is = False

    @overload
    def __init__(
        self: DecimalField[Decimal],
        *,
        required: Literal[True],
        default: Default[Decimal] | None = None,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: DecimalField[Decimal],
        *,
        required: bool = False,
        default: Default[Decimal],
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    @overload
    def __init__(
        self: DecimalField[Decimal | None],
        *,
        required: Literal[False] = False,
        default: None = None,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None: ...

    def __init__(
        self,
        *,
        required: bool = False,
        default: Any = None,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        **options: Unpack[FieldOptions],
    ) -> None:
        super().__init__(
            required=required,
            default=default,
            min_value=min_value,
            max_value=max_value,
            **options,
        )
        self._constrained()  # a Decimal must also fit in a Decimal128

    def coerce(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return value
        if isinstance(value, Decimal128):
            return value.to_decimal()
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        if isinstance(value, str):
            try:
                return Decimal(value)
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a decimal number") from None
        raise ValueError(f"must be a Decimal, not {type(value).__name__}")

    def check(self, value: Any) -> None:
        if not value.is_finite():
            raise ValueError("must be a finite number")
        try:
            Decimal128(value)
        except ArithmeticError:  # decimal's Inexact / Overflow: more than 34 digits
            raise ValueError("cannot be stored exactly as a Decimal128 (34 digits)") from None
        super().check(value)

    def to_python(self, value: Any) -> Decimal:
        if isinstance(value, Decimal128):
            return value.to_decimal()
        return value  # type: ignore[no-any-return]

    def to_mongo(self, value: Any) -> Any:
        return Decimal128(value)
