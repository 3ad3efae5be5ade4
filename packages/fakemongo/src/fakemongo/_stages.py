"""Aggregation stages: the registry, the stage-list compiler, and the simple stages.

A stage compiles once (validating its specification with the server's codes and
wording) into a function from an iterator of documents to an iterator of
documents; streaming stages stay lazy, blocking ones ($sort, $sample, $group...)
consume their input first. Stage modules (``_stages_*.py``) register into
:data:`STAGES`; :mod:`fakemongo._aggregate` imports them all.

This module holds ``$match`` ``$skip`` ``$limit`` ``$count`` ``$sort`` ``$sample``
``$replaceRoot``/``$replaceWith`` ``$sortByCount`` and ``$documents``.
Input documents are never modified: a stage that changes a document copies it.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bson import Int64

from fakemongo._bsonorder import (
    MISSING,
    Rank,
    StringKey,
    bson_repr,
    is_nan,
    type_alias,
    type_rank,
)
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope, bound_variables
from fakemongo._expr_util import value_text
from fakemongo._match import compile_filter
from fakemongo._matchops import parse_integer
from fakemongo._sort import parse_sort, sort_documents

__all__ = [
    "STAGES",
    "Doc",
    "MergeTarget",
    "PipelineContext",
    "Run",
    "Stage",
    "StageScope",
    "Where",
    "compile_stages",
    "is_object",
    "run_stages",
    "set_path",
    "value_repr",
]

Doc = dict[str, Any]


class MergeTarget(Protocol):
    """The collection a ``$merge`` writes into, as the storage exposes it.

    ``$merge`` semantics (matching, whenMatched, whenNotMatched) live in
    :mod:`fakemongo._stages_out`; the storage only finds and writes documents.
    """

    def has_unique_index(self, on: tuple[str, ...]) -> bool:
        """Whether a unique index covers exactly the fields ``on`` (``_id`` always does)."""
        ...

    def find_matching(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The document whose ``on`` fields (dotted names, the keys of ``key``) equal
        ``key``'s values under BSON equality, or None."""
        ...

    def insert(self, doc: dict[str, Any]) -> None:
        """Insert ``doc`` as an insert would: assign an ``_id`` when it has none, raise
        CommandError (11000 DuplicateKey, document validation...) on failure."""
        ...

    def replace(self, existing: Mapping[str, Any], doc: dict[str, Any]) -> None:
        """Replace ``existing`` (found by :meth:`find_matching`) with ``doc``; ``doc``
        carries ``existing``'s ``_id``. Raise CommandError as a replacement would."""
        ...


class PipelineContext(Protocol):
    """What a running pipeline needs from the server (the command handler implements it).

    An optional ``cluster_time`` attribute (a Timestamp, on replica sets) binds
    ``$$CLUSTER_TIME``; without it, using the variable fails with 51144.
    """

    db: str
    string_key: StringKey | None  # the command's collation; compile_pipeline must get the same
    variables: dict[str, Any]  # evaluated values binding over the compiled ``let``

    def collection_documents(self, db: str, coll: str) -> Iterable[dict[str, Any]]:
        """Every document of ``db.coll`` (none when it does not exist)."""
        ...

    def write_out(self, db: str, coll: str, docs: list[dict[str, Any]]) -> None:
        """``$out``: replace the target collection's documents atomically (keeping its
        indexes and options), assigning ``_id`` where missing as inserts do; raise
        CommandError (11000 on a duplicate ``_id``, a capped or view target...)."""
        ...

    def merge_target(self, db: str, coll: str) -> MergeTarget:
        """``$merge``: the target collection (created on first insert if absent)."""
        ...


class Where(enum.Enum):
    """Which pipeline a stage is compiled into (for the stages' placement rules)."""

    TOP = "top"
    FACET = "facet"
    LOOKUP = "lookup"
    UNION_WITH = "unionWith"


@dataclass(frozen=True, slots=True)
class StageScope:
    """What a stage is compiled against: expression scope and placement."""

    expr: Scope
    where: Where = Where.TOP


@dataclass(frozen=True, slots=True)
class Run:
    """One execution: the server context, bound variables, a random source."""

    ctx: PipelineContext
    variables: Mapping[str, Any] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def bind(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """Bindings to evaluate an expression with ``doc`` as $$ROOT and $$CURRENT."""
        return {**self.variables, "ROOT": doc, "CURRENT": doc}

    def evaluate(self, evaluator: Evaluator, doc: Mapping[str, Any]) -> Any:
        """Evaluate a compiled expression against ``doc``."""
        return evaluator(self.bind(doc))

    def with_variables(self, extra: Mapping[str, Any]) -> Run:
        """A run with more variables bound (a $lookup's ``let``)."""
        return replace(self, variables={**self.variables, **extra})


Stage = Callable[[Iterator[Doc], Run], Iterator[Doc]]
StageCompiler = Callable[[Any, StageScope], Stage]

STAGES: dict[str, StageCompiler] = {}
"""Stage name -> compiler of its specification. Stage modules register here."""

# Real MongoDB 8.0 stages this emulator does not implement: refused with 115.
_UNSUPPORTED = frozenset(
    {"$bucket", "$bucketAuto", "$changeStream", "$changeStreamSplitLargeEvent", "$collStats"}
    | {"$currentOp", "$densify", "$fill", "$geoNear", "$graphLookup", "$indexStats"}
    | {"$listLocalSessions", "$listSampledQueries", "$listSearchIndexes", "$listSessions"}
    | {"$planCacheStats", "$querySettings", "$redact", "$search", "$searchMeta"}
    | {"$setWindowFields", "$shardedDataDistribution", "$vectorSearch", "$queryStats"}
    | {"$listClusterCatalog", "$rankFusion", "$scoreFusion", "$score"}
)
# Placement rules: stages that must come last, or first.
LAST_ONLY = frozenset({"$out", "$merge"})
_FIRST_ONLY = frozenset({"$documents"})


def stage(name: str) -> Callable[[StageCompiler], StageCompiler]:
    """Register a stage compiler under ``name``."""

    def register(compiler: StageCompiler) -> StageCompiler:
        STAGES[name] = compiler
        return compiler

    return register


def is_object(value: Any) -> bool:
    """Whether ``value`` is an embedded document (not a DBRef or other mapping)."""
    return isinstance(value, Mapping) and type_rank(value) == Rank.OBJECT


def value_repr(value: Any) -> str:
    """A value as the server's ``Value`` prints in messages (``{a: 1}``, MISSING)."""
    return value_text(value)


def compile_stages(pipeline: Sequence[Any], scope: StageScope) -> list[tuple[str, Stage]]:
    """Compile a pipeline's stages; raises CommandError as the server would.

    Every stage is parsed before placement is checked, as the server does: 40323
    for a stage object without exactly one field, 40324 for an unknown name, 115
    for a real stage this emulator lacks, then 40601 ($out/$merge not last) and
    40602 ($documents not first).
    """
    compiled = []
    for spec in pipeline:
        if not is_object(spec) or len(spec) != 1:
            raise CommandError(
                ErrorCode.Location40323,
                "A pipeline stage specification object must contain exactly one field.",
            )
        name, argument = next(iter(spec.items()))
        compiler = STAGES.get(name)
        if compiler is None:
            if name in _UNSUPPORTED:
                raise CommandError(
                    ErrorCode.CommandNotSupported, f"{name} is not supported by fakemongo"
                )
            raise CommandError(
                ErrorCode.Location40324, f"Unrecognized pipeline stage name: '{name}'"
            )
        compiled.append((name, compiler(argument, scope)))
    for index, (name, _) in enumerate(compiled):
        if name in LAST_ONLY and index != len(compiled) - 1:
            raise CommandError(
                ErrorCode.Location40601, f"{name} can only be the final stage in the pipeline"
            )
        if name in _FIRST_ONLY and index != 0:
            raise CommandError(
                ErrorCode.Location40602, f"{name} is only valid as the first stage in a pipeline"
            )
    return compiled


def run_stages(stages: Sequence[tuple[str, Stage]], docs: Iterable[Doc], run: Run) -> Iterator[Doc]:
    """Chain compiled stages over ``docs`` (lazy: nothing runs until iterated)."""
    stream: Iterator[Doc] = iter(docs)
    for _, apply in stages:
        stream = apply(stream, run)
    return stream


def set_path(doc: Mapping[str, Any], parts: Sequence[str], value: Any) -> Doc:
    """A copy of ``doc`` with ``value`` at ``parts`` (MISSING removes the field).

    Intermediate values that are not documents are replaced by documents, as the
    server's MutableDocument.setNestedField does; other fields are shared.
    """
    out = dict(doc)
    head = parts[0]
    if len(parts) == 1:
        if value is MISSING:
            out.pop(head, None)
        else:
            out[head] = value
        return out
    child = doc.get(head)
    base: Mapping[str, Any] = child if is_object(child) else {}  # type: ignore[assignment]
    out[head] = set_path(base, parts[1:], value)
    return out


def nested_value(doc: Mapping[str, Any], parts: Sequence[str]) -> Any:
    """The value at ``parts`` through embedded documents only (never arrays)."""
    value: Any = doc
    for part in parts:
        if not is_object(value):
            return MISSING
        value = value.get(part, MISSING)
    return value


# ---------------------------------------------------------------- $match


@stage("$match")
def _match(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec):
        raise CommandError(
            ErrorCode.Location15959, "the match filter must be an expression in an object"
        )
    with bound_variables(dict.fromkeys(scope.expr.variables)):
        matcher = compile_filter(spec, scope.expr.string_key)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for doc in docs:
            with bound_variables(run.variables):
                matched = matcher.matches(doc)
            if matched:
                yield doc

    return apply


# ---------------------------------------------------------------- $skip / $limit


def _non_negative(name: str, spec: Any, code: ErrorCode) -> int:
    """The server's parseIntegerElementToNonNegativeLong, reported under ``code``."""
    try:
        number = parse_integer(name, spec)
    except CommandError as error:
        raise CommandError(code, f"invalid argument to {name} stage: {error.errmsg}") from None
    if number < 0:
        raise CommandError(
            code,
            f"invalid argument to {name} stage: "
            f"Expected a non-negative number in: {name}: {bson_repr(spec)}",
        )
    return number


@stage("$skip")
def _skip(spec: Any, scope: StageScope) -> Stage:
    count = _non_negative("$skip", spec, ErrorCode.Location5107200)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for index, doc in enumerate(docs):
            if index >= count:
                yield doc

    return apply


@stage("$limit")
def _limit(spec: Any, scope: StageScope) -> Stage:
    count = _non_negative("$limit", spec, ErrorCode.Location5107201)
    if count == 0:
        raise CommandError(ErrorCode.Location15958, "the limit must be positive")

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for index, doc in enumerate(docs):
            yield doc
            if index + 1 == count:
                return

    return apply


# ---------------------------------------------------------------- $count


@stage("$count")
def _count(spec: Any, scope: StageScope) -> Stage:
    # document_source_count.cpp: the checks, in this order.
    if not isinstance(spec, str):
        raise CommandError(ErrorCode.Location40156, "the count field must be a non-empty string")
    if not spec:
        raise CommandError(ErrorCode.Location40157, "the count field must be a non-empty string")
    if spec.startswith("$"):
        raise CommandError(ErrorCode.Location40158, "the count field cannot be a $-prefixed path")
    if "\0" in spec:
        raise CommandError(ErrorCode.Location40159, "the count field cannot contain a null byte")
    if "." in spec:
        raise CommandError(ErrorCode.Location40160, "the count field cannot contain '.'")

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        total = sum(1 for _ in docs)
        if total:  # $count is {$group: {_id: null, n: {$sum: 1}}}: no input, no output
            yield {spec: total if total < 2**31 else Int64(total)}

    return apply


# ---------------------------------------------------------------- $sort


@stage("$sort")
def _sort(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec):
        raise CommandError(ErrorCode.Location15973, "the $sort key specification must be an object")
    if not spec:
        raise CommandError(ErrorCode.Location15976, "$sort stage must have at least one sort key")
    sort_spec = parse_sort(spec)
    string_key = scope.expr.string_key

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for doc in sort_documents(docs, sort_spec, string_key):
            yield dict(doc)

    return apply


# ---------------------------------------------------------------- $sample


def _safe_long(value: Any) -> int:
    """BSONElement::safeNumberLong: truncate; NaN is 0; saturate at the int64 bounds."""
    if is_nan(value):
        return 0
    number = value.to_decimal() if type_alias(value) == "decimal" else value
    if number >= 2**63:
        return 2**63 - 1
    if number <= -(2**63):
        return -(2**63)
    return int(number)


@stage("$sample")
def _sample(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec):
        raise CommandError(
            ErrorCode.Location28745, "the $sample stage specification must be an object"
        )
    size = None
    for name, value in spec.items():
        if name != "size":
            raise CommandError(ErrorCode.Location28748, f"unrecognized option to $sample: {name}")
        if type_rank(value) != Rank.NUMBER:
            raise CommandError(ErrorCode.Location28746, "size argument to $sample must be a number")
        size = _safe_long(value)
    if size is None:
        raise CommandError(ErrorCode.Location28749, "$sample stage must specify a size")
    if size <= 0:
        raise CommandError(
            ErrorCode.Location28747, "size argument to $sample must be a positive integer"
        )
    count = size

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        population = list(docs)
        yield from run.rng.sample(population, min(count, len(population)))

    return apply


# ---------------------------------------------------------------- $replaceRoot


def _replacement(evaluator: Evaluator, context: str) -> Stage:
    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for doc in docs:
            value = run.evaluate(evaluator, doc)
            if not is_object(value):
                raise CommandError(
                    ErrorCode.Location40228,
                    f"{context}must evaluate to an object, but resulting value was: "
                    f"{value_repr(value)}. Type of resulting value: '{type_alias(value)}'. "
                    f"Input document: {value_repr(doc)}",
                )
            yield dict(value)

    return apply


@stage("$replaceRoot")
def _replace_root(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec):
        raise CommandError(
            ErrorCode.Location40229,
            f"expected an object as specification for $replaceRoot stage, got {type_alias(spec)}",
        )
    for name in spec:
        if name != "newRoot":
            raise CommandError(
                ErrorCode.Location40415, f"BSON field '$replaceRoot.{name}' is an unknown field."
            )
    if "newRoot" not in spec:
        raise CommandError(
            ErrorCode.Location40414,
            "BSON field '$replaceRoot.newRoot' is missing but a required field",
        )
    return _replacement(scope.expr.compile(spec["newRoot"]), "'newRoot' expression ")


@stage("$replaceWith")
def _replace_with(spec: Any, scope: StageScope) -> Stage:
    return _replacement(scope.expr.compile(spec), "'replacement document' ")


# ---------------------------------------------------------------- $sortByCount


@stage("$sortByCount")
def _sort_by_count(spec: Any, scope: StageScope) -> Stage:
    # document_source_sort_by_count.cpp: a $-path or an operator expression.
    message = "the sortByCount field must be defined as a $-prefixed path or an expression"
    if is_object(spec):
        if not next(iter(spec), "").startswith("$"):
            raise CommandError(ErrorCode.Location40147, f"{message} inside an object")
    elif isinstance(spec, str):
        if not spec.startswith("$"):
            raise CommandError(ErrorCode.Location40148, f"{message} inside an object")
    else:
        raise CommandError(
            ErrorCode.Location40149,
            "the sortByCount field must be specified as a string or as an object",
        )
    group = STAGES["$group"]({"_id": spec, "count": {"$sum": 1}}, scope)
    order = _sort({"count": -1}, scope)
    return lambda docs, run: order(group(docs, run), run)


# ---------------------------------------------------------------- $documents


@stage("$documents")
def _documents(spec: Any, scope: StageScope) -> Stage:
    evaluator = scope.expr.compile(spec)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        value = run.evaluate(evaluator, {})
        if not isinstance(value, list):
            raise CommandError(
                ErrorCode.Location5858203,
                "an array is expected",
            )
        for item in value:
            if not is_object(item):
                raise CommandError(
                    ErrorCode.Location40228,
                    "'newRoot' expression must evaluate to an object, but resulting value "
                    f"was: {value_repr(item)}. Type of resulting value: '{type_alias(item)}'. "
                    f"Input document: {{_tempDocuments: {value_repr(item)}}}",
                )
            yield dict(item)

    return apply
