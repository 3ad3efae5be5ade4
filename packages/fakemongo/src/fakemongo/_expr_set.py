"""Set expression operators and ``$sortArray`` (manual, "Set Expression Operators").

``$setUnion`` ``$setIntersection`` ``$setDifference`` ``$setEquals``
``$setIsSubset`` ``$allElementsTrue`` ``$anyElementTrue`` treat arrays as sets:
duplicates are ignored and elements compare with BSON equality under the
collation; nested arrays are elements, not descended into. Results list each
element once, in first-seen order (the server's order is unspecified). Union,
intersection and difference give null for a null or missing operand; equality
and subset refuse them. ``$sortArray`` sorts by whole value (``sortBy: 1/-1``)
or by fields of document elements, stably.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fakemongo._bsonorder import StringKey, sort_key, type_alias
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import OPERATORS, Evaluator, Scope, Vars, fixed_args, operand_list, to_bool
from fakemongo._expr_util import is_number, is_object, nullish, register
from fakemongo._sort import document_sort_key, parse_sort

__all__: list[str] = []


def _distinct(values: list[Any], string_key: StringKey | None) -> dict[Any, Any]:
    """Key -> first element with that key, in first-seen order."""
    out: dict[Any, Any] = {}
    for value in values:
        out.setdefault(sort_key(value, string_key), value)
    return out


def _arrays(
    name: str,
    items: list[Evaluator],
    v: Vars,
    nulls: bool,
    message: Callable[[int, Any], str],
    code: Callable[[int], ErrorCode],
) -> list[list[Any]] | None:
    arrays = []
    for index, item in enumerate(items):
        value = item(v)
        if nulls and nullish(value):
            return None
        if not isinstance(value, list):
            raise CommandError(code(index), message(index, value))
        arrays.append(value)
    return arrays


def _variadic(
    name: str, code: ErrorCode, combine: Callable[[list[dict[Any, Any]]], dict[Any, Any]]
) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        items = [scope.compile(arg) for arg in operand_list(args)]

        def evaluate(v: Vars) -> Any:
            arrays = _arrays(
                name,
                items,
                v,
                True,
                lambda i, value: (
                    f"All operands of {name} must be arrays. One argument is of type: "
                    f"{type_alias(value)}"
                ),
                lambda i: code,
            )
            if arrays is None:
                return None
            sets = [_distinct(array, scope.string_key) for array in arrays]
            return list(combine(sets).values())

        return evaluate


def _union(sets: list[dict[Any, Any]]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for each in sets:
        for key, value in each.items():
            out.setdefault(key, value)
    return out


def _intersection(sets: list[dict[Any, Any]]) -> dict[Any, Any]:
    if not sets:
        return {}
    first, *rest = sets
    return {key: value for key, value in first.items() if all(key in other for other in rest)}


_variadic("$setUnion", ErrorCode.Location17043, _union)
_variadic("$setIntersection", ErrorCode.Location17047, _intersection)


def _binary_message(name: str) -> Callable[[int, Any], str]:
    return lambda index, value: (
        f"both operands of {name} must be arrays. {('First', 'Second')[index]} argument is of "
        f"type: {type_alias(value)}"
    )


@register("$setDifference")
def _set_difference(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in fixed_args("$setDifference", args, 2)]
    codes = (ErrorCode.Location17048, ErrorCode.Location17049)

    def difference(v: Vars) -> Any:
        arrays = _arrays(
            "$setDifference", items, v, True, _binary_message("$setDifference"), codes.__getitem__
        )
        if arrays is None:
            return None
        left, right = (_distinct(array, scope.string_key) for array in arrays)
        return [value for key, value in left.items() if key not in right]

    return difference


@register("$setIsSubset")
def _set_is_subset(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in fixed_args("$setIsSubset", args, 2)]
    codes = (ErrorCode.Location17046, ErrorCode.Location17042)

    def is_subset(v: Vars) -> bool:
        arrays = _arrays(
            "$setIsSubset", items, v, False, _binary_message("$setIsSubset"), codes.__getitem__
        )
        assert arrays is not None
        left, right = (_distinct(array, scope.string_key) for array in arrays)
        return all(key in right for key in left)

    return is_subset


@register("$setEquals")
def _set_equals(args: Any, scope: Scope) -> Evaluator:
    operands = operand_list(args)
    if len(operands) < 2:
        raise CommandError(
            ErrorCode.Location17045, f"$setEquals needs at least two arguments had: {len(operands)}"
        )
    items = [scope.compile(arg) for arg in operands]

    def equals(v: Vars) -> bool:
        arrays = _arrays(
            "$setEquals",
            items,
            v,
            False,
            lambda i, value: (
                "All operands of $setEquals must be arrays. One argument is of "
                f"type: {type_alias(value)}"
            ),
            lambda i: ErrorCode.Location17044,
        )
        assert arrays is not None
        first, *rest = (set(_distinct(array, scope.string_key)) for array in arrays)
        return all(other == first for other in rest)

    return equals


def _elements(name: str, code: ErrorCode, test: Callable[[Any], bool]) -> None:
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        (item,) = (scope.compile(arg) for arg in fixed_args(name, args, 1))

        def evaluate(v: Vars) -> bool:
            array = item(v)
            if not isinstance(array, list):
                raise CommandError(
                    code, f"{name}'s argument must be an array, but is {type_alias(array)}"
                )
            return test(to_bool(element) for element in array)

        return evaluate

    OPERATORS[name] = compile_operator


_elements("$allElementsTrue", ErrorCode.Location17040, all)
_elements("$anyElementTrue", ErrorCode.Location17041, any)


# ---------------------------------------------------------------- $sortArray


@register("$sortArray")
def _sort_array(args: Any, scope: Scope) -> Evaluator:
    if not is_object(args):
        raise CommandError(
            ErrorCode.Location2942500,
            f"$sortArray requires an object as input, found: {type_alias(args)}",
        )
    for name in args:
        if name not in ("input", "sortBy"):
            raise CommandError(
                ErrorCode.Location2942501, f"$sortArray found an unknown argument: {name}"
            )
    if "input" not in args:
        raise CommandError(ErrorCode.Location2942502, "$sortArray requires 'input' to be specified")
    if "sortBy" not in args:
        raise CommandError(
            ErrorCode.Location2942503, "$sortArray requires 'sortBy' to be specified"
        )
    input_of = scope.compile(args["input"])
    sort_by = args["sortBy"]
    string_key = scope.string_key
    key: Callable[[Any], Any]
    if is_object(sort_by):
        spec = parse_sort(sort_by)
        key = lambda item: document_sort_key(item if is_object(item) else {}, spec, string_key)  # noqa: E731
        reverse = False
    elif is_number(sort_by) and sort_by in (1, -1):
        key = lambda item: sort_key(item, string_key)  # noqa: E731
        reverse = sort_by == -1
    else:
        raise CommandError(
            ErrorCode.Location2942505,
            "$sortArray sortBy must be either 1, -1, or an object, found: " + type_alias(sort_by),
        )

    def sort_array(v: Vars) -> Any:
        array = input_of(v)
        if nullish(array):
            return None
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location2942504,
                "The input argument to $sortArray must be an array, but was of type: "
                + type_alias(array),
            )
        return sorted(array, key=key, reverse=reverse)

    return sort_array
