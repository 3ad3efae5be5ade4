"""Aggregation expressions: compile once into a closure, evaluate per document.

This module holds the expression language's core (manual, "Aggregation Expressions"
and "Expression Operators"): field paths (``"$a.b"``), system variables ``$$ROOT``
``$$CURRENT`` ``$$REMOVE``, literals, ``$literal``, object and array literals, and the
operators used by ``$expr`` queries: comparison, boolean, arithmetic, ``$in``,
``$cond`` and ``$ifNull``. The aggregation engine extends :data:`OPERATORS`.

Values follow aggregation semantics, not query semantics: a missing field is
MISSING, which sorts *below* null (``{$eq: ["$nope", null]}`` is false), and arrays
are compared as wholes. Unknown operators raise 168 InvalidPipelineOperator.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import operator
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bson import Decimal128, Int64
from bson.datetime_ms import DatetimeMS

from fakemongo._bsonorder import (
    MISSING,
    Rank,
    StringKey,
    bson_repr,
    compare,
    sort_key,
    type_alias,
    type_rank,
    values_equal,
)
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._numbers import DECIMAL as _DECIMAL
from fakemongo._numbers import DECIMAL128_CONTEXT as _DECIMAL_CONTEXT
from fakemongo._numbers import DOUBLE as _DOUBLE
from fakemongo._numbers import INT as _INT
from fakemongo._numbers import INT32 as _INT32
from fakemongo._numbers import INT64 as _INT64
from fakemongo._numbers import number_kind as _kind
from fakemongo._paths import expr_path_value, parse_field_path

__all__ = [
    "OPERATORS",
    "Evaluator",
    "Scope",
    "bound_variables",
    "compile_expression",
    "evaluate",
    "fixed_args",
    "operand_list",
    "to_bool",
]

Vars = dict[str, Any]
"""Variable bindings during evaluation; always holds "ROOT" and "CURRENT"."""

Evaluator = Callable[[Vars], Any]
"""A compiled expression: bindings in, value out (MISSING when the result is absent)."""

_BUILTIN_VARIABLES = frozenset({"ROOT", "CURRENT", "REMOVE", "NOW", "CLUSTER_TIME"})
_CLOCK_VARIABLES = frozenset({"NOW", "CLUSTER_TIME"})

# Variables an enclosing aggregation stage has in scope (a $lookup's ``let``, the
# command's ``let``, $$NOW) while it compiles or evaluates a nested filter or
# projection that only knows compile_expression/evaluate. Set only around calls
# that do not yield (see bound_variables).
_NO_BINDINGS: Mapping[str, Any] = MappingProxyType({})
_AMBIENT: ContextVar[Mapping[str, Any]] = ContextVar("fakemongo_expr_ambient", default=_NO_BINDINGS)


@contextmanager
def bound_variables(bindings: Mapping[str, Any]) -> Iterator[None]:
    """Make ``bindings`` visible to :func:`compile_expression` and :func:`evaluate`.

    Names become defined for compilation and their values are bound for
    evaluation, for the duration of the ``with`` block (which must not yield).
    """
    token = _AMBIENT.set(bindings)
    try:
        yield
    finally:
        _AMBIENT.reset(token)


def _clock_value(name: str) -> Any:
    """$$NOW when no pipeline bound it (a find's $expr): the current time, in ms."""
    if name == "CLUSTER_TIME":
        # Manual, "Variables in Aggregation Expressions": only replica sets and
        # sharded clusters have a cluster time; the server reports 51144 otherwise.
        raise CommandError(
            ErrorCode.Location51144, "Builtin variable '$$CLUSTER_TIME' is not available"
        )
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class Scope:
    """What an expression is compiled against: a collation and the variables in scope."""

    string_key: StringKey | None = None
    variables: frozenset[str] = field(default=frozenset())

    def with_variables(self, names: frozenset[str]) -> Scope:
        """A nested scope (``$let``, ``$map``...) that also defines ``names``."""
        return Scope(self.string_key, self.variables | names)

    def compile(self, spec: Any) -> Evaluator:
        """Compile an expression; raises CommandError for an invalid one."""
        if isinstance(spec, str) and spec.startswith("$"):
            return self._compile_path(spec)
        if isinstance(spec, list):
            items = [self.compile(item) for item in spec]
            return lambda v: [x for x in (item(v) for item in items) if x is not MISSING]
        if isinstance(spec, Mapping) and type_rank(spec) == Rank.OBJECT:
            return self._compile_object(spec)
        return lambda v: spec

    def _compile_path(self, spec: str) -> Evaluator:
        if spec == "$":
            raise CommandError(ErrorCode.Location16872, "'$' by itself is not a valid FieldPath")
        if not spec.startswith("$$"):
            parts = parse_field_path(spec[1:])
            return lambda v: expr_path_value(v["CURRENT"], parts)
        name, _, rest = spec[2:].partition(".")
        if not name:
            raise CommandError(ErrorCode.Location16869, "empty variable name")
        if name not in _BUILTIN_VARIABLES and name not in self.variables:
            raise CommandError(ErrorCode.Location17276, f"Use of undefined variable: {name}")
        if name == "REMOVE":
            return lambda v: MISSING
        if name in _CLOCK_VARIABLES:
            clock_parts = parse_field_path(rest) if rest else ()
            return lambda v: expr_path_value(
                v[name] if name in v else _clock_value(name), clock_parts
            )
        parts = parse_field_path(rest) if rest else ()
        return lambda v: expr_path_value(v[name], parts)

    def _compile_object(self, spec: Mapping[str, Any]) -> Evaluator:
        names = list(spec)
        if names and names[0].startswith("$"):
            if len(names) > 1:
                raise CommandError(
                    ErrorCode.Location15983,
                    "an expression specification must contain exactly one field, the name of "
                    f"the expression. Found {len(names)} fields in {bson_repr(spec)}, while "
                    f"parsing object {bson_repr(spec)}",
                )
            compile_operator = OPERATORS.get(names[0])
            if compile_operator is None:
                raise CommandError(
                    ErrorCode.InvalidPipelineOperator, f"Unrecognized expression '{names[0]}'"
                )
            return compile_operator(spec[names[0]], self)
        fields = []
        for name in names:
            if "." in name:
                raise CommandError(
                    ErrorCode.Location16412, "FieldPath field names may not contain '.'."
                )
            parse_field_path(name)
            fields.append((name, self.compile(spec[name])))

        def build(v: Vars) -> Any:
            out = {}
            for name, item in fields:
                value = item(v)
                if value is not MISSING:
                    out[name] = value
            return out

        return build


OPERATORS: dict[str, Callable[[Any, Scope], Evaluator]] = {}
"""Operator name -> compiler of its argument. Extend to add operators."""


def compile_expression(spec: Any, string_key: StringKey | None = None) -> Evaluator:
    """Compile an aggregation expression at top level.

    System variables are defined, and so are those of :func:`bound_variables`.
    """
    return Scope(string_key, frozenset(_AMBIENT.get())).compile(spec)


def evaluate(evaluator: Evaluator, doc: Mapping[str, Any]) -> Any:
    """Evaluate a compiled expression against ``doc`` as ``$$ROOT`` and ``$$CURRENT``."""
    return evaluator({**_AMBIENT.get(), "ROOT": doc, "CURRENT": doc})


def to_bool(value: Any) -> bool:
    """Aggregation truthiness: false, null, missing and numeric zero are false."""
    if value is None or value is MISSING or value is False:
        return False
    if type_rank(value) == Rank.NUMBER:
        if isinstance(value, Decimal128):
            return not value.to_decimal().is_zero()
        return bool(value != 0)
    return True


def operand_list(args: Any) -> list[Any]:
    """An operator's arguments: an array as is, any other value as one argument."""
    return list(args) if isinstance(args, list) else [args]


def fixed_args(name: str, args: Any, count: int) -> list[Any]:
    """The arguments of an operator taking exactly ``count``; raises 16020 otherwise."""
    operands = operand_list(args)
    if len(operands) != count:
        raise CommandError(
            ErrorCode.Location16020,
            f"Expression {name} takes exactly {count} arguments. {len(operands)} were passed in.",
        )
    return operands


def _operator(name: str) -> Callable[[Callable[[Any, Scope], Evaluator]], Any]:
    def register(compile_operator: Callable[[Any, Scope], Evaluator]) -> Any:
        OPERATORS[name] = compile_operator
        return compile_operator

    return register


@_operator("$literal")
def _literal(args: Any, scope: Scope) -> Evaluator:
    return lambda v: args


# ---------------------------------------------------------------- comparison

_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def _comparison(name: str, test: Callable[[int, int], bool]) -> None:
    def compile_comparison(args: Any, scope: Scope) -> Evaluator:
        left, right = (scope.compile(arg) for arg in fixed_args(name, args, 2))
        string_key = scope.string_key
        return lambda v: test(compare(left(v), right(v), string_key), 0)

    OPERATORS[name] = compile_comparison


for _name, _test in _COMPARISONS.items():
    _comparison(_name, _test)


@_operator("$cmp")
def _cmp(args: Any, scope: Scope) -> Evaluator:
    left, right = (scope.compile(arg) for arg in fixed_args("$cmp", args, 2))
    return lambda v: compare(left(v), right(v), scope.string_key)


# ---------------------------------------------------------------- boolean


@_operator("$and")
def _and(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in operand_list(args)]
    return lambda v: all(to_bool(item(v)) for item in items)


@_operator("$or")
def _or(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in operand_list(args)]
    return lambda v: any(to_bool(item(v)) for item in items)


@_operator("$not")
def _not(args: Any, scope: Scope) -> Evaluator:
    (item,) = (scope.compile(arg) for arg in fixed_args("$not", args, 1))
    return lambda v: not to_bool(item(v))


# ---------------------------------------------------------------- conditional


@_operator("$cond")
def _cond(args: Any, scope: Scope) -> Evaluator:
    if isinstance(args, Mapping) and type_rank(args) == Rank.OBJECT:
        for key in args:
            if key not in ("if", "then", "else"):
                raise CommandError(
                    ErrorCode.Location17083, f"Unrecognized parameter to $cond: {key}"
                )
        for key, code in (
            ("if", ErrorCode.Location17080),
            ("then", ErrorCode.Location17081),
            ("else", ErrorCode.Location17082),
        ):
            if key not in args:
                raise CommandError(code, f"Missing '{key}' parameter to $cond")
        operands = [args["if"], args["then"], args["else"]]
    else:
        operands = fixed_args("$cond", args, 3)
    test, then, otherwise = (scope.compile(arg) for arg in operands)
    return lambda v: then(v) if to_bool(test(v)) else otherwise(v)


@_operator("$ifNull")
def _if_null(args: Any, scope: Scope) -> Evaluator:
    operands = operand_list(args)
    if len(operands) < 2:
        raise CommandError(
            ErrorCode.Location1257300,
            f"$ifNull needs at least two arguments, had: {len(operands)}",
        )
    *candidates, fallback = (scope.compile(arg) for arg in operands)

    def if_null(v: Vars) -> Any:
        for candidate in candidates:
            value = candidate(v)
            if value is not None and value is not MISSING:
                return value
        return fallback(v)

    return if_null


@_operator("$in")
def _in(args: Any, scope: Scope) -> Evaluator:
    needle, haystack = (scope.compile(arg) for arg in fixed_args("$in", args, 2))

    def contains(v: Vars) -> bool:
        array = haystack(v)
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location40081,
                f"$in requires an array as a second argument, found: {type_alias(array)}",
            )
        value = needle(v)
        return any(values_equal(value, item, scope.string_key) for item in array)

    return contains


# ---------------------------------------------------------------- arithmetic


def _to_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    return decimal.Decimal(int(value))


def _number(kind: int, exact: Any) -> Any:
    """Box an arithmetic result in the widest operand type, widening on overflow."""
    if kind == _DECIMAL:
        return Decimal128(_DECIMAL_CONTEXT.create_decimal(exact))
    if kind == _DOUBLE:
        return float(exact)
    if kind == _INT and _INT32[0] <= exact <= _INT32[1]:
        return int(exact)
    if _INT64[0] <= exact <= _INT64[1]:
        return Int64(exact)
    return float(exact)  # int64 overflow: the server falls back to double


def _fold(kind: int, values: list[Any], step: Callable[[Any, Any], Any], start: int) -> Any:
    if kind == _DECIMAL:
        with decimal.localcontext(_DECIMAL_CONTEXT):
            total: Any = decimal.Decimal(start)
            for value in values:
                total = step(total, _to_decimal(value))
        return _number(kind, total)
    total = float(start) if kind == _DOUBLE else start
    for value in values:
        total = step(total, float(value) if kind == _DOUBLE else int(value))
    return _number(kind, total)


def _is_date(value: Any) -> bool:
    return type_rank(value) == Rank.DATE


def _shift_date(date: Any, millis: Any, name: str) -> Any:
    if isinstance(millis, Decimal128):
        millis = millis.to_decimal()
    try:
        offset = round(millis)
        if isinstance(date, DatetimeMS):
            return DatetimeMS(int(date) + offset)
        return date + datetime.timedelta(milliseconds=offset)
    except (ValueError, OverflowError, decimal.InvalidOperation):
        raise CommandError(ErrorCode.Overflow, f"date overflow in {name}") from None


def _nullish(value: Any) -> bool:
    return value is None or value is MISSING


@_operator("$add")
def _add(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in operand_list(args)]

    def add(v: Vars) -> Any:
        numbers, date = [], None
        for item in items:
            value = item(v)
            if _nullish(value):
                return None
            if _is_date(value):
                if date is not None:
                    raise CommandError(
                        ErrorCode.Location16612, "only one date allowed in an $add expression"
                    )
                date = value
            elif type_rank(value) == Rank.NUMBER:
                numbers.append(value)
            else:
                raise CommandError(
                    ErrorCode.TypeMismatch,
                    f"$add only supports numeric or date types, not {type_alias(value)}",
                )
        kind = max((_kind(n) for n in numbers), default=_INT)
        total = _fold(kind, numbers, operator.add, 0)
        return total if date is None else _shift_date(date, total, "$add")

    return add


@_operator("$multiply")
def _multiply(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in operand_list(args)]

    def multiply(v: Vars) -> Any:
        values = [item(v) for item in items]
        for value in values:
            if _nullish(value):
                return None
            if type_rank(value) != Rank.NUMBER:
                raise CommandError(
                    ErrorCode.TypeMismatch,
                    f"$multiply only supports numeric types, not {type_alias(value)}",
                )
        kind = max((_kind(n) for n in values), default=_INT)
        return _fold(kind, values, operator.mul, 1)

    return multiply


@_operator("$subtract")
def _subtract(args: Any, scope: Scope) -> Evaluator:
    left, right = (scope.compile(arg) for arg in fixed_args("$subtract", args, 2))

    def subtract(v: Vars) -> Any:
        lhs, rhs = left(v), right(v)
        if _nullish(lhs) or _nullish(rhs):
            return None
        lhs_number, rhs_number = type_rank(lhs) == Rank.NUMBER, type_rank(rhs) == Rank.NUMBER
        if lhs_number and rhs_number:
            kind = max(_kind(lhs), _kind(rhs))
            return _difference(kind, lhs, rhs)
        if _is_date(lhs) and _is_date(rhs):
            return Int64(_millis_of(lhs) - _millis_of(rhs))
        if _is_date(lhs) and rhs_number:
            return _shift_date(lhs, -_to_decimal(rhs), "$subtract")
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"can't $subtract {type_alias(rhs)} from {type_alias(lhs)}",
        )

    return subtract


def _difference(kind: int, lhs: Any, rhs: Any) -> Any:
    if kind == _DECIMAL:
        with decimal.localcontext(_DECIMAL_CONTEXT):
            return _number(kind, _to_decimal(lhs) - _to_decimal(rhs))
    if kind == _DOUBLE:
        return float(lhs) - float(rhs)
    return _number(kind, int(lhs) - int(rhs))


def _millis_of(date: Any) -> int:
    millis: int = sort_key(date)[1]
    return millis


@_operator("$divide")
def _divide(args: Any, scope: Scope) -> Evaluator:
    left, right = (scope.compile(arg) for arg in fixed_args("$divide", args, 2))

    def divide(v: Vars) -> Any:
        lhs, rhs = left(v), right(v)
        if _nullish(lhs) or _nullish(rhs):
            return None
        if type_rank(lhs) != Rank.NUMBER or type_rank(rhs) != Rank.NUMBER:
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"$divide only supports numeric types, not {type_alias(lhs)} and {type_alias(rhs)}",
            )
        if _kind(lhs) == _DECIMAL or _kind(rhs) == _DECIMAL:
            divisor = _to_decimal(rhs)
            if divisor.is_zero():
                raise CommandError(ErrorCode.BadValue, "can't $divide by zero")
            with decimal.localcontext(_DECIMAL_CONTEXT):
                return _number(_DECIMAL, _to_decimal(lhs) / divisor)
        if rhs == 0:
            raise CommandError(ErrorCode.BadValue, "can't $divide by zero")
        return float(lhs) / float(rhs)

    return divide


# The rest of the language lives in sibling modules that register into OPERATORS.
_EXTENSIONS = (
    "_expr_arith",
    "_expr_string",
    "_expr_array",
    "_expr_set",
    "_expr_date",
    "_expr_dateops",
    "_expr_convert",
    "_expr_misc",
    "_accumulators",
)
for _module in _EXTENSIONS:
    importlib.import_module(f"fakemongo.{_module}")
