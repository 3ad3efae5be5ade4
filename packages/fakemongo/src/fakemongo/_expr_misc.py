"""Expression operators: variables and objects (``$let`` ``$switch`` ``$getField``
``$setField`` ``$unsetField`` ``$rand``). Operators fakemongo lacks (``$meta``,
``$function``, ``$dateTrunc``, ``$maxN``...) stay unregistered, so compiling them
fails with 168 InvalidPipelineOperator, as for any unknown operator.

Manual, "$let": ``vars`` are evaluated in the enclosing scope, then ``in`` with
them bound; user variable names start with a lowercase ASCII letter or a
non-ASCII character (``CURRENT`` may be rebound). Manual, "$switch": the first
branch whose ``case`` is true wins; no match and no ``default`` is an error.
Manual, "$getField"/"$setField": ``field`` is a constant string; a null or
missing ``input`` gives null; ``$$REMOVE`` as the value removes the field.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from fakemongo._bsonorder import MISSING, Rank, bson_repr, type_alias, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import OPERATORS, Evaluator, Scope, Vars, _operator, to_bool

__all__ = ["is_object", "validate_user_variable"]


def is_object(value: Any) -> bool:
    """Whether ``value`` is an embedded document."""
    return isinstance(value, Mapping) and type_rank(value) == Rank.OBJECT


def _user_char(char: str, first: bool) -> bool:
    if not char.isascii():
        return True
    if first:
        return "a" <= char <= "z"
    return char.isalnum() or char == "_"


def validate_user_variable(name: str) -> None:
    """The server's validateNameForUserWrite: raises 16866, 16867 or 16868."""
    if name == "CURRENT":
        return
    if not name:
        raise CommandError(ErrorCode.Location16866, "empty variable names are not allowed")
    if not _user_char(name[0], first=True):
        raise CommandError(
            ErrorCode.Location16867,
            f"'{name}' starts with an invalid character for a user variable name",
        )
    for char in name[1:]:
        if not _user_char(char, first=False):
            raise CommandError(
                ErrorCode.Location16868,
                f"'{name}' contains an invalid character for a variable name: '{char}'",
            )


# ---------------------------------------------------------------- $let


@_operator("$let")
def _let(args: Any, scope: Scope) -> Evaluator:
    if not is_object(args):
        raise CommandError(ErrorCode.Location16874, "$let only supports an object as its argument")
    for name in args:
        if name not in ("vars", "in"):
            raise CommandError(ErrorCode.Location16875, f"Unrecognized parameter to $let: {name}")
    if "vars" not in args:
        raise CommandError(ErrorCode.Location16876, "Missing 'vars' parameter to $let")
    if "in" not in args:
        raise CommandError(ErrorCode.Location16877, "Missing 'in' parameter to $let")
    if not is_object(args["vars"]):
        raise CommandError(ErrorCode.Location10065, "invalid parameter: expected an object (vars)")
    bindings = []
    for name, value in args["vars"].items():
        validate_user_variable(name)
        bindings.append((name, scope.compile(value)))
    body = scope.with_variables(frozenset(name for name, _ in bindings)).compile(args["in"])

    def let(v: Vars) -> Any:
        inner = dict(v)
        for name, evaluator in bindings:
            inner[name] = evaluator(v)
        return body(inner)

    return let


# ---------------------------------------------------------------- $switch


@_operator("$switch")
def _switch(args: Any, scope: Scope) -> Evaluator:
    if not is_object(args):
        raise CommandError(
            ErrorCode.Location40060,
            f"$switch requires an object as an argument, found: {type_alias(args)}",
        )
    branches: list[tuple[Evaluator, Evaluator]] = []
    default: Evaluator | None = None
    for name, value in args.items():
        if name == "branches":
            if not isinstance(value, list):
                raise CommandError(
                    ErrorCode.Location40061,
                    f"$switch expected an array for 'branches', found: {type_alias(value)}",
                )
            branches.extend(_branch(branch, scope) for branch in value)
        elif name == "default":
            default = scope.compile(value)
        else:
            raise CommandError(
                ErrorCode.Location40067, f"$switch found an unknown argument: {name}"
            )
    if not branches:
        raise CommandError(ErrorCode.Location40068, "$switch requires at least one branch.")

    def switch(v: Vars) -> Any:
        for case, then in branches:
            if to_bool(case(v)):
                return then(v)
        if default is None:
            raise CommandError(
                ErrorCode.Location40066,
                "$switch could not find a matching branch for an input, and no default was "
                "specified.",
            )
        return default(v)

    return switch


def _branch(branch: Any, scope: Scope) -> tuple[Evaluator, Evaluator]:
    if not is_object(branch):
        raise CommandError(
            ErrorCode.Location40062,
            f"$switch expected each branch to be an object, found: {type_alias(branch)}",
        )
    parts: dict[str, Evaluator] = {}
    for name, value in branch.items():
        if name not in ("case", "then"):
            raise CommandError(
                ErrorCode.Location40063, f"$switch found an unknown argument to a branch: {name}"
            )
        parts[name] = scope.compile(value)
    if "case" not in parts:
        raise CommandError(
            ErrorCode.Location40064, "$switch requires each branch have a 'case' expression"
        )
    if "then" not in parts:
        raise CommandError(
            ErrorCode.Location40065, "$switch requires each branch have a 'then' expression."
        )
    return parts["case"], parts["then"]


# ---------------------------------------------------------------- $getField / $setField

_FIELD_CODES = {
    "$getField": {
        "object": ErrorCode.Location3041700,
        "unknown": ErrorCode.Location3041701,
        "field": ErrorCode.Location3041702,
        "input": ErrorCode.Location3041703,
        "constant": ErrorCode.Location5654600,
        "string": ErrorCode.Location5654601,
        "path": ErrorCode.Location5654602,
        "type": ErrorCode.Location3041704,
    },
    "$setField": {
        "object": ErrorCode.Location4161100,
        "unknown": ErrorCode.Location4161101,
        "field": ErrorCode.Location4161102,
        "value": ErrorCode.Location4161103,
        "input": ErrorCode.Location4161104,
        "constant": ErrorCode.Location4161106,
        "string": ErrorCode.Location4161107,
        "path": ErrorCode.Location4161108,
        "type": ErrorCode.Location4161105,
    },
}


def _field_name(name: str, spec: Any, codes: dict[str, ErrorCode]) -> str:
    if isinstance(spec, Mapping) and list(spec) == ["$literal"]:
        spec = spec["$literal"]
    elif (
        is_object(spec)
        or (isinstance(spec, str) and spec.startswith("$"))
        or isinstance(spec, list)
    ):
        if isinstance(spec, str):
            raise CommandError(
                codes["path"],
                f"A string that represents a field path can't be used with {name}: {spec}",
            )
        raise CommandError(
            codes["constant"],
            f"{name} requires 'field' to evaluate to a constant, but got a non-constant argument",
        )
    if not isinstance(spec, str):
        raise CommandError(
            codes["string"],
            f"{name} requires 'field' to evaluate to type String, but got {type_alias(spec)}",
        )
    return spec


def _field_args(name: str, args: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    codes = _FIELD_CODES["$getField" if name == "$getField" else "$setField"]
    if name == "$getField" and not is_object(args):
        return {"field": args, "input": "$$CURRENT"}
    if not is_object(args):
        raise CommandError(codes["object"], f"{name} only supports an object as its argument")
    for key in args:
        if key not in allowed:
            raise CommandError(codes["unknown"], f"{name} found an unknown argument: {key}")
    for key in allowed:
        if key not in args:
            raise CommandError(codes[key], f"{name} requires '{key}' to be specified")
    return dict(args)


def _compile_field_access(name: str, args: dict[str, Any], scope: Scope) -> tuple[str, Evaluator]:
    codes = _FIELD_CODES["$getField" if name == "$getField" else "$setField"]
    field = _field_name(name, args["field"], codes)
    source = scope.compile(args["input"])

    def input_of(v: Vars) -> Any:
        value = source(v)
        if value is None or value is MISSING or is_object(value):
            return value
        raise CommandError(
            codes["type"],
            f"{name} requires 'input' to evaluate to type Object, but got {type_alias(value)}",
        )

    return field, input_of


@_operator("$getField")
def _get_field(args: Any, scope: Scope) -> Evaluator:
    spec = _field_args("$getField", args, ("field", "input"))
    field, input_of = _compile_field_access("$getField", spec, scope)

    def get_field(v: Vars) -> Any:
        value = input_of(v)
        if value is None or value is MISSING:
            return None
        return value.get(field, MISSING)

    return get_field


def _set_field_operator(name: str, allowed: tuple[str, ...]) -> None:
    def compile_operator(args: Any, scope: Scope) -> Evaluator:
        spec = _field_args(name, args, allowed)
        field, input_of = _compile_field_access(name, spec, scope)
        new_value = scope.compile(spec.get("value", "$$REMOVE"))

        def set_field(v: Vars) -> Any:
            value = input_of(v)
            if value is None or value is MISSING:
                return None
            out = dict(value)
            item = new_value(v)
            if item is MISSING:
                out.pop(field, None)
            else:
                out[field] = item
            return out

        return set_field

    OPERATORS[name] = compile_operator


_set_field_operator("$setField", ("field", "input", "value"))
_set_field_operator("$unsetField", ("field", "input"))


# ---------------------------------------------------------------- $rand and refusals


@_operator("$rand")
def _rand(args: Any, scope: Scope) -> Evaluator:
    if not (is_object(args) and not args):
        raise CommandError(
            ErrorCode.Location10065,
            f"$rand does not currently accept arguments: {bson_repr(args)}",
        )
    return lambda v: random.random()  # noqa: S311 - $rand is not cryptographic
