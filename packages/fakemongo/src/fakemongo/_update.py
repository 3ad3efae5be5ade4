"""The update engine: operator updates, replacement documents, pipeline updates.

:func:`compile_update` checks an update once, as the server's UpdateDriver parses
it, and :meth:`Update.apply` runs it against one document at a time, returning a
new document and whether anything changed (for ``nModified``).

Operator updates (manual, "Update Operators") become a tree of paths, as in the
server's UpdateObjectNode: two operators on the same path, or on a path and its
prefix, conflict (40); the tree is applied field by field in byte order of the
field names, which is why new fields appear sorted by path; the positional ``$``
takes the index of the array element the query matched, ``$[]`` every element and
``$[<id>]`` the elements its array filter matches (manual, "$[<identifier>]").
A replacement (manual, "db.collection.replaceOne()") keeps the document's ``_id``,
which may not change; a pipeline (manual, "Updates with Aggregation Pipeline")
runs $addFields/$set, $project, $unset, $replaceRoot and $replaceWith over the
document and its result replaces it. :func:`upsert_seed` builds the document an
upsert starts from: the filter's equality conditions (manual, "upsert" behaviour).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from functools import cmp_to_key
from typing import Any, Literal, cast

import bson
from bson import DBRef, Timestamp

import fakemongo._stages_project  # noqa: F401  (registers $project, $set, $unset, $addFields)
from fakemongo._bsonorder import StringKey, bson_repr, type_alias, values_equal
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Scope
from fakemongo._matchops import elem_repr, is_regex
from fakemongo._stages import PipelineContext, Run, Stage, StageScope, compile_stages, run_stages
from fakemongo._update_arrays import AddToSetLeaf, PopLeaf, PullAllLeaf, PullLeaf, PushLeaf
from fakemongo._update_filters import array_filters as parse_array_filters
from fakemongo._update_filters import upsert_seed
from fakemongo._update_numbers import ArithmeticLeaf, BitLeaf
from fakemongo._update_ops import (
    CompareLeaf,
    Context,
    CurrentDateLeaf,
    Leaf,
    PlaceholderLeaf,
    Ref,
    RenameLeaf,
    SetLeaf,
    SetOnInsertLeaf,
    UnsetLeaf,
    check_dollar_field,
    copy_value,
    is_identifier,
    is_object,
    next_timestamp,
)

__all__ = ["Update", "UpdateKind", "compile_update", "upsert_seed"]

UpdateKind = Literal["operators", "replacement", "pipeline"]


# ---------------------------------------------------------------- the path tree


class _ObjectNode:
    """Children by field name, plus the positional ``$`` child (UpdateObjectNode)."""

    __slots__ = ("children", "order", "positional")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.positional: _Node | None = None
        self.order: list[tuple[str, _Node]] = []


class _ArrayNode:
    """Children by array filter identifier, "" for ``$[]`` (UpdateArrayNode)."""

    __slots__ = ("children", "order")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.order: list[tuple[str, _Node]] = []


_Node = _ObjectNode | _ArrayNode | Leaf


def _numeric(name: str) -> bool:
    return (
        bool(name) and name[0].isdigit() and name[0].isascii() and (name == "0" or name[0] != "0")
    )


def _compare_names(a: str, b: str) -> int:
    """pathsupport::cmpPathsAndArrayIndexes: names are compared as strings, except that
    names starting with a digit (and no leading zero) compare as numbers (manual,
    "Update Operators": "Fields with numeric names are processed in numeric order")."""
    if _numeric(a) and _numeric(b) and len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)


_NAME_ORDER = cmp_to_key(_compare_names)


def _ordered(children: dict[str, _Node]) -> list[tuple[str, _Node]]:
    return sorted(children.items(), key=lambda item: _NAME_ORDER(item[0]))


def _freeze(node: _Node) -> _Node:
    """Fix the order children are applied in (the server's std::map of children)."""
    if not isinstance(node, Leaf):
        node.order = _ordered(node.children)
        for child in node.children.values():
            _freeze(child)
        if isinstance(node, _ObjectNode) and node.positional is not None:
            _freeze(node.positional)
    return node


def _conflict(path: list[str]) -> CommandError:
    return CommandError(
        ErrorCode.ConflictingUpdateOperators, f"Update created a conflict at '{'.'.join(path)}'"
    )


def _merge(left: _Node, right: _Node, path: list[str]) -> _Node:
    """UpdateNode::createUpdateNodeByMerging, for two updates reaching one element."""
    merged: _ObjectNode | _ArrayNode
    if isinstance(left, _ObjectNode) and isinstance(right, _ObjectNode):
        merged = _ObjectNode()
        merged.positional = left.positional or right.positional
        if left.positional is not None and right.positional is not None:
            merged.positional = _merge(left.positional, right.positional, [*path, "$"])
    elif isinstance(left, _ArrayNode) and isinstance(right, _ArrayNode):
        merged = _ArrayNode()
    else:
        raise _conflict(path)
    merged.children = dict(left.children)
    for name, child in right.order:
        if name in merged.children:
            shown = f"$[{name}]" if isinstance(merged, _ArrayNode) else name
            merged.children[name] = _merge(merged.children[name], child, [*path, shown])
        else:
            merged.children[name] = child
    merged.order = _ordered(merged.children)
    return merged


def _apply(node: _Node, ctx: Context, ref: Ref, taken: list[str], missing: list[str]) -> bool:
    if isinstance(node, _ObjectNode):
        return _apply_object(node, ctx, ref, taken, missing)
    if isinstance(node, _ArrayNode):
        return _apply_array(node, ctx, ref, taken, missing)
    return node.apply(ctx, ref, taken, missing)


def _apply_child(
    child: _Node, field: str, ctx: Context, ref: Ref, taken: list[str], missing: list[str]
) -> bool:
    if missing:
        return _apply(child, ctx, ref, taken, [*missing, field])
    found = ctx.child(ref, field)
    if found is None:
        return _apply(child, ctx, ref, taken, [field])
    return _apply(child, ctx, found, [*taken, field], [])


def _apply_object(
    node: _ObjectNode, ctx: Context, ref: Ref, taken: list[str], missing: list[str]
) -> bool:
    positional, matched = node.positional, ctx.matched
    if positional is not None and matched is None:
        raise CommandError(
            ErrorCode.BadValue,
            "The positional operator did not find the match needed from the query.",
        )
    modified = False
    for name, node_child in node.order:
        child = node_child
        ref, taken, missing = _advance(ctx, ref, taken, missing)
        if positional is not None and matched is not None:
            if name == matched:
                child = _merge(positional, child, [*taken, *missing, name])
                positional = None
            elif matched < name:
                modified |= _apply_child(positional, matched, ctx, ref, taken, missing)
                positional = None
                ref, taken, missing = _advance(ctx, ref, taken, missing)
        modified |= _apply_child(child, name, ctx, ref, taken, missing)
    if positional is not None and matched is not None:
        ref, taken, missing = _advance(ctx, ref, taken, missing)
        modified |= _apply_child(positional, matched, ctx, ref, taken, missing)
    return modified


def _advance(
    ctx: Context, ref: Ref, taken: list[str], missing: list[str]
) -> tuple[Ref, list[str], list[str]]:
    """Once an earlier child created the missing part of the path, go down it."""
    if not missing:
        return ref, taken, missing
    current: Ref | None = ref
    for part in missing:
        current = ctx.child(current, part) if current is not None else None
    if current is None:
        return ref, taken, missing
    return current, [*taken, *missing], []


def _apply_array(
    node: _ArrayNode, ctx: Context, ref: Ref, taken: list[str], missing: list[str]
) -> bool:
    if missing:
        raise CommandError(
            ErrorCode.BadValue,
            f"The path '{'.'.join([*taken, *missing])}' must exist in the document in order to "
            "apply array updates.",
        )
    if not isinstance(ref.value, list):
        raise CommandError(
            ErrorCode.BadValue, f"Cannot apply array updates to non-array element {ref.describe()}"
        )
    array = ctx.own(ref)
    matches = []  # decided before any element changes
    for index, element in enumerate(array):
        nodes = [child for name, child in node.order if not name or ctx.filters[name](element)]
        if nodes:
            matches.append((index, nodes))
    modified = False
    for index, nodes in matches:
        path = [*taken, str(index)]
        merged = nodes[0]
        for other in nodes[1:]:
            merged = _merge(merged, other, path)
        modified |= _apply(merged, ctx, Ref(array, index), path, [])
    return modified


# ---------------------------------------------------------------- operators

_LEAVES: dict[str, Callable[[str, Any, StringKey | None], Leaf]] = {
    "$set": lambda path, spec, key: SetLeaf(spec),
    "$setOnInsert": lambda path, spec, key: SetOnInsertLeaf(spec),
    "$unset": lambda path, spec, key: UnsetLeaf(),
    "$inc": lambda path, spec, key: ArithmeticLeaf("$inc", path, spec),
    "$mul": lambda path, spec, key: ArithmeticLeaf("$mul", path, spec),
    "$min": lambda path, spec, key: CompareLeaf(False, spec),
    "$max": lambda path, spec, key: CompareLeaf(True, spec),
    "$currentDate": lambda path, spec, key: CurrentDateLeaf(spec),
    "$rename": lambda path, spec, key: RenameLeaf(path, spec),
    "$push": lambda path, spec, key: PushLeaf(spec),
    "$addToSet": lambda path, spec, key: AddToSetLeaf(spec, key),
    "$pop": lambda path, spec, key: PopLeaf(path, spec),
    "$pull": lambda path, spec, key: PullLeaf(spec, key),
    "$pullAll": lambda path, spec, key: PullAllLeaf(spec, key),
    "$bit": lambda path, spec, key: BitLeaf(spec),
}
"""Update operator -> builder of its leaf from (field path, argument, collation key)."""


# ---------------------------------------------------------------- parsing operator updates


def _check_path(path: str) -> list[str]:
    """fieldchecker::isUpdatable and the positional ``$`` rules (56, 2)."""
    if not path:
        raise CommandError(ErrorCode.EmptyFieldName, "An empty update path is not valid.")
    parts = path.split(".")
    if "" in parts:
        raise CommandError(
            ErrorCode.EmptyFieldName,
            f"The update path '{path}' contains an empty field name, which is not allowed.",
        )
    positional = parts.count("$")
    if positional > 1:
        raise CommandError(
            ErrorCode.BadValue, f"Too many positional (i.e. '$') elements found in path '{path}'"
        )
    if positional and parts[0] == "$":
        raise CommandError(
            ErrorCode.BadValue,
            f"Cannot have positional (i.e. '$') element in the first position in path '{path}'",
        )
    return parts


class _Parser:
    """UpdateObjectNode::parseAndMerge over a whole operator update."""

    def __init__(self, filters: Mapping[str, Any]) -> None:
        self.filters = filters
        self.used: set[str] = set()
        self.root = _ObjectNode()

    def _name(self, part: str, position: int, path: str) -> str:
        if not is_identifier(part):
            return part
        if position == 0:
            raise CommandError(
                ErrorCode.BadValue,
                "Cannot have array filter identifier (i.e. '$[<id>]') element in the first "
                f"position in path '{path}'",
            )
        identifier = part[2:-1]
        if identifier and identifier not in self.filters:
            raise CommandError(
                ErrorCode.BadValue,
                f"No array filter found for identifier '{identifier}' in path '{path}'",
            )
        if identifier:
            self.used.add(identifier)
        return identifier

    def insert(self, parts: list[str], path: str, leaf: Leaf) -> None:
        current: _ObjectNode | _ArrayNode = self.root
        last = len(parts) - 1
        for position, part in enumerate(parts[:last]):
            name = self._name(part, position, path)
            child = _get(current, name)
            array = is_identifier(parts[position + 1])
            if child is None:
                child = _ArrayNode() if array else _ObjectNode()
                _put(current, name, child)
            elif not isinstance(child, _ArrayNode if array else _ObjectNode):
                raise _path_conflict(path, ".".join(parts[: position + 1]))
            current = child
        name = self._name(parts[last], last, path)
        if _get(current, name) is not None:
            raise _path_conflict(path, path)
        _put(current, name, leaf)


def _get(node: _ObjectNode | _ArrayNode, name: str) -> _Node | None:
    if isinstance(node, _ObjectNode) and name == "$":
        return node.positional
    return node.children.get(name)


def _put(node: _ObjectNode | _ArrayNode, name: str, child: _Node) -> None:
    if isinstance(node, _ObjectNode) and name == "$":
        node.positional = child
    else:
        node.children[name] = child


def _path_conflict(path: str, at: str) -> CommandError:
    return CommandError(
        ErrorCode.ConflictingUpdateOperators,
        f"Updating the path '{path}' would create a conflict at '{at}'",
    )


def _parse_operators(
    spec: Mapping[str, Any], filters: Mapping[str, Any], string_key: StringKey | None
) -> _ObjectNode:
    parser = _Parser(filters)
    for operator, fields in spec.items():
        make = _LEAVES.get(operator)
        if make is None:
            raise CommandError(
                ErrorCode.FailedToParse,
                f"Unknown modifier: {operator}. Expected a valid update modifier or "
                "pipeline-style update specified as an array",
            )
        if not is_object(fields):
            raise CommandError(
                ErrorCode.FailedToParse,
                f"Modifiers operate on fields but we found type {type_alias(fields)} instead. "
                f"For example: {{$mod: {{<field>: ...}}}} not {{{elem_repr(operator, fields)}}}",
            )
        for path, argument in fields.items():
            target = path
            if operator == "$rename":
                # The source path is claimed too, so that other updates conflict with it.
                parser.insert(_check_path(path), path, PlaceholderLeaf())
                if not isinstance(argument, str):
                    raise CommandError(
                        ErrorCode.BadValue,
                        f"The 'to' field for $rename must be a string: {elem_repr(path, argument)}",
                    )
                target = argument
            parts = _check_path(target)
            parser.insert(parts, target, make(path, argument, string_key))
    for identifier in sorted(filters):
        if identifier not in parser.used:
            raise CommandError(
                ErrorCode.FailedToParse,
                f"The array filter for identifier '{identifier}' was not used in the update "
                f"{bson_repr(spec)}",
            )
    _freeze(parser.root)
    return parser.root


# ---------------------------------------------------------------- pipelines

_PIPELINE_STAGES = frozenset(
    {"$addFields", "$set", "$project", "$unset", "$replaceRoot", "$replaceWith"}
)
# Every other stage of MongoDB 8.0: refused with 72 inside an update.
_OTHER_STAGES = frozenset(
    {"$bucket", "$bucketAuto", "$changeStream", "$changeStreamSplitLargeEvent", "$collStats"}
    | {"$count", "$currentOp", "$densify", "$documents", "$facet", "$fill", "$geoNear"}
    | {"$graphLookup", "$group", "$indexStats", "$limit", "$listClusterCatalog"}
    | {"$listLocalSessions", "$listSampledQueries", "$listSearchIndexes", "$listSessions"}
    | {"$lookup", "$match", "$merge", "$out", "$planCacheStats", "$querySettings"}
    | {"$queryStats", "$redact", "$sample", "$search", "$searchMeta", "$setWindowFields"}
    | {"$shardedDataDistribution", "$skip", "$sort", "$sortByCount", "$unionWith"}
    | {"$unwind", "$vectorSearch"}
)


def _compile_pipeline(pipeline: list[Any], string_key: StringKey | None) -> list[tuple[str, Stage]]:
    """PipelineExecutor: parse every stage, then refuse those not allowed in an update."""
    scope = StageScope(Scope(string_key))
    compiled, refused = [], []
    for spec in pipeline:
        name = next(iter(spec), None) if len(spec) == 1 else None
        if name in _OTHER_STAGES:
            refused.append(name)
        else:
            compiled.extend(compile_stages([spec], scope))
    if refused:
        raise CommandError(
            ErrorCode.InvalidOptions, f"{refused[0]} is not allowed to be used within an update"
        )
    return compiled


# ---------------------------------------------------------------- replacement


def _check_id(value: Any) -> None:
    """storageValidIdField: the types an ``_id`` may not have (53)."""
    if isinstance(value, list) or is_regex(value):
        raise CommandError(
            ErrorCode.InvalidIdField, f"The '_id' value cannot be of type {type_alias(value)}"
        )
    if is_object(value):
        _check_id_fields(value)


def _check_id_fields(value: Any) -> None:
    items = value.items() if is_object(value) else enumerate(value)
    for name, item in items:
        if isinstance(name, str) and name.startswith("$") and name not in ("$ref", "$id", "$db"):
            raise CommandError(
                ErrorCode.DollarPrefixedFieldName,
                f"_id fields may not contain '$'-prefixed fields: {name} is not valid for storage.",
            )
        if is_object(item) or isinstance(item, list):
            _check_id_fields(item)


def _replace(
    original: Mapping[str, Any], replacement: Mapping[str, Any], *, dollars: bool
) -> dict[str, Any]:
    """ObjectReplaceExecutor::applyReplacementUpdate, after its no-op check.

    ``dollars``: top-level ``$`` fields are allowed (pipelines, upsert inserts).
    """
    out: dict[str, Any] = {}
    if "_id" not in replacement and "_id" in original:
        out["_id"] = original["_id"]
    out.update(replacement)
    for name, value in out.items():
        if name == "_id":
            _check_id(value)
        elif not dollars:
            check_dollar_field(out, name)
    if "_id" in original and not values_equal(out["_id"], original["_id"]):
        raise CommandError(
            ErrorCode.ImmutableField,
            "After applying the update, the (immutable) field '_id' was found to have been "
            f"altered to {elem_repr('_id', out['_id'])}",
        )
    return out


def _stamp(replacement: Mapping[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """Manual, "Timestamps": an empty timestamp outside ``_id`` becomes the current time."""
    out = dict(replacement)
    for name, value in out.items():
        if name != "_id" and isinstance(value, Timestamp) and value.time == value.inc == 0:
            out[name] = next_timestamp(now)
    return out


# ---------------------------------------------------------------- the public API


def _id_first(doc: dict[str, Any]) -> dict[str, Any]:
    if "_id" not in doc or next(iter(doc)) == "_id":
        return doc
    return {"_id": doc["_id"], **{name: value for name, value in doc.items() if name != "_id"}}


def _now(now: datetime.datetime | None) -> datetime.datetime:
    if now is None:
        now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Update:
    """A compiled update; reusable across documents and safe to share."""

    __slots__ = ("_filters", "_pipeline", "_replacement", "_root", "_string_key", "kind")

    def __init__(
        self,
        kind: UpdateKind,
        *,
        root: _ObjectNode | None = None,
        replacement: Mapping[str, Any] | None = None,
        pipeline: list[tuple[str, Stage]] | None = None,
        filters: Mapping[str, Callable[[Any], bool]] | None = None,
        string_key: StringKey | None = None,
    ) -> None:
        self.kind: UpdateKind = kind
        self._root = root
        self._replacement = replacement
        self._pipeline = pipeline
        self._filters = filters or {}
        self._string_key = string_key

    def __repr__(self) -> str:
        return f"Update(kind={self.kind!r})"

    def apply(
        self,
        doc: dict[str, Any],
        *,
        match_index: int | None = None,
        upsert_insert: bool = False,
        now: datetime.datetime | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Apply to ``doc``: the new document and whether it differs (for nModified).

        ``doc`` is never modified; the new document shares the parts of it that did
        not change. ``match_index`` is the array index the query matched (for ``$``),
        ``upsert_insert`` says ``doc`` is an upsert's seed (it enables $setOnInsert and
        field-name rules of inserts), ``now`` is the time for $currentDate and $$NOW.
        Raises CommandError as the server fails the update of that document.
        """
        moment = _now(now)
        if self._root is not None:
            ctx = Context(
                doc,
                matched=None if match_index is None else str(match_index),
                upsert=upsert_insert,
                now=moment,
                string_key=self._string_key,
                filters=self._filters,
            )
            modified = _apply_object(self._root, ctx, ctx.root_ref(), [], [])
            out = ctx.root
            if upsert_insert and "_id" in out:
                _check_id(out["_id"])
            return _id_first(out), modified
        if self._replacement is not None:
            replacement = _stamp(self._replacement, moment)
            dollars = upsert_insert
        else:
            assert self._pipeline is not None
            run = Run(ctx=cast("PipelineContext", None), variables={"NOW": moment})
            replacement = next(run_stages(self._pipeline, [doc], run))
            dollars = True
        if bson.encode(doc) == bson.encode(replacement):
            return dict(doc), False
        return _id_first(_replace(doc, copy_value(replacement), dollars=dollars)), True


def compile_update(
    spec: Mapping[str, Any] | list[Any],
    *,
    array_filters: list[Mapping[str, Any]] | None = None,
    string_key: StringKey | None = None,
    is_multi: bool = False,
) -> Update:
    """Check an update (``u`` of an update statement, ``update`` of findAndModify).

    A document whose first field starts with ``$`` is an operator update, any other
    document a replacement, an array a pipeline. ``string_key`` is the command's
    collation. Raises CommandError with the server's code and wording: 9 for an
    unknown operator, an unused array filter, a multi replacement; 40 for conflicting
    paths; 56 for empty field names; 2, 14 for bad operator arguments...
    """
    if isinstance(spec, DBRef):  # pymongo decodes {$ref, $id, ...} as a DBRef
        spec = spec.as_doc()
    if isinstance(spec, list):
        for stage in spec:
            if not is_object(stage):
                raise CommandError(
                    ErrorCode.TypeMismatch, "Each element of the 'pipeline' array must be an object"
                )
    elif not is_object(spec):
        raise CommandError(
            ErrorCode.FailedToParse, "Update argument must be either an object or an array"
        )
    filters = parse_array_filters(array_filters or [], string_key)
    if isinstance(spec, list):
        if array_filters:
            raise CommandError(
                ErrorCode.FailedToParse,
                "arrayFilters may not be specified for pipeline-style updates",
            )
        return Update("pipeline", pipeline=_compile_pipeline(spec, string_key))
    if not spec or not next(iter(spec)).startswith("$"):
        if is_multi:
            raise CommandError(
                ErrorCode.FailedToParse,
                "multi update is not supported for replacement-style update",
            )
        return Update("replacement", replacement=copy_value(spec))
    root = _parse_operators(spec, filters, string_key)
    return Update("operators", root=root, filters=filters, string_key=string_key)
