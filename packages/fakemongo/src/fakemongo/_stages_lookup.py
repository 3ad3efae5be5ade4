"""Stages with sub-pipelines: ``$lookup``, ``$unionWith`` and ``$facet``.

Manual, "$lookup": the equality form matches ``foreignField`` against every value
at ``localField`` (array elements included; a missing value or an empty array
matches as null) with the query language's ``$eq``, so foreign arrays match by
element and null matches missing; the pipeline form runs a sub-pipeline per input
document with ``let`` variables bound from it; the combined form (5.0) does the
equality match first, then the pipeline. The foreign collection's documents come
from :meth:`PipelineContext.collection_documents`. ``$unionWith`` appends another
collection's documents (through an optional pipeline). ``$facet`` runs several
sub-pipelines over the same input and outputs one document of their results.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fakemongo._bsonorder import MISSING, Rank, bson_repr, type_alias, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr_misc import validate_user_variable
from fakemongo._match import compile_filter
from fakemongo._paths import EMPTY_ARRAY, LeafArrays, candidates, parse_field_path
from fakemongo._stages import (
    Doc,
    Run,
    Stage,
    StageScope,
    Where,
    compile_stages,
    is_object,
    run_stages,
    set_path,
    stage,
)

__all__: list[str] = []

# Stages a sub-pipeline may not hold, by the pipeline that holds it.
_NOT_IN_FACET = frozenset({"$out", "$merge", "$facet", "$documents"})
_NOT_IN_LOOKUP = frozenset({"$out", "$merge"})


def _sub_pipeline(value: Any) -> list[Any]:
    """A sub-pipeline argument (the server's parsePipelineFromBSON)."""
    if not isinstance(value, list):
        raise CommandError(
            ErrorCode.TypeMismatch, "'pipeline' option must be specified as an array"
        )
    for item in value:
        if not is_object(item):
            raise CommandError(
                ErrorCode.TypeMismatch, "Each element of the 'pipeline' array must be an object"
            )
    return value


def _starts_with_documents(pipeline: list[Any]) -> bool:
    return bool(pipeline) and "$documents" in pipeline[0]


# ---------------------------------------------------------------- $lookup


def _lookup_from(value: Any) -> str:
    if isinstance(value, str):
        return value
    if is_object(value):
        raise CommandError(
            ErrorCode.FailedToParse,
            "$lookup with syntax {from: {db:<>, coll:<>},..} is not supported for db: "
            f"{value.get('db', '')} and coll: {value.get('coll', '')}",
        )
    raise CommandError(
        ErrorCode.FailedToParse,
        f"$lookup 'from' field must be a string, but found {type_alias(value)}",
    )


def _local_values(doc: Mapping[str, Any], parts: tuple[str, ...]) -> list[Any]:
    values = [
        value
        for value, _ in candidates(doc, parts, LeafArrays.ELEMENTS)
        if value is not MISSING and value is not EMPTY_ARRAY
    ]
    return values or [None]  # missing values are treated as null


def _equality_filter(field: str, values: list[Any]) -> dict[str, Any]:
    # document_source_lookup.cpp makeMatchStageFromInput: $eq, $in, or an $or of $eq
    # when a regex is among the values ($in would treat it as a pattern).
    if len(values) == 1:
        return {field: {"$eq": values[0]}}
    if any(type_rank(value) == Rank.REGEX for value in values):
        return {"$or": [{field: {"$eq": value}} for value in values]}
    return {field: {"$in": values}}


@stage("$lookup")
def _lookup(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec):
        raise CommandError(ErrorCode.FailedToParse, "the $lookup specification must be an Object")
    source: str | None = None
    strings: dict[str, str] = {}
    pipeline: list[Any] | None = None
    let: Mapping[str, Any] | None = None
    for name, value in spec.items():
        if name == "pipeline":
            pipeline = _sub_pipeline(value)
        elif name == "let":
            if not is_object(value):
                raise CommandError(
                    ErrorCode.FailedToParse,
                    f"$lookup argument 'let: {bson_repr(value)}' must be an object, is type "
                    f"{type_alias(value)}",
                )
            let = value
        elif name == "from":
            source = _lookup_from(value)
        elif not isinstance(value, str):
            raise CommandError(
                ErrorCode.FailedToParse,
                f"$lookup argument '{name}' must be a string, found {name}: {bson_repr(value)}: "
                f"{type_alias(value)}",
            )
        elif name in ("as", "localField", "foreignField"):
            strings[name] = value
        else:
            raise CommandError(ErrorCode.FailedToParse, f"unknown argument to $lookup: {name}")
    if source is None:
        if pipeline is None:
            raise CommandError(
                ErrorCode.FailedToParse, "must specify 'pipeline' when 'from' is empty"
            )
        if not _starts_with_documents(pipeline):
            raise CommandError(
                ErrorCode.FailedToParse,
                "$lookup stage without explicit collection must have a pipeline with $documents "
                "as first stage",
            )
    as_field, local, foreign = (strings.get(k, "") for k in ("as", "localField", "foreignField"))
    if not as_field:
        raise CommandError(ErrorCode.FailedToParse, "must specify 'as' field for a $lookup")
    if pipeline is None:
        if not (local and foreign):
            raise CommandError(
                ErrorCode.FailedToParse,
                "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to "
                "be specified",
            )
        if let is not None:
            raise CommandError(
                ErrorCode.FailedToParse,
                "$lookup with a 'let' argument must also specify 'pipeline'",
            )
    elif bool(local) != bool(foreign):
        raise CommandError(
            ErrorCode.FailedToParse,
            "$lookup requires both or neither of 'localField' and 'foreignField' to be specified",
        )
    as_parts = parse_field_path(as_field)
    local_parts = parse_field_path(local) if local else None
    if foreign:
        parse_field_path(foreign)
    let_items = []
    for name, value in (let or {}).items():
        validate_user_variable(name)
        let_items.append((name, scope.expr.compile(value)))
    inner_scope = StageScope(
        scope.expr.with_variables(frozenset(name for name, _ in let_items)), Where.LOOKUP
    )
    stages = compile_stages(pipeline or [], inner_scope)
    for name, _ in stages:
        if name in _NOT_IN_LOOKUP:
            raise CommandError(
                ErrorCode.Location51047, f"{name} is not allowed within a $lookup's sub-pipeline"
            )
    string_key = scope.expr.string_key
    # The equality match runs first, or right after a leading $documents.
    split = 1 if pipeline and _starts_with_documents(pipeline) else 0
    head, tail = stages[:split], stages[split:]

    def matches(doc: Doc, run: Run) -> Iterator[Doc]:
        inner_run = run.with_variables(
            {name: run.evaluate(evaluator, doc) for name, evaluator in let_items}
        )
        foreign_docs: Iterator[Doc] = iter(())
        if source is not None:
            foreign_docs = iter(run.ctx.collection_documents(run.ctx.db, source))
        foreign_docs = run_stages(head, foreign_docs, inner_run)
        if local_parts is not None:
            values = _local_values(doc, local_parts)
            matcher = compile_filter(_equality_filter(foreign, values), string_key)
            foreign_docs = (d for d in foreign_docs if matcher.matches(d))
        return run_stages(tail, foreign_docs, inner_run)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for doc in docs:
            yield set_path(doc, as_parts, list(matches(doc, run)))

    return apply


# ---------------------------------------------------------------- $unionWith


@stage("$unionWith")
def _union_with(spec: Any, scope: StageScope) -> Stage:
    pipeline: list[Any] = []
    if isinstance(spec, str):
        source: str | None = spec
    elif is_object(spec):
        source = None
        for name, value in spec.items():
            if name == "coll":
                if not isinstance(value, str):
                    raise CommandError(
                        ErrorCode.TypeMismatch,
                        f"BSON field '$unionWith.coll' is the wrong type '{type_alias(value)}', "
                        "expected type 'string'",
                    )
                source = value
            elif name == "pipeline":
                pipeline = _sub_pipeline(value)
            else:
                raise CommandError(
                    ErrorCode.Location40415, f"BSON field '$unionWith.{name}' is an unknown field."
                )
        if source is None and not _starts_with_documents(pipeline):
            raise CommandError(
                ErrorCode.FailedToParse,
                "$unionWith stage without explicit collection must have a pipeline with "
                "$documents as first stage",
            )
    else:
        raise CommandError(
            ErrorCode.FailedToParse,
            "the $unionWith stage specification must be an object or string, but found "
            f"{type_alias(spec)}",
        )
    stages = compile_stages(pipeline, StageScope(scope.expr, Where.UNION_WITH))
    for name, _ in stages:
        if name in _NOT_IN_LOOKUP:
            raise CommandError(
                ErrorCode.Location31441, f"{name} is not allowed within a $unionWith's sub-pipeline"
            )

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        yield from docs
        foreign: Iterator[Doc] = iter(())
        if source is not None:
            foreign = iter(run.ctx.collection_documents(run.ctx.db, source))
        yield from run_stages(stages, foreign, run)

    return apply


# ---------------------------------------------------------------- $facet

_FACET_NAMES = "$facet pipeline names must follow the naming rules of field path expressions."


@stage("$facet")
def _facet(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec) or not spec:
        raise CommandError(
            ErrorCode.Location40169,
            f"the $facet specification must be a non-empty object, but found: $facet: "
            f"{bson_repr(spec)}",
        )
    for name, value in spec.items():
        try:
            if "." in name:
                raise CommandError(
                    ErrorCode.Location16412, "FieldPath field names may not contain '.'."
                )
            parse_field_path(name)
        except CommandError as error:
            raise CommandError(
                error.code, f"{_FACET_NAMES} :: caused by :: {error.errmsg}"
            ) from None
        if not isinstance(value, list):
            raise CommandError(
                ErrorCode.Location40170,
                f"arguments to $facet must be arrays, {name} is type {type_alias(value)}",
            )
        for index, item in enumerate(value):
            if not is_object(item):
                raise CommandError(
                    ErrorCode.Location40171,
                    "elements of arrays in $facet spec must be non-empty objects, "
                    f"{name} argument contained an element of type {type_alias(item)}: "
                    f"{index}: {bson_repr(item)}",
                )
    facets = []
    for name, value in spec.items():
        stages = compile_stages(value, StageScope(scope.expr, Where.FACET))
        if not stages:
            raise CommandError(ErrorCode.BadValue, "sub-pipeline in $facet stage cannot be empty")
        for stage_name, _ in stages:
            if stage_name in _NOT_IN_FACET:
                raise CommandError(
                    ErrorCode.Location40600,
                    f"{stage_name} is not allowed to be used within a $facet stage",
                )
        facets.append((name, stages))

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        inputs = list(docs)
        yield {name: list(run_stages(stages, inputs, run)) for name, stages in facets}

    return apply
