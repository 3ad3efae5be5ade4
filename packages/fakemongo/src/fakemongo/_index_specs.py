"""Index specifications: validation, normalization and conflicts, as mongod's
``index_key_validate.cpp`` and ``IndexCatalogImpl`` decide them for createIndexes.

:func:`parse_index` turns one spec of a createIndexes command into an
:class:`Index` (or raises the server's error: "Error in specification ...
:: caused by :: ..."), storing the spec as listIndexes shows it; :func:`check_conflict`
decides whether a parsed index already exists, may be built, or conflicts
with one that exists (85 / 86). Index types fakemongo does not build (text,
2dsphere, 2d, hashed, wildcard, columnstore) answer 115 CommandNotSupported;
options it does not implement answer 2 BadValue naming them.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from bson import Int64, Regex

from ._bsonorder import bson_repr, type_alias
from ._errors import CommandError, ErrorCode
from ._indexes import DuplicateKeyError, Index
from ._match import compile_filter
from ._storage import Collection

__all__ = [
    "INDEX_FIELDS",
    "IndexBuildFailed",
    "check_conflict",
    "options_of",
    "parse_index",
    "signature",
]

# index_key_validate.cpp: allowedFieldNames.
INDEX_FIELDS = frozenset(
    {
        "key", "name", "v", "unique", "sparse", "partialFilterExpression", "expireAfterSeconds",
        "background", "hidden", "collation", "weights", "default_language", "language_override",
        "textIndexVersion", "2dsphereIndexVersion", "bits", "min", "max", "wildcardProjection",
        "storageEngine", "ns", "dropDups", "prepareUnique", "clustered", "originalSpec",
        "coarsestIndexedLevel", "finestIndexedLevel", "columnstoreProjection",
        "columnstoreCompressor",
    }
)  # fmt: skip
_BOOLINDEX_FIELDS = ("background", "unique", "sparse", "dropDups", "prepareUnique", "clustered")
# Options whose effect fakemongo does not implement: refused by name (2 BadValue).
_UNSUPPORTED_INDEX_OPTIONS = (
    "hidden", "collation", "weights", "default_language", "language_override",
    "textIndexVersion", "2dsphereIndexVersion", "bits", "min", "max", "wildcardProjection",
    "storageEngine", "prepareUnique", "clustered", "originalSpec", "coarsestIndexedLevel",
    "finestIndexedLevel", "columnstoreProjection", "columnstoreCompressor",
)  # fmt: skip
# The index plugins mongod knows (index_names.cpp); fakemongo builds none of them.
_INDEX_PLUGINS = frozenset({"2d", "2dsphere", "text", "hashed", "wildcard", "columnstore"})
# manual, "Partial Indexes": what a partialFilterExpression may use.
_PARTIAL_OPERATORS = frozenset({"$eq", "$gt", "$gte", "$lt", "$lte", "$type", "$in", "$exists"})
_INT32_MAX = 2**31 - 1


def _spec_error(code: ErrorCode, spec: Mapping[str, Any], reason: str) -> CommandError:
    # parseAndValidateIndexSpecs: every validateIndexSpec failure gets this context.
    return CommandError(code, f"Error in specification {bson_repr(spec)} :: caused by :: {reason}")


def _check_key(spec: Mapping[str, Any], key: Any) -> None:
    """validateKeyPattern, plus 115 for the index types fakemongo does not build."""
    if not isinstance(key, Mapping):
        raise _spec_error(
            ErrorCode.TypeMismatch,
            spec,
            f"The field 'key' must be an object, but got {type_alias(key)}",
        )
    if not key:
        raise _spec_error(ErrorCode.CannotCreateIndex, spec, "Index keys cannot be empty.")
    for field, direction in key.items():
        if isinstance(direction, str):
            if direction not in _INDEX_PLUGINS:
                raise _spec_error(
                    ErrorCode.CannotCreateIndex, spec, f"Unknown index plugin '{direction}'"
                )
            raise CommandError(
                ErrorCode.CommandNotSupported,
                f"fakemongo does not support '{direction}' indexes (index key '{field}')",
            )
        if isinstance(direction, bool) or not isinstance(direction, int | float | Int64):
            raise _spec_error(
                ErrorCode.CannotCreateIndex,
                spec,
                f"Values in v:2 index key pattern cannot be of type {type_alias(direction)}. "
                "Only numbers > 0, numbers < 0, and strings are allowed.",
            )
        if math.isnan(direction):
            raise _spec_error(
                ErrorCode.CannotCreateIndex, spec, "Values in the index key pattern cannot be NaN."
            )
        if direction == 0:
            raise _spec_error(
                ErrorCode.CannotCreateIndex, spec, "Values in the index key pattern cannot be 0."
            )
        if field == "$**" or field.endswith(".$**"):
            raise CommandError(
                ErrorCode.CommandNotSupported, "fakemongo does not support 'wildcard' indexes"
            )
        parts = field.split(".")
        if "" in parts:
            raise _spec_error(
                ErrorCode.CannotCreateIndex, spec, "Index keys cannot contain an empty field."
            )
        if any(p.startswith("$") and (i == 0 or p not in ("$id", "$ref", "$db"))
               for i, p in enumerate(parts)):  # fmt: skip
            raise _spec_error(
                ErrorCode.CannotCreateIndex,
                spec,
                "Index key contains an illegal field name: field name starts with '$'.",
            )


def _check_partial(spec: Mapping[str, Any], expression: Mapping[str, Any]) -> None:
    for field, value in expression.items():
        if field in ("$and", "$or"):
            for clause in value:  # compile_filter checked: a list of documents
                _check_partial(spec, clause)
            continue
        operators = value.keys() if isinstance(value, Mapping) else ()
        bad = [op for op in operators if op.startswith("$") and op not in _PARTIAL_OPERATORS]
        if field.startswith("$"):
            bad.append(field)
        elif isinstance(value, Regex):
            bad.append("$regex")
        elif isinstance(value, Mapping) and "$exists" in value and not value["$exists"]:
            bad.append("$exists: false")
        if bad:
            raise _spec_error(
                ErrorCode.CannotCreateIndex,
                spec,
                f"Expression not supported in partial index: {bad[0]}",
            )


def _validate_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """validateIndexSpec: the spec with ``v`` added, or the server's error."""
    for field in spec:
        if field not in INDEX_FIELDS:
            raise _spec_error(
                ErrorCode.InvalidIndexSpecificationOption,
                spec,
                f"The field '{field}' is not valid for an index specification. "
                f"Specification: {bson_repr(spec)}",
            )
    if "key" in spec:
        _check_key(spec, spec["key"])
    if "name" in spec and not isinstance(spec["name"], str):
        raise _spec_error(
            ErrorCode.TypeMismatch,
            spec,
            f"The field 'name' must be a string, but got {type_alias(spec['name'])}",
        )
    for field in _BOOLINDEX_FIELDS:
        value = spec.get(field, False)
        if isinstance(value, bool | int | float | Int64):
            continue
        raise _spec_error(
            ErrorCode.TypeMismatch,
            spec,
            # sic: mongod's message misses the quote after the field name
            f"The field '{field} has value {field}: {bson_repr(value)}, "
            "which is not convertible to bool",
        )
    version = spec.get("v", 2)
    if (
        isinstance(version, bool)
        or not isinstance(version, int | float | Int64)
        or version not in (1, 2)
    ):
        raise CommandError(
            ErrorCode.CannotCreateIndex,
            f"Invalid index specification {bson_repr(spec)}; "
            f"cannot create an index with v={version}",
        )
    partial = spec.get("partialFilterExpression")
    if partial is not None:
        if not isinstance(partial, Mapping):
            raise _spec_error(
                ErrorCode.TypeMismatch,
                spec,
                "The field 'partialFilterExpression' must be an object, but got "
                f"{type_alias(partial)}",
            )
        compile_filter(partial)
        _check_partial(spec, partial)
    for field in ("key", "name"):
        if field not in spec:
            raise _spec_error(
                ErrorCode.FailedToParse,
                spec,
                f"The '{field}' field is a required property of an index specification",
            )
    validated = dict(spec)
    validated["v"] = int(version)  # appended when absent, as mongod adds it
    return validated


def _check_ttl(spec: Mapping[str, Any]) -> None:
    """validateIndexSpecTTL (index_key_validate.cpp)."""
    if "expireAfterSeconds" not in spec:
        return
    ttl = spec["expireAfterSeconds"]
    reason = None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float | Int64):
        reason = (
            "TTL index 'expireAfterSeconds' option must be numeric, but received a type of "
            f"'{type_alias(ttl)}"
        )
    elif math.isnan(ttl):
        reason = "TTL index 'expireAfterSeconds' option must not be NaN"
    elif math.isinf(ttl) or not -(2**31) <= int(ttl) <= _INT32_MAX:
        reason = "TTL index 'expireAfterSeconds' must be within the range of a 32-bit integer"
    elif ttl < 0:
        reason = "TTL index 'expireAfterSeconds' option cannot be less than 0"
    if reason is not None:
        raise CommandError(
            ErrorCode.CannotCreateIndex, f". Index spec: {bson_repr(spec)} :: caused by :: {reason}"
        )
    if len(spec["key"]) != 1:
        raise CommandError(
            ErrorCode.CannotCreateIndex,
            "TTL indexes are single-field indexes, compound indexes do not support TTL. "
            f"Index spec: {bson_repr(spec)}",
        )


def _stored_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec as listIndexes shows it (IndexCatalogImpl's _fixIndexSpec):
    v, then unique: true, key, name, then the other fields as given."""
    out: dict[str, Any] = {"v": spec["v"]}
    if spec.get("unique"):
        out["unique"] = True
    out["key"] = dict(spec["key"])
    out["name"] = spec["name"]
    skipped = ("v", "unique", "key", "name", "ns", "dropDups", "_id")
    out.update((field, value) for field, value in spec.items() if field not in skipped)
    return out


def parse_index(raw: Mapping[str, Any]) -> Index:
    spec = _validate_spec(raw)
    _check_ttl(raw)
    key = spec["key"]
    if list(key.items()) == [("_id", 1)]:
        for field in spec:
            if field not in ("key", "name", "v", "collation", "ns"):
                raise CommandError(
                    ErrorCode.InvalidIndexSpecificationOption,
                    f"The field '{field}' is not valid for an _id index specification. "
                    f"Specification: {bson_repr(spec)}",
                )
        spec["name"] = "_id_"
    elif spec["name"] == "_id_":
        raise CommandError(
            ErrorCode.BadValue,
            "The index name '_id_' is reserved for the _id index, which must have key pattern "
            f"{{_id: 1}}, found key: {bson_repr(key)}",
        )
    elif spec["name"] == "*":
        raise CommandError(ErrorCode.BadValue, "The index name '*' is not valid.")
    if not spec["name"]:
        raise _spec_error(ErrorCode.CannotCreateIndex, spec, "index name cannot be empty")
    for option in _UNSUPPORTED_INDEX_OPTIONS:
        if option in spec:
            raise CommandError(
                ErrorCode.BadValue, f"fakemongo does not support the index option '{option}'"
            )
    partial = spec.get("partialFilterExpression")
    ttl = spec.get("expireAfterSeconds")
    return Index(
        spec["name"],
        list(key.items()),
        _stored_spec(spec),
        unique=bool(spec.get("unique")),
        sparse=bool(spec.get("sparse")),
        partial=None if partial is None else compile_filter(partial),
        expire_after_seconds=None if ttl is None else float(ttl),
    )


def signature(index: Index) -> tuple[Any, ...]:
    # IndexDescriptor::compareIndexOptions: the key pattern and the partial
    # filter identify an index; the other options only make two equivalent.
    return (index.key, index.spec.get("partialFilterExpression"))


def options_of(index: Index) -> dict[str, Any]:
    return {k: v for k, v in index.spec.items() if k != "name"}


def check_conflict(index: Index, existing: Index | None, same_signature: Index | None) -> bool:
    """Whether ``index`` is already there (True) or can be built (False);
    raises for the conflicts of IndexCatalogImpl::_doesSpecConflictWithExisting."""
    requested, found = bson_repr(index.spec), ""
    if existing is not None:
        found = bson_repr(existing.spec)
        if signature(existing) != signature(index):
            raise CommandError(
                ErrorCode.IndexKeySpecsConflict,
                "An existing index has the same name as the requested index. When index names "
                "are not specified, they are auto generated and can cause conflicts. Please "
                f"refer to our documentation. Requested index: {requested}, "
                f"existing index: {found}",
            )
        if options_of(existing) != options_of(index):
            raise CommandError(
                ErrorCode.IndexOptionsConflict,
                "An equivalent index already exists with the same name but different options. "
                f"Requested index: {requested}, existing index: {found}",
            )
        return True
    if same_signature is not None:
        if options_of(same_signature) == options_of(index):
            raise CommandError(
                ErrorCode.IndexOptionsConflict,
                f"Index already exists with a different name: {same_signature.name}",
            )
        raise CommandError(
            ErrorCode.IndexOptionsConflict,
            "An equivalent index already exists with a different name and options. "
            f"Requested index: {requested}, existing index: {bson_repr(same_signature.spec)}",
        )
    return False


class IndexBuildFailed(CommandError):
    """A unique index build that met duplicates: E11000 with its key fields."""

    def __init__(self, collection: Collection, error: DuplicateKeyError) -> None:
        super().__init__(
            ErrorCode.DuplicateKey,
            f"Index build failed: {uuid.uuid4()}: Collection {collection.namespace} "
            f"( {collection.uuid} ) :: caused by :: {error.errmsg}",
        )
        self.key_pattern = error.key_pattern
        self.key_value = error.key_value

    def to_document(self) -> dict[str, Any]:
        return {**super().to_document(), "keyPattern": self.key_pattern, "keyValue": self.key_value}
