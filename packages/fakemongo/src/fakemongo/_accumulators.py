"""Accumulators: ``$group``'s ``$sum`` ``$avg`` ``$min`` ``$max`` ``$first`` ``$last``
``$push`` ``$addToSet`` ``$count`` ``$mergeObjects`` ``$stdDevPop`` ``$stdDevSamp``,
and the expression forms of ``$sum`` ``$avg`` ``$min`` ``$max`` ``$stdDevPop``
``$stdDevSamp`` and ``$mergeObjects``.

Manual, "$sum (aggregation)": non-numeric values are ignored; the result has the
widest type summed (int, then long on overflow, then double; decimal wins). The
server sums doubles in double-double precision; here doubles and integers are
summed exactly and rounded once, which agrees with it but for pathological
cancellations. ``$avg`` divides that (rounded) sum by the count, as the server
does. ``$stdDevPop``/``$stdDevSamp`` use Welford's recurrence in doubles, as the
server does. ``$min``/``$max`` ignore null and missing values; ``$first``/``$last``
do not (a missing value is reported as null); ``$push``/``$addToSet`` skip missing.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from bson import Decimal128, Int64

from fakemongo._bsonorder import (
    MISSING,
    Rank,
    StringKey,
    bson_repr,
    compare,
    sort_key,
    type_alias,
    type_rank,
)
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import (
    OPERATORS,
    Evaluator,
    Scope,
    Vars,
    _to_decimal,
    operand_list,
)
from fakemongo._numbers import DECIMAL as _DECIMAL
from fakemongo._numbers import DECIMAL128_CONTEXT as _DECIMAL_CONTEXT
from fakemongo._numbers import DOUBLE as _DOUBLE
from fakemongo._numbers import INT as _INT
from fakemongo._numbers import INT32 as _INT32
from fakemongo._numbers import INT64 as _INT64
from fakemongo._numbers import number_kind as _kind

__all__ = ["ACCUMULATORS", "Accumulator", "Summation", "merge_objects"]


def _numeric(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal128)


class Summation:
    """A running sum with the server's result typing (AccumulatorSum)."""

    __slots__ = ("count", "decimal_total", "exact", "kind", "special")

    def __init__(self) -> None:
        self.kind = _INT
        self.exact = Fraction(0)  # ints and finite doubles, exactly
        self.special: float | None = None  # the sum of the infinite and NaN doubles
        self.decimal_total = decimal.Decimal(0)
        self.count = 0

    def add(self, value: Any) -> None:
        """Add a value; non-numeric values are ignored."""
        if not _numeric(value):
            return
        self.count += 1
        self.kind = max(self.kind, _kind(value))
        if isinstance(value, Decimal128):
            with decimal.localcontext(_DECIMAL_CONTEXT):
                self.decimal_total += value.to_decimal()
        elif isinstance(value, float) and not math.isfinite(value):
            self.special = value if self.special is None else self.special + value
        else:
            self.exact += Fraction(value)

    def double(self) -> float:
        """The non-decimal part as a double (the server's DoubleDoubleSummation)."""
        if self.special is not None:
            return self.special
        try:
            return float(self.exact)
        except OverflowError:
            return math.inf if self.exact > 0 else -math.inf

    def total(self) -> Any:
        """The sum, typed as the server types it."""
        if self.kind == _DECIMAL:
            with decimal.localcontext(_DECIMAL_CONTEXT):
                rest = (
                    decimal.Decimal(self.special)
                    if self.special is not None
                    else decimal.Decimal(self.exact.numerator) / self.exact.denominator
                )
                return Decimal128(_DECIMAL_CONTEXT.create_decimal(self.decimal_total + rest))
        if self.kind == _DOUBLE:
            return self.double()
        whole = int(self.exact)
        if self.kind == _INT and _INT32[0] <= whole <= _INT32[1]:
            return whole
        if _INT64[0] <= whole <= _INT64[1]:
            return Int64(whole)
        return float(whole)

    def average(self) -> Any:
        """The mean of the values added (null when none)."""
        if not self.count:
            return None
        if self.kind == _DECIMAL:
            with decimal.localcontext(_DECIMAL_CONTEXT):
                return Decimal128(
                    _DECIMAL_CONTEXT.create_decimal(_to_decimal(self.total()) / self.count)
                )
        return self.double() / self.count


class Accumulator:
    """One group's state for one accumulator."""

    __slots__ = ()

    def add(self, value: Any) -> None:
        """Fold in the argument's value for one document (MISSING when absent)."""
        raise NotImplementedError

    def result(self) -> Any:
        """The accumulated value (MISSING leaves the field out)."""
        raise NotImplementedError


class _Sum(Accumulator):
    __slots__ = ("sum",)

    def __init__(self, string_key: StringKey | None) -> None:
        self.sum = Summation()

    def add(self, value: Any) -> None:
        self.sum.add(value)

    def result(self) -> Any:
        return self.sum.total()


class _Avg(_Sum):
    __slots__ = ()

    def result(self) -> Any:
        return self.sum.average()


class _StdDev(Accumulator):
    __slots__ = ("count", "m2", "mean")
    sample = False

    def __init__(self, string_key: StringKey | None) -> None:
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, value: Any) -> None:
        if not _numeric(value):
            return
        number = float(value.to_decimal()) if isinstance(value, Decimal128) else float(value)
        self.count += 1
        delta = number - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (number - self.mean)

    def result(self) -> Any:
        divisor = self.count - 1 if self.sample else self.count
        if divisor <= 0:
            return None
        return math.sqrt(self.m2 / divisor)


class _StdDevSamp(_StdDev):
    __slots__ = ()
    sample = True


class _Max(Accumulator):
    __slots__ = ("string_key", "value")
    sense = 1

    def __init__(self, string_key: StringKey | None) -> None:
        self.string_key, self.value = string_key, MISSING

    def add(self, value: Any) -> None:
        if value is None or value is MISSING:
            return
        if self.value is MISSING or compare(value, self.value, self.string_key) * self.sense > 0:
            self.value = value

    def result(self) -> Any:
        return None if self.value is MISSING else self.value


class _Min(_Max):
    __slots__ = ()
    sense = -1


class _First(Accumulator):
    __slots__ = ("seen", "value")

    def __init__(self, string_key: StringKey | None) -> None:
        self.seen, self.value = False, None

    def add(self, value: Any) -> None:
        if not self.seen:
            self.seen, self.value = True, None if value is MISSING else value

    def result(self) -> Any:
        return self.value


class _Last(_First):
    __slots__ = ()

    def add(self, value: Any) -> None:
        self.value = None if value is MISSING else value


class _Push(Accumulator):
    __slots__ = ("values",)

    def __init__(self, string_key: StringKey | None) -> None:
        self.values: list[Any] = []

    def add(self, value: Any) -> None:
        if value is not MISSING:
            self.values.append(value)

    def result(self) -> Any:
        return self.values


class _AddToSet(_Push):
    __slots__ = ("seen", "string_key")

    def __init__(self, string_key: StringKey | None) -> None:
        super().__init__(string_key)
        self.string_key = string_key
        self.seen: set[tuple[Any, ...]] = set()

    def add(self, value: Any) -> None:
        if value is MISSING:
            return
        key = sort_key(value, self.string_key)
        if key not in self.seen:
            self.seen.add(key)
            self.values.append(value)


def merge_objects(target: dict[str, Any], value: Any) -> None:
    """Fold ``value`` into ``target`` as ``$mergeObjects`` does (null/missing ignored)."""
    if value is None or value is MISSING:
        return
    if not isinstance(value, Mapping) or type_rank(value) != Rank.OBJECT:
        raise CommandError(
            ErrorCode.Location40400,
            f"$mergeObjects requires object inputs, but input {bson_repr(value)} is of type "
            f"{type_alias(value)}",
        )
    target.update(value)


class _MergeObjects(Accumulator):
    __slots__ = ("merged",)

    def __init__(self, string_key: StringKey | None) -> None:
        self.merged: dict[str, Any] = {}

    def add(self, value: Any) -> None:
        merge_objects(self.merged, value)

    def result(self) -> Any:
        return self.merged


AccumulatorFactory = Callable[[StringKey | None], Accumulator]

ACCUMULATORS: dict[str, AccumulatorFactory] = {
    "$sum": _Sum,
    "$avg": _Avg,
    "$min": _Min,
    "$max": _Max,
    "$first": _First,
    "$last": _Last,
    "$push": _Push,
    "$addToSet": _AddToSet,
    "$mergeObjects": _MergeObjects,
    "$stdDevPop": _StdDev,
    "$stdDevSamp": _StdDevSamp,
}
"""Accumulator name -> factory of a group's state (``$count`` is ``$sum: 1``)."""


# ---------------------------------------------------------------- expression forms


def _expression_form(name: str, factory: AccumulatorFactory) -> None:
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        items = [scope.compile(arg) for arg in operand_list(args)]

        def evaluate(v: Vars) -> Any:
            state = factory(scope.string_key)
            if len(items) == 1:
                value = items[0](v)
                # Manual, "$sum": a single array operand is summed element-wise.
                for item in value if isinstance(value, list) else [value]:
                    state.add(item)
            else:
                for item in items:
                    state.add(item(v))
            return state.result()

        return evaluate

    OPERATORS[name] = compile_operator


for _name in ("$sum", "$avg", "$min", "$max", "$stdDevPop", "$stdDevSamp"):
    _expression_form(_name, ACCUMULATORS[_name])


def _merge_objects_expression(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in operand_list(args)]

    def evaluate(v: Vars) -> Any:
        merged: dict[str, Any] = {}
        for item in items:
            merge_objects(merged, item(v))
        return merged

    return evaluate


OPERATORS["$mergeObjects"] = _merge_objects_expression
