"""What an update takes from filters: its array filters, and an upsert's seed.

Array filters (manual, "$[<identifier>]"): each filter's paths all start with one
identifier, a lowercase letter then letters and digits; an element matches when
the filter matches ``{<identifier>: element}``. The upsert seed (manual, "upsert"
behaviour, and "Upsert with Dotted _id Query"): the equality conditions of the
filter, dotted paths building embedded documents, in path order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fakemongo._bsonorder import StringKey
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._match import compile_filter, is_operator_document
from fakemongo._matchops import is_regex
from fakemongo._update_arrays import ban_special_features
from fakemongo._update_ops import copy_value, is_object

__all__ = ["array_filters", "upsert_seed"]


_IDENTIFIER = re.compile(r"[a-z][a-zA-Z0-9]*")


def _placeholder(spec: Mapping[str, Any]) -> str | None:
    """ExpressionWithPlaceholder: the one top-level field name all paths start with."""
    found: str | None = None
    for name, value in spec.items():
        if name in ("$and", "$or", "$nor"):
            names = [_placeholder(clause) for clause in value]
        elif name.startswith("$"):
            continue
        else:
            names = [name.split(".")[0]]
        for candidate in names:
            if candidate is None:
                continue
            if found is not None and candidate != found:
                raise CommandError(
                    ErrorCode.FailedToParse,
                    "Error parsing array filter :: caused by :: Expected a single top-level "
                    f"field name, found '{found}' and '{candidate}'",
                )
            found = candidate
    return found


def array_filters(
    specs: list[Mapping[str, Any]], string_key: StringKey | None
) -> dict[str, Callable[[Any], bool]]:
    """ParsedUpdate::parseArrayFilters: one matcher per identifier."""
    filters: dict[str, Callable[[Any], bool]] = {}
    for spec in specs:
        try:
            ban_special_features(spec)
            matcher = compile_filter(spec, string_key)
        except CommandError as error:
            raise CommandError(
                error.code,
                f"Error parsing array filter :: caused by :: {error.errmsg}",
                code_name=error.code_name,
            ) from None
        identifier = _placeholder(spec)
        if identifier is not None and not _IDENTIFIER.fullmatch(identifier):
            raise CommandError(
                ErrorCode.BadValue,
                "Error parsing array filter :: caused by :: The top-level field name must be an "
                f"alphanumeric string beginning with a lowercase letter, found '{identifier}'",
            )
        if identifier is None:
            raise CommandError(
                ErrorCode.FailedToParse,
                "Cannot use an expression without a top-level field name in arrayFilters",
            )
        if identifier in filters:
            raise CommandError(
                ErrorCode.FailedToParse,
                f"Found multiple array filters with the same top-level field name {identifier}",
            )
        filters[identifier] = _element_test(identifier, matcher.matches)
    return filters


def _element_test(
    identifier: str, matches: Callable[[Mapping[str, Any]], bool]
) -> Callable[[Any], bool]:
    return lambda element: matches({identifier: element})


# ---------------------------------------------------------------- upsert


def _equalities(filter: Mapping[str, Any], out: list[tuple[str, Any]]) -> None:
    """The equality predicates of a canonical query (after $and flattening, one-clause
    $or and single-value $in/$all rewrites)."""
    for name, value in filter.items():
        if name == "$and":
            for clause in value:
                _equalities(clause, out)
        elif name == "$or":
            if len(value) == 1:
                _equalities(value[0], out)
        elif name.startswith("$"):
            continue
        elif is_operator_document(value):
            for operator, argument in value.items():
                if operator == "$eq":
                    out.append((name, argument))
                elif operator == "$in" and len(argument) == 1 and not is_regex(argument[0]):
                    out.append((name, argument[0]))
                elif operator == "$all" and not (argument and _is_elem_match(argument[0])):
                    out.extend((name, item) for item in argument if not is_regex(item))
        elif not is_regex(value):
            out.append((name, value))


def _is_elem_match(value: Any) -> bool:
    return is_object(value) and bool(value) and next(iter(value)) == "$elemMatch"


def _reject_expr(filter: Mapping[str, Any]) -> None:
    for name, value in filter.items():
        if name == "$expr":
            raise CommandError(
                ErrorCode.QueryFeatureNotAllowed,
                "$expr is not allowed in the query predicate for an upsert",
            )
        if name in ("$and", "$or", "$nor"):
            for clause in value:
                _reject_expr(clause)


def upsert_seed(filter: Mapping[str, Any], *, replacement: bool = False) -> dict[str, Any]:
    """The document an upsert starts from (manual, "upsert": "the update creates a base
    document from the equality clauses in the <query> parameter").

    ``filter`` must already be a valid filter. With ``replacement`` (a replacement
    update) only ``_id`` is taken from it, as the server does. Raises 54
    NotSingleValueField when two equalities set one path or a path and its prefix, 111
    when a replacement's filter names a sub-field of ``_id``, 224 for ``$expr``.
    """
    _reject_expr(filter)
    found: list[tuple[str, Any]] = []
    _equalities(filter, found)
    found.sort(key=lambda pair: pair[0])  # the server's canonical order: by path
    seed: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for path, value in found:
        parts = path.split(".")
        if replacement:
            if parts[0] != "_id":
                continue
            if len(parts) > 1:
                raise CommandError(
                    ErrorCode.NotExactValueField,
                    f"field at '_id' must be exactly specified, field at sub-path '{path}'found",
                )
        for size in range(len(parts), 0, -1):
            prefix = ".".join(parts[:size])
            if prefix in paths:
                reason = (
                    f"path '{path}' is matched twice"
                    if size == len(parts)
                    else f"both paths '{path}' and '{prefix}' are matched"
                )
                raise CommandError(
                    ErrorCode.NotSingleValueField, f"cannot infer query fields to set, {reason}"
                )
        paths[path] = value
        target = seed
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = copy_value(value)
    if "_id" in seed:
        seed = {"_id": seed.pop("_id"), **seed}
    return seed
