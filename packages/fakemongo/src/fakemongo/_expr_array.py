"""Array expression operators (manual, "Array Expression Operators").

``$arrayElemAt`` ``$first`` ``$last`` ``$size`` ``$slice`` ``$concatArrays``
``$filter`` ``$map`` ``$reduce`` ``$indexOfArray`` ``$isArray`` ``$range``
``$reverseArray`` ``$zip`` ``$arrayToObject`` ``$objectToArray``. (``$in`` is in
the core; the set operators and ``$sortArray`` are in :mod:`fakemongo._expr_set`.)

A null or missing array operand gives null unless the manual says otherwise
(``$size`` and ``$isArray`` do not accept it); an out-of-range index gives a
missing value. ``$filter`` and ``$map`` bind ``$$this`` (or their ``as`` name),
``$reduce`` binds ``$$this`` and ``$$value``.
"""

from __future__ import annotations

from typing import Any

from fakemongo._bsonorder import MISSING, type_alias, values_equal
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope, Vars, fixed_args, operand_list, to_bool
from fakemongo._expr_misc import validate_user_variable
from fakemongo._expr_string import _index_bound
from fakemongo._expr_util import (
    integral_value,
    is_number,
    is_object,
    nullish,
    ranged_args,
    register,
    value_text,
)

__all__ = ["int32_of"]


def int32_of(value: Any) -> int | None:
    """``value`` as an int32 if it is a number with an integral value in range."""
    whole = integral_value(value)
    return whole if whole is not None and -(2**31) <= whole < 2**31 else None


# ---------------------------------------------------------------- element access


def _element_at(name: str, array: Any, index: Any, what: str) -> Any:
    if nullish(array) or nullish(index):
        return None
    if not isinstance(array, list):
        raise CommandError(
            ErrorCode.Location28689, f"{name}'s {what} must be an array, but is {type_alias(array)}"
        )
    if not is_number(index):
        raise CommandError(
            ErrorCode.Location28690,
            f"{name}'s second argument must be a numeric value, but is {type_alias(index)}",
        )
    position = int32_of(index)
    if position is None:
        raise CommandError(
            ErrorCode.Location28691,
            f"{name}'s second argument must be representable as a 32-bit integer: "
            f"{value_text(index)}",
        )
    if position < 0:
        position += len(array)
    return array[position] if 0 <= position < len(array) else MISSING


@register("$arrayElemAt")
def _array_elem_at(args: Any, scope: Scope) -> Evaluator:
    array_of, index_of = (scope.compile(arg) for arg in fixed_args("$arrayElemAt", args, 2))
    return lambda v: _element_at("$arrayElemAt", array_of(v), index_of(v), "first argument")


def _end(name: str, index: int) -> None:
    @register(name)
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        (array_of,) = (scope.compile(arg) for arg in fixed_args(name, args, 1))
        return lambda v: _element_at(name, array_of(v), index, "argument")


_end("$first", 0)
_end("$last", -1)


@register("$size")
def _size(args: Any, scope: Scope) -> Evaluator:
    (array_of,) = (scope.compile(arg) for arg in fixed_args("$size", args, 1))

    def size(v: Vars) -> int:
        array = array_of(v)
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location17124,
                f"The argument to $size must be an array. Type of argument: {type_alias(array)}",
            )
        return len(array)

    return size


@register("$isArray")
def _is_array(args: Any, scope: Scope) -> Evaluator:
    (item,) = (scope.compile(arg) for arg in fixed_args("$isArray", args, 1))
    return lambda v: isinstance(item(v), list)


@register("$slice")
def _slice(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in ranged_args("$slice", args, 2, 3)]

    def slice_of(v: Vars) -> Any:
        values = [item(v) for item in items]
        if any(nullish(value) for value in values):
            return None
        array = values[0]
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location28724,
                f"First argument to $slice must be an array, but is of type: {type_alias(array)}",
            )
        first = _slice_int(values[1], "Second", ErrorCode.Location28725, ErrorCode.Location28726)
        if len(values) == 2:
            return array[:first] if first >= 0 else array[max(0, len(array) + first) :]
        count = _slice_int(values[2], "Third", ErrorCode.Location28727, ErrorCode.Location28728)
        if count <= 0:
            raise CommandError(
                ErrorCode.Location28729,
                f"Third argument to $slice must be positive: {value_text(values[2])}",
            )
        start = first if first >= 0 else max(0, len(array) + first)
        return array[start : start + count]

    return slice_of


def _slice_int(value: Any, which: str, numeric: ErrorCode, integral: ErrorCode) -> int:
    if not is_number(value):
        raise CommandError(
            numeric,
            f"{which} argument to $slice must be numeric, but is of type: {type_alias(value)}"
            if which == "Third"
            else f"{which} argument to $slice must be a numeric value, but is of type: "
            f"{type_alias(value)}",
        )
    number = int32_of(value)
    if number is None:
        raise CommandError(
            integral,
            f"{which} argument to $slice can't be represented as a 32-bit integer: "
            f"{value_text(value)}",
        )
    return number


@register("$concatArrays")
def _concat_arrays(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in operand_list(args)]

    def concat(v: Vars) -> Any:
        out: list[Any] = []
        for item in items:
            value = item(v)
            if nullish(value):
                return None
            if not isinstance(value, list):
                raise CommandError(
                    ErrorCode.Location28664,
                    f"$concatArrays only supports arrays, not {type_alias(value)}",
                )
            out.extend(value)
        return out

    return concat


@register("$reverseArray")
def _reverse_array(args: Any, scope: Scope) -> Evaluator:
    (array_of,) = (scope.compile(arg) for arg in fixed_args("$reverseArray", args, 1))

    def reverse(v: Vars) -> Any:
        array = array_of(v)
        if nullish(array):
            return None
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location34435,
                "The argument to $reverseArray must be an array, but was of type: "
                + type_alias(array),
            )
        return array[::-1]

    return reverse


@register("$indexOfArray")
def _index_of_array(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in ranged_args("$indexOfArray", args, 2, 4)]

    def index_of(v: Vars) -> Any:
        array = items[0](v)
        if nullish(array):
            return None
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location40090,
                f"$indexOfArray requires an array as a first argument, found: {type_alias(array)}",
            )
        needle = items[1](v)
        start = (
            _index_bound("$indexOfArray", items[2](v), "starting index") if len(items) > 2 else 0
        )
        end = len(array)
        if len(items) > 3:
            end = min(end, _index_bound("$indexOfArray", items[3](v), "ending index"))
        for position in range(start, end):
            if values_equal(array[position], needle, scope.string_key):
                return position
        return -1

    return index_of


@register("$range")
def _range(args: Any, scope: Scope) -> Evaluator:
    items = [scope.compile(arg) for arg in ranged_args("$range", args, 2, 3)]
    names = (
        ("starting value", "a starting value", ErrorCode.Location34443, ErrorCode.Location34444),
        ("ending value", "an ending value", ErrorCode.Location34445, ErrorCode.Location34446),
        ("step value", "a step value", ErrorCode.Location34447, ErrorCode.Location34448),
    )

    def range_of(v: Vars) -> list[int]:
        bounds = []
        for item, (what, article, numeric, integral) in zip(items, names, strict=False):
            value = item(v)
            if not is_number(value):
                raise CommandError(
                    numeric,
                    f"$range requires a numeric {what}, found value of type: {type_alias(value)}",
                )
            number = int32_of(value)
            if number is None:
                raise CommandError(
                    integral,
                    f"$range requires {article} that can be represented as a 32-bit integer, "
                    f"found value: {value_text(value)}",
                )
            bounds.append(number)
        step = bounds[2] if len(bounds) > 2 else 1
        if step == 0:
            raise CommandError(ErrorCode.Location34449, "$range requires a non-zero step value")
        return list(range(bounds[0], bounds[1], step))

    return range_of


# ---------------------------------------------------------------- $filter / $map / $reduce


def _object_args(
    name: str,
    args: Any,
    allowed: tuple[str, ...],
    not_object: tuple[ErrorCode, str],
    unknown: ErrorCode,
) -> dict[str, Any]:
    if not is_object(args):
        raise CommandError(not_object[0], not_object[1].format(type_alias(args)))
    for key in args:
        if key not in allowed:
            raise CommandError(unknown, f"Unrecognized parameter to {name}: {key}")
    return dict(args)


def _iterating(
    name: str, spec: dict[str, Any], scope: Scope, body_key: str
) -> tuple[Evaluator, str, Evaluator]:
    variable = spec.get("as", "this")
    if not isinstance(variable, str):
        raise CommandError(ErrorCode.Location16866, "empty variable names are not allowed")
    validate_user_variable(variable)
    return (
        scope.compile(spec["input"]),
        variable,
        scope.with_variables(frozenset({variable})).compile(spec[body_key]),
    )


def _input_array(name: str, value: Any, code: ErrorCode) -> list[Any] | None:
    if nullish(value):
        return None
    if not isinstance(value, list):
        raise CommandError(code, f"input to {name} must be an array not {type_alias(value)}")
    return value


@register("$filter")
def _filter(args: Any, scope: Scope) -> Evaluator:
    spec = _object_args(
        "$filter",
        args,
        ("input", "as", "cond", "limit"),
        (ErrorCode.Location28646, "$filter only supports an object as its argument"),
        ErrorCode.Location28647,
    )
    if "input" not in spec:
        raise CommandError(ErrorCode.Location28648, "Missing 'input' parameter to $filter")
    if "cond" not in spec:
        raise CommandError(ErrorCode.Location28650, "Missing 'cond' parameter to $filter")
    input_of, variable, cond = _iterating("$filter", spec, scope, "cond")
    limit_of = scope.compile(spec["limit"]) if "limit" in spec else None

    def filter_of(v: Vars) -> Any:
        array = _input_array("$filter", input_of(v), ErrorCode.Location28651)
        if array is None:
            return None
        limit = len(array)
        if limit_of is not None:
            limit_value = limit_of(v)
            if not nullish(limit_value):
                number = int32_of(limit_value)
                if number is None:
                    raise CommandError(
                        ErrorCode.Location327391,
                        "$filter: limit must be represented as a 32-bit integral value: "
                        + value_text(limit_value),
                    )
                if number < 1:
                    raise CommandError(
                        ErrorCode.Location327392,
                        f"$filter: limit must be greater than 0: {value_text(limit_value)}",
                    )
                limit = number
        out: list[Any] = []
        inner = dict(v)
        for item in array:
            if len(out) >= limit:
                break
            inner[variable] = item
            if to_bool(cond(inner)):
                out.append(item)
        return out

    return filter_of


@register("$map")
def _map(args: Any, scope: Scope) -> Evaluator:
    spec = _object_args(
        "$map",
        args,
        ("input", "as", "in"),
        (ErrorCode.Location16878, "$map only supports an object as its argument"),
        ErrorCode.Location16879,
    )
    if "input" not in spec:
        raise CommandError(ErrorCode.Location16880, "Missing 'input' parameter to $map")
    if "in" not in spec:
        raise CommandError(ErrorCode.Location16882, "Missing 'in' parameter to $map")
    input_of, variable, body = _iterating("$map", spec, scope, "in")

    def map_of(v: Vars) -> Any:
        array = _input_array("$map", input_of(v), ErrorCode.Location16883)
        if array is None:
            return None
        out = []
        inner = dict(v)
        for item in array:
            inner[variable] = item
            value = body(inner)
            out.append(None if value is MISSING else value)
        return out

    return map_of


@register("$reduce")
def _reduce(args: Any, scope: Scope) -> Evaluator:
    if not is_object(args):
        raise CommandError(
            ErrorCode.Location40076,
            f"$reduce requires an object as an argument, found: {type_alias(args)}",
        )
    for key in args:
        if key not in ("input", "initialValue", "in"):
            raise CommandError(ErrorCode.Location40075, f"Unrecognized parameter to $reduce: {key}")
    for key, code in (
        ("input", ErrorCode.Location40077),
        ("initialValue", ErrorCode.Location40078),
        ("in", ErrorCode.Location40079),
    ):
        if key not in args:
            raise CommandError(code, f"$reduce requires '{key}' to be specified")
    input_of, initial = scope.compile(args["input"]), scope.compile(args["initialValue"])
    body = scope.with_variables(frozenset({"this", "value"})).compile(args["in"])

    def reduce_of(v: Vars) -> Any:
        array = input_of(v)
        if nullish(array):
            return None
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location40080,
                f"$reduce requires that 'input' be an array, found: {value_text(array)}",
            )
        inner = dict(v)
        inner["value"] = initial(v)
        for item in array:
            inner["this"] = item
            inner["value"] = body(inner)
        return inner["value"]

    return reduce_of


# ---------------------------------------------------------------- $zip


@register("$zip")
def _zip(args: Any, scope: Scope) -> Evaluator:
    if not is_object(args):
        raise CommandError(
            ErrorCode.Location34460,
            f"$zip only supports an object as an argument, found {type_alias(args)}",
        )
    inputs: list[Evaluator] = []
    defaults: list[Evaluator] | None = None
    longest = False
    for key, value in args.items():
        if key == "inputs":
            if not isinstance(value, list):
                raise CommandError(
                    ErrorCode.Location34461,
                    f"inputs must be an array of expressions, found {type_alias(value)}",
                )
            inputs = [scope.compile(item) for item in value]
        elif key == "defaults":
            if not isinstance(value, list):
                raise CommandError(
                    ErrorCode.Location34462,
                    f"defaults must be an array of expressions, found {type_alias(value)}",
                )
            defaults = [scope.compile(item) for item in value]
        elif key == "useLongestLength":
            if not isinstance(value, bool):
                raise CommandError(
                    ErrorCode.Location34463,
                    f"useLongestLength must be a bool, found {type_alias(value)}",
                )
            longest = value
        else:
            raise CommandError(ErrorCode.Location34464, f"$zip found an unknown argument: {key}")
    if not inputs:
        raise CommandError(ErrorCode.Location34465, "$zip requires at least one input array")
    if defaults is not None and not longest:
        raise CommandError(
            ErrorCode.Location34466, "cannot specify defaults unless useLongestLength is true"
        )
    if defaults is not None and len(defaults) != len(inputs):
        raise CommandError(ErrorCode.Location34467, "defaults and inputs must have the same length")

    def zip_of(v: Vars) -> Any:
        arrays = []
        for item in inputs:
            value = item(v)
            if nullish(value):
                return None
            if not isinstance(value, list):
                raise CommandError(
                    ErrorCode.Location34468,
                    f"$zip found a non-array expression in input: {value_text(value)}",
                )
            arrays.append(value)
        fills = [d(v) for d in defaults] if defaults else [None] * len(arrays)
        size = max(map(len, arrays)) if longest else min(map(len, arrays))
        return [
            [
                array[i] if i < len(array) else fill
                for array, fill in zip(arrays, fills, strict=True)
            ]
            for i in range(size)
        ]

    return zip_of


# ---------------------------------------------------------------- objects and arrays


@register("$objectToArray")
def _object_to_array(args: Any, scope: Scope) -> Evaluator:
    (item,) = (scope.compile(arg) for arg in fixed_args("$objectToArray", args, 1))

    def to_array(v: Vars) -> Any:
        value = item(v)
        if nullish(value):
            return None
        if not is_object(value):
            raise CommandError(
                ErrorCode.Location40390,
                f"$objectToArray requires a document input, found: {type_alias(value)}",
            )
        return [{"k": key, "v": field} for key, field in value.items()]

    return to_array


def _pair(item: Any, arrays: bool) -> tuple[Any, Any]:
    if arrays:
        if len(item) != 2:
            raise CommandError(
                ErrorCode.Location40397,
                f"$arrayToObject requires an array of size 2 arrays,found array of size: "
                f"{len(item)}",
            )
        key, value = item
        if not isinstance(key, str):
            raise CommandError(
                ErrorCode.Location40395,
                "$arrayToObject requires an array of key-value pairs, where the key must be of "
                f"type string. Found key type: {type_alias(key)}",
            )
        return key, value
    if len(item) != 2:
        raise CommandError(
            ErrorCode.Location40392,
            "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of "
            f"keys:{len(item)}",
        )
    if "k" not in item or "v" not in item:
        raise CommandError(
            ErrorCode.Location40393,
            "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both "
            f"keys from: {value_text(item)}",
        )
    if not isinstance(item["k"], str):
        raise CommandError(
            ErrorCode.Location40394,
            "$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' "
            f"must be of type string. Found type: {type_alias(item['k'])}",
        )
    return item["k"], item["v"]


@register("$arrayToObject")
def _array_to_object(args: Any, scope: Scope) -> Evaluator:
    (item_of,) = (scope.compile(arg) for arg in fixed_args("$arrayToObject", args, 1))

    def to_object(v: Vars) -> Any:
        array = item_of(v)
        if nullish(array):
            return None
        if not isinstance(array, list):
            raise CommandError(
                ErrorCode.Location40386,
                f"$arrayToObject requires an array input, found: {type_alias(array)}",
            )
        out: dict[str, Any] = {}
        arrays: bool | None = None
        for item in array:
            is_pair_array = isinstance(item, list)
            if not is_pair_array and not is_object(item):
                raise CommandError(
                    ErrorCode.Location40398,
                    f"Unrecognised input type format for $arrayToObject: {type_alias(item)}",
                )
            if arrays is None:
                arrays = is_pair_array
            elif arrays != is_pair_array:
                raise CommandError(
                    ErrorCode.Location40396,
                    "$arrayToObject requires a consistent input format. Elements must all be "
                    f"arrays or all be objects. Found {type_alias(item)}",
                )
            key, value = _pair(item, is_pair_array)
            if "\0" in key:
                raise CommandError(
                    ErrorCode.Location4940400,
                    "Key field cannot contain an embedded null byte",
                )
            out[key] = value
        return out

    return to_object
