"""``$unwind``: one output document per element of an array field.

Manual, "$unwind": the path is a ``$``-prefixed field path reached through
embedded documents (not arrays); a non-array value is treated as a one-element
array; null, missing and ``[]`` produce nothing unless
``preserveNullAndEmptyArrays`` (an empty array's field is then removed);
``includeArrayIndex`` adds the element's index as a long (null when the value
was not an array).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bson import Int64

from fakemongo._bsonorder import MISSING, type_alias
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._paths import parse_field_path
from fakemongo._stages import Doc, Run, Stage, StageScope, is_object, nested_value, set_path, stage

__all__: list[str] = []


def _unwind_options(spec: Any) -> tuple[str, Any, bool]:
    if isinstance(spec, str):
        return spec, None, False
    if not is_object(spec):
        raise CommandError(
            ErrorCode.Location15981,
            "expected either a string or an object as specification for $unwind stage, "
            f"got {type_alias(spec)}",
        )
    path, index, preserve = "", None, False
    for name, value in spec.items():
        if name == "path":
            if not isinstance(value, str):
                raise CommandError(
                    ErrorCode.Location28808,
                    f"expected a string as the path for $unwind stage, got {type_alias(value)}",
                )
            path = value
        elif name == "preserveNullAndEmptyArrays":
            if not isinstance(value, bool):
                raise CommandError(
                    ErrorCode.Location28809,
                    "expected a boolean for the preserveNullAndEmptyArrays option to $unwind "
                    f"stage, got {type_alias(value)}",
                )
            preserve = value
        elif name == "includeArrayIndex":
            if not isinstance(value, str) or not value:
                # The doubled space is the server's.
                raise CommandError(
                    ErrorCode.Location28810,
                    "expected a non-empty string for the includeArrayIndex  option to $unwind "
                    f"stage, got {type_alias(value)}",
                )
            if value.startswith("$"):
                raise CommandError(
                    ErrorCode.Location28822,
                    "includeArrayIndex option to $unwind stage should not be prefixed with a "
                    f"'$': {value}",
                )
            index = value
        else:
            raise CommandError(
                ErrorCode.Location28811, f"unrecognized option to $unwind stage: {name}"
            )
    if not path:
        raise CommandError(ErrorCode.Location28812, "no path specified to $unwind stage")
    return path, index, preserve


@stage("$unwind")
def _unwind(spec: Any, scope: StageScope) -> Stage:
    path, index_name, preserve = _unwind_options(spec)
    if not path.startswith("$"):
        raise CommandError(
            ErrorCode.Location28818,
            f"path option to $unwind stage should be prefixed with a '$': {path}",
        )
    parts = parse_field_path(path[1:])
    index_parts = parse_field_path(index_name) if index_name is not None else None

    def emit(doc: Mapping[str, Any], value: Any, index: Any) -> Doc:
        out = set_path(doc, parts, value)
        return out if index_parts is None else set_path(out, index_parts, index)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        # Manual, "$unwind": a non-array operand is treated as a one-element array;
        # null, missing and [] produce nothing unless preserveNullAndEmptyArrays.
        for doc in docs:
            value = nested_value(doc, parts)
            if not isinstance(value, list):
                if value is None or value is MISSING:
                    if preserve:
                        yield emit(doc, value, None)
                else:
                    yield emit(doc, value, None)
            elif not value:
                if preserve:
                    yield emit(doc, MISSING, None)
            else:
                for index, item in enumerate(value):
                    yield emit(doc, item, Int64(index))

    return apply
