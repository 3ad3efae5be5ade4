"""Query filters: compile a filter document once into a matcher, then match many.

Semantics follow the server's MatchExpression (manual, "Query and Projection
Operators"): a path predicate is tried against every candidate that
:func:`fakemongo._paths.candidates` yields; comparisons are type-bracketed (``$gt: 5``
never matches a string; only MinKey/MaxKey cross brackets, and null equals missing);
``$ne``/``$nin``/``$not``/``$exists: false`` negate the whole path. A match also
reports the array index it went through, as the server's MatchDetails do, for
positional ``$`` projections and updates (:meth:`Matcher.match_index`).

Invalid filters raise :class:`CommandError` with MongoDB's code and wording; what
cannot be emulated (``$where``, ``$text``, geo operators) raises 115.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bson import DBRef, Decimal128, Int64

from fakemongo._bsonorder import MISSING, Rank, StringKey, is_nan, sort_key, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import compile_expression, evaluate, to_bool
from fakemongo._jsonschema import compile_schema
from fakemongo._matchops import (
    ArrayTest,
    Bits,
    Details,
    FieldExpr,
    Node,
    Pred,
    all_of,
    and_node,
    array_expr,
    bit_positions,
    bits_pred,
    coerce_long,
    is_regex,
    leaf,
    negate,
    nor_node,
    or_node,
    parse_integer,
    parse_type_set,
    path_node,
    regex_of,
    regex_pred,
    type_pred,
)

__all__ = ["Matcher", "compile_filter", "is_operator_document"]


@dataclass(frozen=True, slots=True)
class Matcher:
    """A compiled filter; reusable and safe to share."""

    _node: Node

    def matches(self, doc: Mapping[str, Any]) -> bool:
        """Whether ``doc`` matches the filter."""
        return self._node(doc, None)

    def match_index(self, doc: Mapping[str, Any]) -> tuple[bool, int | None]:
        """Whether ``doc`` matches, and the array index the match went through.

        The index is the server's ``elemMatchKey``: set by the last matching path
        predicate that went through an array (the outermost array's index wins),
        never by ``$or``, ``$nor`` or a negation. ``None`` when no array was involved.
        """
        details: Details = [None]
        matched = self._node(doc, details)
        return matched, details[0] if matched else None


def compile_filter(filter: Mapping[str, Any], string_key: StringKey | None = None) -> Matcher:
    """Compile a filter document; ``string_key`` is a collation's string key.

    Raises CommandError with the server's code and wording (2 BadValue, 9
    FailedToParse, 14 TypeMismatch, 51091, 51108...) for an invalid filter, and
    115 CommandNotSupported for ``$where``, ``$text`` and geo operators.
    """
    return Matcher(_Parser(string_key).parse(filter, _Level.TOP))


class _Level(enum.Enum):
    TOP = 0  # the filter itself and its $and/$or/$nor children
    SUB = 1  # inside an $elemMatch object


# Operators the server parses without a path (expression_parser.cpp's pathless map).
_PATHLESS = frozenset(
    {"$and", "$or", "$nor", "$expr", "$jsonSchema", "$comment", "$where", "$text"}
    | {"$alwaysTrue", "$alwaysFalse", "$id", "$ref", "$db"}
)
_GEO = frozenset({"$near", "$nearSphere", "$geoNear", "$geoWithin", "$geoIntersects", "$within"})
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
}
_PATH_OPERATORS = frozenset(
    {"$eq", "$ne", "$in", "$nin", "$all", "$elemMatch", "$exists", "$type", "$mod", "$size"}
    | {"$regex", "$options", "$not"}
    | set(_COMPARISONS)
    | {bits.value for bits in Bits}
    | _GEO
)


def _as_object(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, DBRef):
        doc: Mapping[str, Any] = value.as_doc()
        return doc
    return value if isinstance(value, Mapping) else None


def is_operator_document(value: Any, *, incomplete_dbref: bool = False) -> bool:
    """The server's isExpressionDocument: a non-empty object whose first field is
    ``$``-prefixed and which is not a DBRef (``$ref`` and ``$id``; with
    ``incomplete_dbref`` any of ``$ref``/``$id``/``$db``)."""
    if not isinstance(value, Mapping) or not value:
        return False
    if not next(iter(value)).startswith("$"):
        return False
    if incomplete_dbref:
        return not ({"$ref", "$id", "$db"} & value.keys())
    return not ("$ref" in value and "$id" in value)


def _true_value(value: Any) -> bool:
    """BSONElement::trueValue: false for false, null and numeric zero."""
    if value is None or value is False:
        return False
    if type_rank(value) == Rank.NUMBER:
        return not (value.to_decimal().is_zero() if isinstance(value, Decimal128) else value == 0)
    return True


def _size_argument(value: Any) -> int:
    if isinstance(value, Int64):
        if not -(2**31) <= value < 2**31:
            raise CommandError(
                ErrorCode.BadValue, "$size must be representable as a 32-bit integer"
            )
        size = int(value)
    elif type(value) is int:
        size = value
    elif isinstance(value, float):
        if not (value.is_integer() and -(2**31) <= value < 2**31):
            raise CommandError(ErrorCode.BadValue, "$size must be a whole number")
        size = int(value)
    else:
        raise CommandError(ErrorCode.BadValue, "$size needs a number")
    if size < 0:
        raise CommandError(ErrorCode.BadValue, "$size may not be negative")
    return size


def _mod_pred(spec: Any) -> Pred:
    # Manual, "$mod": since 5.0 the divisor and remainder are truncated to integers;
    # NaN and infinity are rejected, and matching truncates the field value too.
    if not isinstance(spec, list):
        raise CommandError(ErrorCode.BadValue, "malformed mod, needs to be an array")
    if not spec:
        raise CommandError(ErrorCode.BadValue, "malformed mod, not enough elements")
    if type_rank(spec[0]) != Rank.NUMBER:
        raise CommandError(ErrorCode.BadValue, "malformed mod, divisor not a number")
    if len(spec) == 1:
        raise CommandError(ErrorCode.BadValue, "malformed mod, not enough elements")
    if type_rank(spec[1]) != Rank.NUMBER:
        raise CommandError(ErrorCode.BadValue, "malformed mod, remainder not a number")
    if len(spec) > 2:
        raise CommandError(ErrorCode.BadValue, "malformed mod, too many elements")
    divisor, remainder = coerce_long(spec[0]), coerce_long(spec[1])
    for role, value in (("divisor", divisor), ("remainder", remainder)):
        if isinstance(value, str):
            raise CommandError(
                ErrorCode.BadValue,
                f"malformed mod, {role} value is invalid :: caused by :: {value}",
            )
    assert isinstance(divisor, int)
    assert isinstance(remainder, int)
    if divisor == 0:
        raise CommandError(ErrorCode.BadValue, "divisor cannot be 0")

    def pred(value: Any) -> bool:
        if type_rank(value) != Rank.NUMBER:
            return False
        dividend = coerce_long(value)
        if isinstance(dividend, str):
            return False
        result = abs(dividend) % abs(divisor)  # C++ '%': the sign follows the dividend
        return (-result if dividend < 0 else result) == remainder

    return pred


class _Parser:
    """Turns filter documents into nodes; one instance per compile_filter call."""

    def __init__(self, string_key: StringKey | None) -> None:
        self.string_key = string_key

    def parse(self, filter: Mapping[str, Any], level: _Level) -> Node:
        nodes: list[Node] = []
        for name, value in filter.items():
            if name.startswith("$"):
                node = self._pathless(name, value, level)
                if node is not None:
                    nodes.append(node)
            elif is_operator_document(value):
                nodes.extend(expr.doc for expr in self.parse_sub(name, value, level))
            elif is_regex(value):
                nodes.append(path_node(name, regex_of(value)))
            else:
                nodes.append(path_node(name, self._eq(value)))
        if not nodes:
            return lambda doc, details: True
        return and_node(nodes)

    def parse_sub(self, name: str, sub: Mapping[str, Any], level: _Level) -> list[FieldExpr]:
        first = next(iter(sub))
        if first in ("$near", "$nearSphere", "$geoNear"):
            raise CommandError(
                ErrorCode.CommandNotSupported, f"{first} is not supported by fakemongo"
            )
        exprs = []
        for op, arg in sub.items():
            expr = self._operator(name, op, arg, sub, level)
            if expr is not None:
                exprs.append(expr)
        return exprs

    # ------------------------------------------------------------ pathless

    def _pathless(self, name: str, value: Any, level: _Level) -> Node | None:
        if name in ("$and", "$or", "$nor"):
            return self._tree(name, value, level)
        if name == "$comment":
            return None
        if name == "$expr":
            if level is _Level.SUB:
                raise CommandError(
                    ErrorCode.BadValue, "$expr can only be applied to the top-level document"
                )
            evaluator = compile_expression(value, self.string_key)
            return lambda doc, details: to_bool(evaluate(evaluator, doc))
        if name == "$jsonSchema":
            schema = _as_object(value)
            if schema is None:
                raise CommandError(ErrorCode.TypeMismatch, "$jsonSchema must be an object")
            test = compile_schema(schema)
            return lambda doc, details: test(doc)
        if name == "$where":
            if level is _Level.SUB:
                raise CommandError(
                    ErrorCode.BadValue, "$elemMatch cannot contain $where expression"
                )
            raise CommandError(
                ErrorCode.CommandNotSupported,
                "$where is not supported by fakemongo: it has no JavaScript engine",
            )
        if name == "$text":
            if level is _Level.SUB:
                raise CommandError(
                    ErrorCode.BadValue, "$text can only be applied to the top-level document"
                )
            raise CommandError(
                ErrorCode.CommandNotSupported,
                "$text is not supported by fakemongo: it has no text indexes",
            )
        if name in ("$alwaysTrue", "$alwaysFalse"):
            if parse_integer(name, value) != 1:
                raise CommandError(ErrorCode.FailedToParse, f"{name} must be an integer value of 1")
            result = name == "$alwaysTrue"
            return lambda doc, details: result
        if name in ("$id", "$ref", "$db"):  # DBRef fields are matched by plain equality
            return path_node(name, self._eq(value))
        if name == "$not":
            raise CommandError(
                ErrorCode.BadValue,
                "unknown top level operator: $not. If you are trying to negate an entire "
                "expression, use $nor.",
            )
        raise CommandError(
            ErrorCode.BadValue,
            f"unknown top level operator: {name}. If you have a field name that starts with "
            "a '$' symbol, consider using $getField or $setField.",
        )

    def _tree(self, name: str, value: Any, level: _Level) -> Node:
        if not isinstance(value, list):
            raise CommandError(ErrorCode.BadValue, f"{name} must be an array")
        if not value:
            raise CommandError(ErrorCode.BadValue, "$and/$or/$nor must be a nonempty array")
        children = []
        for item in value:
            obj = _as_object(item)
            if obj is None:
                raise CommandError(
                    ErrorCode.BadValue, "$or/$and/$nor entries need to be full objects"
                )
            children.append(self.parse(obj, level))
        if name == "$and":
            return and_node(children)
        if name == "$or":
            # The optimizer rewrites a one-clause $or into its clause, which then
            # records array offsets like any other predicate.
            return children[0] if len(children) == 1 else or_node(children)
        return nor_node(children)

    # ------------------------------------------------------------ path operators

    def _operator(
        self, name: str, op: str, arg: Any, context: Mapping[str, Any], level: _Level
    ) -> FieldExpr | None:
        if op == "$eq":
            return leaf(name, self._eq(arg))
        if op == "$not":
            return self._not(name, arg, level)
        if op in _COMPARISONS:
            if is_regex(arg):
                raise CommandError(
                    ErrorCode.BadValue, f"Can't have RegEx as arg to predicate over field '{name}'."
                )
            return leaf(name, self._compare(op, arg))
        if op == "$ne":
            if is_regex(arg):
                raise CommandError(ErrorCode.BadValue, "Can't have regex as arg to $ne.")
            return negate(leaf(name, self._eq(arg)))
        if op in ("$in", "$nin"):
            if not isinstance(arg, list):
                raise CommandError(ErrorCode.BadValue, f"{op} needs an array")
            expr = leaf(name, self._in(arg))
            return negate(expr) if op == "$nin" else expr
        if op == "$size":
            size = _size_argument(arg)
            return array_expr(name, lambda array: -1 if len(array) == size else None)
        if op == "$exists":
            exists = leaf(name, lambda value: value is not MISSING)
            return exists if _true_value(arg) else negate(exists)
        if op == "$type":
            return leaf(name, type_pred(parse_type_set(name, arg)))
        if op == "$mod":
            return leaf(name, _mod_pred(arg))
        if op == "$options":
            if "$regex" in context:
                return None
            raise CommandError(ErrorCode.BadValue, "$options needs a $regex")
        if op == "$regex":
            return leaf(name, self._regex_document(context))
        if op == "$elemMatch":
            return self._elem_match(name, arg)
        if op == "$all":
            return self._all(name, arg)
        if op in _GEO:
            raise CommandError(ErrorCode.CommandNotSupported, f"{op} is not supported by fakemongo")
        if op in {bits.value for bits in Bits}:
            return leaf(name, bits_pred(Bits(op), bit_positions(name, op, arg)))
        if op == "$where":
            raise CommandError(ErrorCode.BadValue, "$where cannot be applied to a field")
        raise CommandError(ErrorCode.BadValue, f"unknown operator: {op}")

    def _eq(self, rhs: Any) -> Pred:
        if rhs is None:  # manual, "Query for Null or Missing Fields"
            return lambda value: value is None or value is MISSING
        string_key = self.string_key
        rank, key = type_rank(rhs), sort_key(rhs, string_key)
        if type(rhs) in (int, float) and not is_nan(rhs):

            def number(value: Any) -> bool:
                kind = type(value)
                if kind is int or kind is float:
                    return bool(value == rhs)
                return type_rank(value) == rank and sort_key(value) == key

            return number
        if type(rhs) is str and string_key is None:
            return lambda value: type(value) is str and value == rhs
        return lambda value: type_rank(value) == rank and sort_key(value, string_key) == key

    def _compare(self, op: str, rhs: Any) -> Pred:
        test, string_key = _COMPARISONS[op], self.string_key
        rank, key, rhs_nan = type_rank(rhs), sort_key(rhs, string_key), is_nan(rhs)
        inclusive = op in ("$lte", "$gte")
        below = op in ("$lt", "$lte")
        plain = type(rhs) in (int, float) and not rhs_nan

        def pred(value: Any) -> bool:
            kind = type(value)
            if plain and (kind is int or (kind is float and not math.isnan(value))):
                return test(value, rhs)
            value_rank = type_rank(value)
            if value_rank != rank:
                if value_rank + rank == Rank.NULL:  # missing against null
                    return inclusive
                if rank == Rank.MAXKEY:
                    return below
                return rank == Rank.MINKEY and not below
            if rank == Rank.NUMBER and (rhs_nan or is_nan(value)):
                # NaN equals NaN but is neither less nor greater than anything.
                return inclusive and rhs_nan and is_nan(value)
            return test(sort_key(value, string_key), key)

        return pred

    def _in(self, items: list[Any]) -> Pred:
        keys, regexes, has_null = set(), [], False
        for item in items:
            if is_operator_document(item):
                raise CommandError(ErrorCode.BadValue, "cannot nest $ under $in")
            if is_regex(item):
                regexes.append(regex_of(item))
                continue
            has_null = has_null or item is None
            keys.add(sort_key(item, self.string_key))
        string_key = self.string_key

        def pred(value: Any) -> bool:
            if value is MISSING:
                return has_null  # a null in $in also matches a missing field
            return sort_key(value, string_key) in keys or any(r(value) for r in regexes)

        return pred

    def _regex_document(self, context: Mapping[str, Any]) -> Pred:
        pattern, options = "", ""
        for key, value in context.items():
            if key == "$regex":
                if isinstance(value, str):
                    pattern = value
                elif is_regex(value):
                    pattern = str(value.pattern)
                    flags = sort_key(value)[2]
                    if flags:
                        if options:
                            raise CommandError(
                                ErrorCode.Location51074, "options set in both $regex and $options"
                            )
                        options = flags
                else:
                    raise CommandError(ErrorCode.BadValue, "$regex has to be a string")
            elif key == "$options":
                if not isinstance(value, str):
                    raise CommandError(ErrorCode.BadValue, "$options has to be a string")
                if options:
                    raise CommandError(
                        ErrorCode.Location51075, "options set in both $regex and $options"
                    )
                options = value
        return regex_pred(pattern, options)

    def _not(self, name: str, arg: Any, level: _Level) -> FieldExpr:
        if is_regex(arg):
            return negate(leaf(name, regex_of(arg)))
        obj = _as_object(arg)
        if obj is None:
            raise CommandError(ErrorCode.BadValue, "$not needs a regex or a document")
        if not obj:
            raise CommandError(ErrorCode.BadValue, "$not cannot be empty")
        return negate(all_of(self.parse_sub(name, obj, level)))

    def _elem_match(self, name: str, arg: Any) -> FieldExpr:
        obj = _as_object(arg)
        if obj is None:
            raise CommandError(ErrorCode.BadValue, "$elemMatch needs an Object")
        test: ArrayTest
        if is_operator_document(obj, incomplete_dbref=True) and next(iter(obj)) not in _PATHLESS:
            # Value form: every operator applies to the element itself.
            singles = [expr.single for expr in self.parse_sub("", obj, _Level.SUB)]

            def test(array: list[Any]) -> int | None:
                for index, item in enumerate(array):
                    if all(single(item) for single in singles):
                        return index
                return None

        else:
            # Object form: a filter over the elements that are documents (or arrays).
            node = self.parse(obj, _Level.SUB)

            def test(array: list[Any]) -> int | None:
                for index, item in enumerate(array):
                    doc = (
                        {str(i): x for i, x in enumerate(item)} if isinstance(item, list) else item
                    )
                    if isinstance(doc, Mapping) and node(doc, None):
                        return index
                return None

        return array_expr(name, test)

    def _all(self, name: str, arg: Any) -> FieldExpr:
        if not isinstance(arg, list):
            raise CommandError(ErrorCode.BadValue, "$all needs an array")
        first = _as_object(arg[0]) if arg else None
        if first and next(iter(first)) == "$elemMatch":
            exprs = []
            for item in arg:
                obj = _as_object(item)
                if not obj or next(iter(obj)) != "$elemMatch":
                    raise CommandError(ErrorCode.BadValue, "$all/$elemMatch has to be consistent")
                exprs.append(self._elem_match(name, obj["$elemMatch"]))
            return all_of(exprs)
        exprs = []
        for item in arg:
            obj = _as_object(item)
            if is_regex(item):
                exprs.append(leaf(name, regex_of(item)))
            elif obj and next(iter(obj)) in _PATH_OPERATORS:
                raise CommandError(ErrorCode.BadValue, "no $ expressions in $all")
            else:
                exprs.append(leaf(name, self._eq(item)))
        if not exprs:  # manual, "$all": an empty array matches no documents
            return FieldExpr(lambda doc, details: False, lambda value: False)
        return all_of(exprs)
