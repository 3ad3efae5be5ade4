"""Update modifiers: the machinery, and what $set, $unset, $min, $max, $currentDate
and $rename do at the end of their paths.

Every leaf mirrors one of the server's ModifierNodes (``src/mongo/db/update/``):
its argument is checked once (the node's ``init``), it creates a missing field
(``setValueForNewElement``) or changes an existing one (``updateExistingElement``),
and it reports a no-op so that ``nModified`` counts only real changes (manual,
"update": a ``$set`` to the value a field already holds modifies nothing). A
modifier that cannot create fields ($unset, $pop, $pull, $pullAll) is a no-op on
a missing path, but $pop and the pulls still fail on a path that could never
exist ("non-viable": through a scalar, or a field name into an array).

Documents are copied on write: :class:`Context` copies each container on an
update's path before changing it, so the input document is never modified.
"""

from __future__ import annotations

import calendar
import datetime
import threading
from collections.abc import Callable, Mapping
from typing import Any

import bson
from bson import Timestamp

from fakemongo._bsonorder import Rank, StringKey, compare, type_alias, type_rank, values_equal
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._matchops import elem_repr

__all__ = [
    "CompareLeaf",
    "Context",
    "CurrentDateLeaf",
    "Leaf",
    "PlaceholderLeaf",
    "Ref",
    "RenameLeaf",
    "SetLeaf",
    "SetOnInsertLeaf",
    "UnsetLeaf",
    "array_index",
    "check_dollar_field",
    "copy_value",
    "dotted",
    "is_identifier",
    "is_object",
    "next_timestamp",
]

_MAX_PADDING = 1_500_000  # path_support.cpp: kMaxPaddingAllowed


def is_object(value: Any) -> bool:
    """An embedded document (a DBRef or other special value is not one)."""
    return isinstance(value, Mapping) and type_rank(value) == Rank.OBJECT


def is_identifier(part: str) -> bool:
    """``$[]`` or ``$[<identifier>]`` (the server's isArrayFilterIdentifier)."""
    return len(part) >= 3 and part.startswith("$[") and part.endswith("]")


def array_index(part: str) -> int | None:
    """The array index a path component names (parseUnsignedBase10Integer), or None."""
    if part.isascii() and part.isdigit():
        index = int(part)
        if index <= 2**32 - 1:
            return index
    return None


def copy_value(value: Any) -> Any:
    """A copy of ``value`` whose documents and arrays are new (scalars are shared)."""
    if isinstance(value, list):
        return [copy_value(item) for item in value]
    if is_object(value):
        return {name: copy_value(item) for name, item in value.items()}
    return value


def _binary_equal(a: Any, b: Any) -> bool:
    """BSONElement::binaryEqualValues: same type and same bytes (1 differs from 1.0)."""
    kind = type(a)
    if kind is type(b) and kind in (int, str, bool, type(None)):
        return bool(a == b)
    return bson.encode({"": a}) == bson.encode({"": b})


def dotted(parts: list[str]) -> str:
    return ".".join(parts)


class Ref:
    """Where an existing element lives: its (already copied) container and key."""

    __slots__ = ("container", "key")

    def __init__(self, container: Any, key: Any) -> None:
        self.container = container
        self.key = key

    @property
    def value(self) -> Any:
        return self.container[self.key]

    def set(self, value: Any) -> None:
        self.container[self.key] = value

    def describe(self) -> str:
        """The element as the server prints it (``name: value``)."""
        return elem_repr(str(self.key), self.value)


_clock_lock = threading.Lock()
_clock = [0, 0]


def next_timestamp(now: datetime.datetime) -> Timestamp:
    """A timestamp at ``now``'s second whose increment counts the ones handed out in
    that second, like the server's logical clock (a naive datetime is UTC)."""
    seconds = calendar.timegm(now.utctimetuple())
    with _clock_lock:
        if seconds == _clock[0]:
            _clock[1] += 1
        else:
            _clock[0], _clock[1] = seconds, 1
        return Timestamp(_clock[0], _clock[1])


class Context:
    """One application of an update to one document."""

    __slots__ = ("filters", "holder", "keep", "matched", "now", "owned", "string_key", "upsert")

    def __init__(
        self,
        doc: Mapping[str, Any],
        *,
        matched: str | None,
        upsert: bool,
        now: datetime.datetime,
        string_key: StringKey | None,
        filters: Mapping[str, Callable[[Any], bool]],
    ) -> None:
        root = dict(doc)
        self.holder: dict[str, Any] = {"": root}
        self.owned = {id(root)}
        self.keep: list[Any] = [root]  # owned containers stay alive, so their ids stay unique
        self.matched = matched
        self.upsert = upsert
        self.now = now
        self.string_key = string_key
        self.filters = filters

    @property
    def root(self) -> dict[str, Any]:
        root: dict[str, Any] = self.holder[""]
        return root

    def root_ref(self) -> Ref:
        return Ref(self.holder, "")

    def own(self, ref: Ref) -> Any:
        """The container at ``ref``, copied first unless this update made it."""
        value = ref.value
        if id(value) not in self.owned:
            value = dict(value) if isinstance(value, Mapping) else list(value)
            ref.set(value)
            self.owned.add(id(value))
            self.keep.append(value)
        return value

    def child(self, ref: Ref, field: str) -> Ref | None:
        """The existing child ``field`` of the element at ``ref`` (an index into an array)."""
        value = ref.value
        if isinstance(value, Mapping):
            if field not in value:
                return None
            return Ref(self.own(ref), field)
        if isinstance(value, list):
            index = array_index(field)
            if index is None or index >= len(value):
                return None
            return Ref(self.own(ref), index)
        return None

    def id_element(self) -> str | None:
        """The document's ``_id`` element as messages print it, None without one."""
        root = self.root
        return elem_repr("_id", root["_id"]) if "_id" in root else None

    def check_top_level(self, name: str) -> None:
        """storage_validation: a top-level ``$`` field may not be written by an update.

        An upsert's insert is validated as an insert, which allows them (manual,
        "Field Names with Periods and Dollar Signs").
        """
        if not self.upsert:
            check_dollar_field(self.root, name)


def check_dollar_field(doc: Mapping[str, Any], name: str) -> None:
    """validateDollarPrefixElement for the top-level field ``name`` of ``doc``.

    Only the fields of a DBRef ($ref, then $id, then an optional $db) may start with
    ``$``; raises 55 InvalidDBRef for a malformed DBRef, 52 otherwise.
    """
    if not name.startswith("$"):
        return
    names = list(doc)
    index = names.index(name)
    current = name
    if current == "$db":
        if type_rank(doc[current]) != Rank.STRING:
            raise CommandError(
                ErrorCode.InvalidDBRef,
                f"The DBRef $db field must be a String, not a {type_alias(doc[current])}",
            )
        if index == 0 or names[index - 1] != "$id":
            raise CommandError(
                ErrorCode.InvalidDBRef, "Found $db field without a $id before it, which is invalid."
            )
        index, current = index - 1, "$id"
    if current == "$id":
        if index == 0 or names[index - 1] != "$ref":
            raise CommandError(
                ErrorCode.InvalidDBRef,
                "Found $id field without a $ref before it, which is invalid.",
            )
        index, current = index - 1, "$ref"
    if current == "$ref":
        if type_rank(doc[current]) != Rank.STRING:
            raise CommandError(
                ErrorCode.InvalidDBRef,
                f"The DBRef $ref field must be a String, not a {type_alias(doc[current])}",
            )
        if index + 1 >= len(names) or names[index + 1] != "$id":
            raise CommandError(
                ErrorCode.InvalidDBRef, "The DBRef $ref field must be followed by a $id field"
            )
        return
    raise CommandError(
        ErrorCode.DollarPrefixedFieldName,
        f"The dollar ($) prefixed field '{name}' in '{name}' is not allowed in the context of "
        "an update's replacement document. Consider using an aggregation pipeline with "
        "$replaceWith.",
    )


def _nest(parts: list[str], value: Any) -> Any:
    for part in reversed(parts):
        value = {part: value}
    return value


def _create_path(ctx: Context, ref: Ref, missing: list[str], value: Any) -> None:
    """pathsupport::createPathAt: build ``missing`` below ``ref``, padding arrays with nulls."""
    current, first = ref.value, missing[0]
    index = array_index(first) if isinstance(current, list) else None
    if not isinstance(current, Mapping) and index is None:
        raise CommandError(
            ErrorCode.PathNotViable,
            f"Cannot create field '{first}' in element {{{ref.describe()}}}",
        )
    target = ctx.own(ref)
    if index is None:
        target[first] = _nest(missing[1:], value)
        return
    if index - len(target) > _MAX_PADDING:
        raise CommandError(
            ErrorCode.CannotBackfillArray, f"can't backfill more than {_MAX_PADDING} elements"
        )
    target.extend([None] * (index - len(target)))
    target.append(_nest(missing[1:], value))


def _check_viability(ref: Ref, missing: list[str], taken: list[str]) -> None:
    """UpdateLeafNode::checkViability, for modifiers that never create a path."""
    value = ref.value
    if isinstance(value, Mapping) or (
        isinstance(value, list) and array_index(missing[0]) is not None
    ):
        return
    raise CommandError(
        ErrorCode.PathNotViable,
        f"Cannot use the part ({missing[0]}) of ({dotted(taken)}.{dotted(missing)}) to "
        f"traverse the element ({{{ref.describe()}}})",
    )


def _immutable(path: str) -> CommandError:
    return CommandError(
        ErrorCode.ImmutableField,
        f"Performing an update on the path '{path}' would modify the immutable field '_id'",
    )


class Leaf:
    """A modifier at the end of a path (the server's ModifierNode)."""

    __slots__ = ()
    creates = True  # allowCreation: the modifier creates a missing field
    any_path = False  # allowNonViablePath: a non-viable missing path is a no-op too
    validates = True  # validateUpdate checks the name of a top-level field it writes
    insert_only = False  # $setOnInsert

    def apply(self, ctx: Context, ref: Ref, taken: list[str], missing: list[str]) -> bool:
        """Apply at ``ref`` (reached by ``taken``; ``missing`` are the absent parts after
        it). Returns whether the document changed."""
        if self.insert_only and not ctx.upsert:
            return False
        if missing:
            return self._apply_missing(ctx, ref, taken, missing)
        if not self.update(ctx, ref, taken):
            return False
        if taken[0] == "_id":
            raise _immutable(dotted(taken))
        if self.validates and len(taken) == 1:
            ctx.check_top_level(taken[0])
        return True

    def _apply_missing(self, ctx: Context, ref: Ref, taken: list[str], missing: list[str]) -> bool:
        if not self.creates:
            if not self.any_path:
                _check_viability(ref, missing, taken)
            return False
        _create_path(ctx, ref, missing, self.create(ctx))
        if self.validates and not taken:
            ctx.check_top_level(missing[0])
        if taken and taken[0] == "_id":
            raise CommandError(
                ErrorCode.ImmutableField,
                f"Updating the path '{dotted(taken)}' to {ref.describe()} would modify the "
                "immutable field '_id'",
            )
        return True

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        """Change the existing element at ``ref``; False when nothing changes."""
        raise NotImplementedError

    def create(self, ctx: Context) -> Any:
        """The value of a field this modifier creates."""
        raise NotImplementedError


class PlaceholderLeaf(Leaf):
    """The source path of a $rename: claims the path for conflict detection only."""

    __slots__ = ()

    def apply(self, ctx: Context, ref: Ref, taken: list[str], missing: list[str]) -> bool:
        return False


# ---------------------------------------------------------------- $set, $setOnInsert, $unset


class SetLeaf(Leaf):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        if _binary_equal(ref.value, self.value):
            return False
        ref.set(copy_value(self.value))
        return True

    def create(self, ctx: Context) -> Any:
        return copy_value(self.value)


class SetOnInsertLeaf(SetLeaf):
    __slots__ = ()
    insert_only = True


class UnsetLeaf(Leaf):
    __slots__ = ()
    creates = False
    any_path = True
    validates = False

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        # Manual, "$unset": in an array the element becomes null; the length stays.
        if isinstance(ref.container, list):
            ref.set(None)
        else:
            del ref.container[ref.key]
        return True


# ---------------------------------------------------------------- $min, $max, $currentDate


class CompareLeaf(Leaf):
    __slots__ = ("maximum", "value")

    def __init__(self, maximum: bool, value: Any) -> None:
        self.maximum, self.value = maximum, value

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        order = compare(ref.value, self.value, ctx.string_key)
        if order == 0 or (order > 0 if self.maximum else order < 0):
            return False
        ref.set(copy_value(self.value))
        return True

    def create(self, ctx: Context) -> Any:
        return copy_value(self.value)


class CurrentDateLeaf(Leaf):
    __slots__ = ("date",)

    def __init__(self, spec: Any) -> None:
        self.date = True
        if is_object(spec):
            valid = False
            for name, value in spec.items():
                if name != "$type":
                    raise CommandError(
                        ErrorCode.BadValue, f"Unrecognized $currentDate option: {name}"
                    )
                if isinstance(value, str) and value in ("date", "timestamp"):
                    self.date, valid = value == "date", True
            if not valid:
                raise CommandError(
                    ErrorCode.BadValue,
                    "The '$type' string field is required to be 'date' or 'timestamp': "
                    "{$currentDate: {field : {$type: 'date'}}}",
                )
        elif not isinstance(spec, bool):
            raise CommandError(
                ErrorCode.BadValue,
                f"{type_alias(spec)} is not valid type for $currentDate. Please use a boolean "
                "('true') or a $type expression ({$type: 'timestamp/date'}).",
            )

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        ref.set(self.create(ctx))
        return True

    def create(self, ctx: Context) -> Any:
        return ctx.now if self.date else next_timestamp(ctx.now)


# ---------------------------------------------------------------- $rename


class RenameLeaf(Leaf):
    """Sits at the destination path; moves the source element there (RenameNode)."""

    __slots__ = ("source", "source_path", "target_path")

    def __init__(self, source_path: str, target_path: str) -> None:
        if "\0" in target_path:
            raise CommandError(
                ErrorCode.BadValue,
                "The 'to' field for $rename cannot contain an embedded null byte",
            )
        source, target = source_path.split("."), target_path.split(".")
        spec = elem_repr(source_path, target_path)
        if source == target:
            raise CommandError(
                ErrorCode.BadValue, f"The source and target field for $rename must differ: {spec}"
            )
        shorter = min(len(source), len(target))
        if source[:shorter] == target[:shorter]:
            raise CommandError(
                ErrorCode.BadValue,
                f"The source and target field for $rename must not be on the same path: {spec}",
            )
        for parts, role, path in (
            (source, "source", source_path),
            (target, "destination", target_path),
        ):
            if any(part == "$" or is_identifier(part) for part in parts):
                raise CommandError(
                    ErrorCode.BadValue, f"The {role} field for $rename may not be dynamic: {path}"
                )
        self.source, self.source_path, self.target_path = source, source_path, target_path

    def apply(self, ctx: Context, ref: Ref, taken: list[str], missing: list[str]) -> bool:
        values = self._find_source(ctx.root)
        if values is None:
            return False  # manual, "$rename": a missing source field changes nothing
        document = ctx.id_element() or "no id"
        for index in range(len(values) - 2, -1, -1):
            if isinstance(values[index], list):
                raise CommandError(
                    ErrorCode.BadValue,
                    f"The source field cannot be an array element, '{self.source_path}' in doc "
                    f"with {document} has an array field called '{self.source[index]}'",
                )
        chain: list[Any] = []
        current: Any = ctx.root
        for part in taken:
            current = current[int(part)] if isinstance(current, list) else current[part]
            chain.append(current)
        for index in range(len(chain) - (1 if missing else 2), -1, -1):
            if isinstance(chain[index], list):
                raise CommandError(
                    ErrorCode.BadValue,
                    f"The destination field cannot be an array element, '{self.target_path}' in "
                    f"doc with {document} has an array field called '{taken[index]}'",
                )
        value = values[-1]
        if missing:
            _create_path(ctx, ref, missing, copy_value(value))
            if not taken:
                ctx.check_top_level(missing[0])
            if taken and taken[0] == "_id":
                raise CommandError(
                    ErrorCode.ImmutableField,
                    f"Updating the path '{dotted(taken)}' to {ref.describe()} would modify the "
                    "immutable field '_id'",
                )
        elif not values_equal(ref.value, value):
            ref.set(copy_value(value))
            if taken[0] == "_id":
                raise _immutable(dotted(taken))
            if len(taken) == 1:
                ctx.check_top_level(taken[0])
        parent = ctx.root_ref()
        for part in self.source[:-1]:
            parent = Ref(ctx.own(parent), part)
        del ctx.own(parent)[self.source[-1]]
        if self.source[0] == "_id":
            raise _immutable(self.source_path)
        return True

    def _find_source(self, root: Mapping[str, Any]) -> list[Any] | None:
        """pathsupport::findLongestPrefix: the values along the source path, or None."""
        values: list[Any] = []
        current: Any = root
        for index, part in enumerate(self.source):
            position = array_index(part) if isinstance(current, list) else None
            if isinstance(current, Mapping):
                if part not in current:
                    return None
                current = current[part]
            elif position is not None:
                if position >= len(current):
                    return None
                current = current[position]
            else:
                raise CommandError(
                    ErrorCode.PathNotViable,
                    f"cannot use the part ({self.source[index - 1]} of {self.source_path}) to "
                    f"traverse the element ({{{elem_repr(self.source[index - 1], current)}}})",
                )
            values.append(current)
        return values
