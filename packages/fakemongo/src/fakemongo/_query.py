"""Run a query against a collection: plan, match, sort, skip, limit, project.

Shared by find, count, distinct, delete, update, findAndModify and the first
``$match`` of an aggregation, so they agree on what a filter selects.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._collation import Collation, parse_collation
from ._errors import CommandError, ErrorCode
from ._expr import bound_variables, compile_expression, evaluate
from ._expr_misc import validate_user_variable
from ._match import Matcher, compile_filter
from ._planner import Plan, plan_query
from ._projection import Projection, compile_projection
from ._sort import document_sort_key, parse_sort
from ._storage import Collection

__all__ = ["Query", "compile_query"]

# The clock maxTimeMS is measured with (a module attribute so tests can step it).
_clock = time.monotonic


@dataclass
class Query:
    """A compiled query over one collection (which may not exist)."""

    collection: Collection | None
    filter: Mapping[str, Any]
    matcher: Matcher
    plan: Plan | None
    collation: Collation | None = None
    sort: Any = None
    projection: Projection | None = None
    skip: int = 0
    limit: int | None = None
    variables: Mapping[str, Any] | None = None  # the command's ``let``, evaluated
    natural: int = 1  # -1: {$natural: -1}, newest first
    deadline: float | None = None  # time.monotonic() past which maxTimeMS has expired

    @property
    def string_key(self) -> Any:
        return None if self.collation is None else self.collation.key

    def matches(self) -> Iterator[tuple[dict[str, Any], int | None]]:
        """Matching stored documents with their positional match index, in
        plan order (sorting, skip and limit are applied by :meth:`documents`)."""
        if self.plan is None:
            return
        match_index = self.matcher.match_index
        variables = self.variables
        for count, doc in enumerate(self.plan.candidates()):
            if self.deadline is not None and count % 256 == 0 and _clock() >= self.deadline:
                # Manual, "maxTimeMS": the operation is interrupted with 50.
                raise CommandError(ErrorCode.MaxTimeMSExpired, "operation exceeded time limit")
            if variables is None:
                matched, index = match_index(doc)
            else:
                with bound_variables(variables):
                    matched, index = match_index(doc)
            if matched:
                yield doc, index

    def documents(self) -> Iterator[dict[str, Any]]:
        """The query's result: matched, sorted, skipped, limited and projected."""
        rows: Iterator[tuple[dict[str, Any], int | None]] = self.matches()
        if self.natural == -1:
            rows = reversed(list(rows))
        if self.sort is not None and self.sort.keys:
            spec, string_key = self.sort, self.string_key
            rows = iter(sorted(rows, key=lambda row: document_sort_key(row[0], spec, string_key)))
        stop = None if self.limit is None else self.skip + self.limit
        rows = itertools.islice(rows, self.skip, stop)
        projection = self.projection
        if projection is None:
            return (doc for doc, _ in rows)
        if self.variables is None:
            return (projection.apply(doc, index) for doc, index in rows)
        return self._project_with_variables(rows, projection, self.variables)

    @staticmethod
    def _project_with_variables(
        rows: Iterator[tuple[dict[str, Any], int | None]],
        projection: Projection,
        variables: Mapping[str, Any],
    ) -> Iterator[dict[str, Any]]:
        for doc, index in rows:
            with bound_variables(variables):
                projected = projection.apply(doc, index)
            yield projected


def compile_query(
    collection: Collection | None,
    filter: Any,
    *,
    command: str,
    sort: Any = None,
    projection: Any = None,
    collation: Any = None,
    hint: Any = None,
    skip: int = 0,
    limit: int | None = None,
    let: Any = None,
    min: Any = None,
    max: Any = None,
    max_time_ms: int | None = None,
) -> Query:
    """Validate and compile; raises CommandError as mongod's parsers do.

    ``let`` holds variables for ``$expr`` and projection expressions (manual:
    "find", let), evaluated once; ``min``/``max`` bound the hinted index;
    ``max_time_ms`` interrupts a scan that runs past it.
    """
    if not isinstance(filter, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field '{command}.filter' is the wrong type, expected type 'object'",
        )
    if collation is not None and not isinstance(collation, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field '{command}.collation' is the wrong type, expected type 'object'",
        )
    parsed_collation = parse_collation(collation)
    string_key = None if parsed_collation is None else parsed_collation.key
    variables = _evaluate_let(command, let)
    with bound_variables(variables or {}):
        matcher = compile_filter(filter, string_key)
    sort_spec = None
    natural = 1
    if isinstance(sort, Mapping) and len(sort) == 1 and "$natural" in sort:
        # Manual, "$natural": 1 is insertion order (no sort), -1 the reverse.
        natural = -1 if sort["$natural"] == -1 else 1
        if sort["$natural"] not in (1, -1):
            raise CommandError(
                ErrorCode.BadValue, "$natural sort cannot be set to a value other than -1 or 1"
            )
        sort = None
    if sort is not None:
        if not isinstance(sort, Mapping):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"BSON field '{command}.sort' is the wrong type, expected type 'object'",
            )
        sort_spec = parse_sort(sort)
    compiled_projection = None
    if projection is not None:
        if not isinstance(projection, Mapping):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"BSON field '{command}.projection' is the wrong type, expected type 'object'",
            )
        if projection:
            with bound_variables(variables or {}):
                compiled_projection = compile_projection(projection, filter, string_key)
    if hint is not None and not isinstance(hint, str | Mapping):
        raise CommandError(ErrorCode.FailedToParse, "hint must be either a string or nested object")
    if hint in ("", {}):
        hint = None
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, Mapping):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"BSON field '{command}.{name}' is the wrong type, expected type 'object'",
            )
    plan = plan_query(
        collection, filter, hint=hint, collated=parsed_collation is not None, min=min, max=max
    )
    deadline = None if not max_time_ms else _clock() + max_time_ms / 1000
    return Query(
        collection,
        filter,
        matcher,
        plan,
        parsed_collation,
        sort_spec,
        compiled_projection,
        skip,
        limit,
        variables=variables,
        deadline=deadline,
        natural=natural,
    )


def _evaluate_let(command: str, let: Any) -> dict[str, Any] | None:
    if let is None:
        return None
    if not isinstance(let, Mapping):
        raise CommandError(
            ErrorCode.TypeMismatch,
            f"BSON field '{command}.let' is the wrong type, expected type 'object'",
        )
    values: dict[str, Any] = {}
    for name, spec in let.items():
        validate_user_variable(name)
        # Each variable is a constant expression, evaluated once, and may use
        # the ones defined before it.
        with bound_variables(values):
            values[name] = evaluate(compile_expression(spec), {})
    return values
