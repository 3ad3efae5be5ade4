"""The writing stages: ``$out`` and ``$merge`` (always the last stage).

Both consume the whole stream and output nothing. ``$out`` hands every document
to :meth:`PipelineContext.write_out`, which replaces the target collection
atomically. ``$merge`` implements the manual's whenMatched / whenNotMatched
table here, over the small :class:`fakemongo._stages.MergeTarget` protocol the
storage provides: documents are matched on the ``on`` fields (default ``_id``,
which is generated for documents lacking it), then inserted, replaced, merged
(top-level fields set), kept, updated through a pipeline with ``$$new``, or
refused. Writes happen one document at a time, so a failure leaves the earlier
ones written, as on the server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bson import ObjectId

from fakemongo._bsonorder import MISSING, type_alias, values_equal
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr_misc import validate_user_variable
from fakemongo._paths import parse_field_path
from fakemongo._stages import (
    Doc,
    MergeTarget,
    Run,
    Stage,
    StageScope,
    compile_stages,
    is_object,
    nested_value,
    run_stages,
    stage,
)

__all__: list[str] = []

# ---------------------------------------------------------------- $out


def _check_namespace(name: str, db: str, coll: str) -> None:
    if not coll or "$" in coll or "\0" in coll or not db or any(c in db for c in '/\\. "$\0'):
        raise CommandError(
            ErrorCode.InvalidNamespace, f"Invalid {name} target namespace, {db}.{coll}"
        )
    if coll.startswith("system."):
        raise CommandError(ErrorCode.Location17385, f"Can't {name} to special collection: {coll}")


def _out_target(spec: Any) -> tuple[str | None, str]:
    if isinstance(spec, str):
        return None, spec
    if not is_object(spec):
        raise CommandError(
            ErrorCode.Location16990,
            f"$out only supports a string or object argument, but found {type_alias(spec)}",
        )
    for name, value in spec.items():
        if name not in ("db", "coll", "timeseries"):
            raise CommandError(
                ErrorCode.Location40415, f"BSON field '$out.{name}' is an unknown field."
            )
        if name == "timeseries":
            raise CommandError(
                ErrorCode.CommandNotSupported,
                "$out to a time-series collection is not supported by fakemongo",
            )
        if not isinstance(value, str):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"BSON field '$out.{name}' is the wrong type '{type_alias(value)}', "
                "expected type 'string'",
            )
    for name in ("db", "coll"):
        if name not in spec:
            raise CommandError(
                ErrorCode.Location40414, f"BSON field '$out.{name}' is missing but a required field"
            )
    return spec["db"], spec["coll"]


@stage("$out")
def _out(spec: Any, scope: StageScope) -> Stage:
    db, coll = _out_target(spec)
    _check_namespace("$out", db or "db", coll)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        written = list(docs)
        run.ctx.write_out(db or run.ctx.db, coll, written)
        yield from ()

    return apply


# ---------------------------------------------------------------- $merge

_WHEN_MATCHED = ("replace", "keepExisting", "merge", "fail")
_WHEN_NOT_MATCHED = ("insert", "discard", "fail")
_UNSUPPORTED_MODES = {("keepExisting", "fail"), ("keepExisting", "discard")}
_UNSUPPORTED_MODES |= {("fail", "fail"), ("fail", "discard")}
_UPDATE_STAGES = frozenset(
    {"$addFields", "$set", "$project", "$unset", "$replaceRoot", "$replaceWith"}
)


def _wrong_type(field: str, value: Any, expected: str) -> CommandError:
    return CommandError(
        ErrorCode.TypeMismatch,
        f"BSON field '$merge.{field}' is the wrong type '{type_alias(value)}', "
        f"expected type '{expected}'",
    )


def _merge_into(value: Any) -> tuple[str | None, str]:
    if isinstance(value, str):
        if not value:
            raise CommandError(
                ErrorCode.Location5786800, "{into: ...} field cannot be an empty string"
            )
        return None, value
    if not is_object(value):
        raise CommandError(
            ErrorCode.Location51178,
            "{into: ...} must be either a string or an object, but found " + type_alias(value),
        )
    for name, item in value.items():
        if name not in ("db", "coll"):
            raise CommandError(
                ErrorCode.Location40415, f"BSON field 'into.{name}' is an unknown field."
            )
        if not isinstance(item, str):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"BSON field 'into.{name}' is the wrong type '{type_alias(item)}', "
                "expected type 'string'",
            )
    coll = value.get("coll", "")
    if not coll:
        raise CommandError(
            ErrorCode.Location5786801,
            "{into: {db: ..., coll: ...}} 'coll' field cannot be an empty string",
        )
    return value.get("db") or None, coll


def _merge_on(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        fields = [value]
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise CommandError(
                    ErrorCode.Location51134,
                    f"{{on: [...]}} must be an array of strings, but found {type_alias(item)}",
                )
        if not value:
            raise CommandError(
                ErrorCode.Location51187,
                "If explicitly specifying $merge 'on', must include at least one field",
            )
        fields = value
    else:
        raise CommandError(
            ErrorCode.Location51186,
            "{on: ...} must be either a string or an array of strings, but found "
            + type_alias(value),
        )
    for field in fields:
        parse_field_path(field)
    return tuple(dict.fromkeys(fields))


def _enum(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise CommandError(
            ErrorCode.BadValue,
            f"Enumeration value '{value}' for field '{field}' is not a valid value.",
        )
    return str(value)


class _MergeSpec:
    """A validated $merge specification."""

    def __init__(self, spec: Mapping[str, Any], scope: StageScope) -> None:
        self.db: str | None = None
        self.coll = ""
        self.on: tuple[str, ...] = ("_id",)
        self.when_matched = "merge"
        self.when_not_matched = "insert"
        self.pipeline: list[Any] | None = None
        let: Mapping[str, Any] | None = None
        for name, value in spec.items():
            if name == "into":
                self.db, self.coll = _merge_into(value)
            elif name == "on":
                self.on = _merge_on(value)
            elif name == "whenMatched":
                if isinstance(value, list):
                    self.when_matched, self.pipeline = "pipeline", value
                elif isinstance(value, str):
                    self.when_matched = _enum("whenMatched", value, _WHEN_MATCHED)
                else:
                    raise CommandError(
                        ErrorCode.Location51191,
                        "{whenMatched: ...} must be either a string or an array, but found "
                        + type_alias(value),
                    )
            elif name == "whenNotMatched":
                if not isinstance(value, str):
                    raise _wrong_type(name, value, "string")
                self.when_not_matched = _enum("whenNotMatched", value, _WHEN_NOT_MATCHED)
            elif name == "let":
                if not is_object(value):
                    raise _wrong_type(name, value, "object")
                let = value
            else:
                raise CommandError(
                    ErrorCode.Location40415, f"BSON field '$merge.{name}' is an unknown field."
                )
        if not self.coll:
            raise CommandError(
                ErrorCode.Location40414, "BSON field '$merge.into' is missing but a required field"
            )
        if (self.when_matched, self.when_not_matched) in _UNSUPPORTED_MODES:
            raise CommandError(
                ErrorCode.Location51181,
                f"Combination of {{whenMatched: {self.when_matched}, whenNotMatched: "
                f"{self.when_not_matched}}} is not supported",
            )
        if let is not None and self.pipeline is None:
            raise CommandError(
                ErrorCode.Location51199,
                f"Cannot use 'let' variables with 'whenMatched: {self.when_matched}' mode",
            )
        self.let = []
        for name, value in (let or {}).items():
            validate_user_variable(name)
            self.let.append((name, scope.expr.compile(value)))
        names = frozenset({"new"} | {name for name, _ in self.let})
        self.update = compile_stages(
            self.pipeline or [], StageScope(scope.expr.with_variables(names), scope.where)
        )
        for stage_name, _ in self.update:
            if stage_name not in _UPDATE_STAGES:
                raise CommandError(
                    ErrorCode.InvalidOptions,
                    f"{stage_name} is not allowed to be used within an update",
                )


def _merge_key(doc: Mapping[str, Any], on: tuple[str, ...]) -> dict[str, Any]:
    key = {}
    for field in on:
        value = nested_value(doc, parse_field_path(field))
        if value is None or value is MISSING or isinstance(value, list):
            raise CommandError(
                ErrorCode.Location51132,
                f"$merge write error: 'on' field '{field}' cannot be missing, null, undefined or "
                "an array",
            )
        key[field] = value
    return key


def _immutable_id() -> CommandError:
    return CommandError(
        ErrorCode.ImmutableField,
        "$merge failed to update the matching document, did you attempt to modify the _id or "
        "the shard key? :: caused by :: Performing an update on the path '_id' would modify the "
        "immutable field '_id'",
    )


def _with_id(existing: Mapping[str, Any], doc: Mapping[str, Any]) -> Doc:
    if "_id" in doc:
        if not values_equal(doc["_id"], existing["_id"]):
            raise _immutable_id()
        return dict(doc)
    return {"_id": existing["_id"], **doc}


def _write(spec: _MergeSpec, target: MergeTarget, doc: Doc, run: Run) -> None:
    if "_id" in spec.on and "_id" not in doc:
        doc = {"_id": ObjectId(), **doc}
    existing = target.find_matching(_merge_key(doc, spec.on))
    if existing is None or spec.when_matched == "fail":
        if spec.when_not_matched == "insert":
            target.insert(doc)  # whenMatched: fail relies on the insert's duplicate key error
        elif spec.when_not_matched == "fail":
            raise CommandError(
                ErrorCode.Location13113,
                "$merge could not find a matching document in the target collection for at "
                "least one document in the source collection",
            )
        return
    if spec.when_matched == "replace":
        target.replace(existing, _with_id(existing, doc))
    elif spec.when_matched == "merge":
        target.replace(existing, _with_id(existing, {**existing, **doc}))
    elif spec.when_matched == "pipeline":
        variables = {"new": doc, **{name: run.evaluate(ev, doc) for name, ev in spec.let}}
        (updated,) = run_stages(spec.update, [dict(existing)], run.with_variables(variables))
        target.replace(existing, _with_id(existing, updated))
    # keepExisting: leave the matching document as it is


@stage("$merge")
def _merge(spec: Any, scope: StageScope) -> Stage:
    if isinstance(spec, str):
        spec = {"into": spec}
    elif not is_object(spec):
        raise CommandError(
            ErrorCode.Location51182,
            f"$merge only supports a string or object argument, but found {type_alias(spec)}",
        )
    merge = _MergeSpec(spec, scope)
    _check_namespace("$merge", merge.db or "db", merge.coll)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        target = run.ctx.merge_target(merge.db or run.ctx.db, merge.coll)
        if not target.has_unique_index(merge.on):
            raise CommandError(
                ErrorCode.Location51183,
                "Cannot find index to verify that join fields will be unique",
            )
        for doc in docs:
            _write(merge, target, doc, run)
        yield from ()

    return apply
