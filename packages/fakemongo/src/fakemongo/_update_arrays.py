"""Update modifiers on arrays: $push, $addToSet, $pop, $pull and $pullAll.

Manual, "Array Update Operators": $push appends (with $each, at $position, then
$sort, then $slice), $addToSet appends the values not already present (BSON
equality under the collation), $pop removes the first or last element, $pull the
elements matching a condition (a query on embedded documents, or an operator
expression on the element itself) and $pullAll those equal to a listed value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cmp_to_key
from typing import Any

from fakemongo._bsonorder import StringKey, bson_repr, compare, is_number, sort_key, type_alias
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._match import compile_filter
from fakemongo._matchops import is_regex, parse_integer
from fakemongo._update_ops import Context, Leaf, Ref, array_index, copy_value, dotted, is_object

__all__ = [
    "AddToSetLeaf",
    "PopLeaf",
    "PullAllLeaf",
    "PullLeaf",
    "PushLeaf",
    "ban_special_features",
]

_INT64 = (-(2**63), 2**63 - 1)
_NO_LIMIT = 2**63 - 1  # $push without $slice / $position


def _sort_argument(spec: Any) -> tuple[tuple[tuple[str, ...], int], ...] | int:
    """A $push $sort: a direction for whole elements, or (path, direction) pairs."""
    if is_object(spec):
        if not spec:
            raise CommandError(
                ErrorCode.BadValue, "The $sort pattern is empty when it should be a set of fields."
            )
        pattern = []
        for name, value in spec.items():
            direction = float(value) if is_number(value) else 0.0
            if direction not in (1, -1):
                raise CommandError(
                    ErrorCode.BadValue, "The $sort element value must be either 1 or -1"
                )
            if not name:
                raise CommandError(ErrorCode.BadValue, "The $sort field cannot be empty")
            parts = tuple(name.split("."))
            if "" in parts:
                raise CommandError(
                    ErrorCode.BadValue,
                    f"The $sort field is a dotted field but has an empty part: {name}",
                )
            pattern.append((parts, int(direction)))
        return tuple(pattern)
    if is_number(spec):
        direction = float(spec)
        if direction not in (1, -1):
            raise CommandError(ErrorCode.BadValue, "The $sort element value must be either 1 or -1")
        return int(direction)
    raise CommandError(
        ErrorCode.BadValue,
        "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort "
        "embedded fields",
    )


def _fielddotted(value: Any, parts: tuple[str, ...]) -> Any:
    """BSONObj::getFieldDotted for a $sort key: null when absent (no array traversal)."""
    for part in parts:
        index = array_index(part) if isinstance(value, list) else None
        if is_object(value) and part in value:
            value = value[part]
        elif index is not None and str(index) == part and index < len(value):
            value = value[index]
        else:
            return None
    return value


class PushLeaf(Leaf):
    __slots__ = ("position", "slice", "sort", "values")

    def __init__(self, spec: Any) -> None:
        self.values, self.slice, self.position = [spec], _NO_LIMIT, _NO_LIMIT
        self.sort: tuple[tuple[tuple[str, ...], int], ...] | int | None = None
        if not (is_object(spec) and "$each" in spec):
            return
        for clause in spec:
            if clause not in ("$each", "$slice", "$sort", "$position"):
                raise CommandError(ErrorCode.BadValue, f"Unrecognized clause in $push: {clause}")
        each = spec["$each"]
        if not isinstance(each, list):
            raise CommandError(
                ErrorCode.BadValue,
                "The argument to $each in $push must be an array but it was of type: "
                f"{type_alias(each)}",
            )
        self.values = each
        if "$slice" in spec:
            self.slice = self._integer(
                spec["$slice"], "$slice", "must be an integer value but was given type:"
            )
        if "$sort" in spec:
            self.sort = _sort_argument(spec["$sort"])
        if "$position" in spec:
            self.position = self._integer(
                spec["$position"], "$position", "must be an integer value, not of type:"
            )

    @staticmethod
    def _integer(value: Any, name: str, complaint: str) -> int:
        try:
            return parse_integer(name, value)
        except CommandError:
            raise CommandError(
                ErrorCode.BadValue, f"The value for {name} {complaint} {type_alias(value)}"
            ) from None

    def _key(self, ctx: Context) -> Callable[[Any], Any]:
        string_key, sort = ctx.string_key, self.sort
        if isinstance(sort, int):
            direction = sort
            return cmp_to_key(lambda a, b: direction * compare(a, b, string_key))
        pattern = sort or ()

        def order(a: Any, b: Any) -> int:
            a, b = (item if is_object(item) else {"": item} for item in (a, b))
            for parts, direction in pattern:
                result = compare(_fielddotted(a, parts), _fielddotted(b, parts), string_key)
                if result:
                    return direction * result
            return 0

        return cmp_to_key(order)

    def _push(self, ctx: Context, array: list[Any]) -> tuple[list[Any], bool]:
        out, changed, size = list(array), bool(self.values), len(array)
        if self.values:
            position = self.position
            if position >= size:
                at = size
            elif position > 0:
                at = position
            elif position < 0 and -position < size:
                at = size + position
            else:
                at = 0
            out[at:at] = [copy_value(value) for value in self.values]
        if self.sort is not None:  # a sort counts as a change even when the order holds
            changed = True
            out.sort(key=self._key(ctx))
        limit = abs(self.slice) if self.slice != _INT64[0] else _INT64[1]
        if len(out) > limit:
            changed = True
            out = out[:limit] if self.slice >= 0 else out[len(out) - limit :]
        return out, changed

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        current = ref.value
        if not isinstance(current, list):
            raise CommandError(
                ErrorCode.BadValue,
                f"The field '{dotted(taken)}' must be an array but is of type "
                f"{type_alias(current)} in document {{{ctx.id_element() or 'no id'}}}",
            )
        array, changed = self._push(ctx, current)
        if changed:
            ref.set(array)
        return changed

    def create(self, ctx: Context) -> Any:
        return self._push(ctx, [])[0]


class AddToSetLeaf(Leaf):
    __slots__ = ("elements",)

    def __init__(self, spec: Any, string_key: StringKey | None) -> None:
        elements = [spec]
        if is_object(spec) and spec and next(iter(spec)) == "$each":
            each = spec["$each"]
            if not isinstance(each, list):
                raise CommandError(
                    ErrorCode.TypeMismatch,
                    "The argument to $each in $addToSet must be an array but it was of type "
                    f"{type_alias(each)}",
                )
            if len(spec) > 1:
                raise CommandError(
                    ErrorCode.BadValue,
                    f"Found unexpected fields after $each in $addToSet: {bson_repr(spec)}",
                )
            elements = each
        seen: set[Any] = set()
        self.elements = []
        for element in elements:
            key = sort_key(element, string_key)
            if key not in seen:
                seen.add(key)
                self.elements.append(element)

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        current = ref.value
        if not isinstance(current, list):
            raise CommandError(
                ErrorCode.BadValue,
                f"Cannot apply $addToSet to non-array field. Field named '{ref.key}' has "
                f"non-array type {type_alias(current)}",
            )
        present = {sort_key(item, ctx.string_key) for item in current}
        added = [e for e in self.elements if sort_key(e, ctx.string_key) not in present]
        if not added:
            return False
        ref.set(current + [copy_value(element) for element in added])
        return True

    def create(self, ctx: Context) -> Any:
        return [copy_value(element) for element in self.elements]


# ---------------------------------------------------------------- $pop, $pull, $pullAll


class _Culling(Leaf):
    """Modifiers that only remove array elements: never create, never validate names."""

    __slots__ = ()
    creates = False
    validates = False

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        current = ref.value
        if not isinstance(current, list):
            raise CommandError(ErrorCode.BadValue, "Cannot apply $pull to a non-array value")
        kept = [item for item in current if not self.matches(item)]
        if len(kept) == len(current):
            return False
        ref.set(kept)
        return True

    def matches(self, element: Any) -> bool:
        raise NotImplementedError


class PopLeaf(Leaf):
    __slots__ = ("front",)
    creates = False
    validates = False

    def __init__(self, path: str, spec: Any) -> None:
        value = parse_integer(path, spec)
        if value not in (1, -1):
            raise CommandError(ErrorCode.FailedToParse, f"$pop expects 1 or -1, found: {value}")
        self.front = value == -1

    def update(self, ctx: Context, ref: Ref, taken: list[str]) -> bool:
        current = ref.value
        if not isinstance(current, list):
            raise CommandError(
                ErrorCode.TypeMismatch,
                f"Path '{dotted(taken)}' contains an element of non-array type "
                f"'{type_alias(current)}'",
            )
        if not current:
            return False
        ref.set(current[1:] if self.front else current[:-1])
        return True


# parsePathAcceptingKeyword: operators that make a $pull condition apply to the
# element itself rather than to the fields of embedded documents.
_VALUE_OPERATORS = frozenset(
    {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type", "$size"}
    | {"$all", "$elemMatch", "$mod", "$regex", "$options", "$not", "$bitsAllSet"}
    | {"$bitsAllClear", "$bitsAnySet", "$bitsAnyClear", "$near", "$nearSphere", "$within"}
    | {"$geoWithin", "$geoIntersects"}
)


def ban_special_features(spec: Mapping[str, Any]) -> None:
    """kBanAllSpecialFeatures, for filters that match array elements ($pull conditions,
    arrayFilters): $expr is refused with 224, $where, $text and $near with 2."""
    for name, value in spec.items():
        if name == "$expr":
            raise CommandError(
                ErrorCode.QueryFeatureNotAllowed, "$expr is not allowed in this context"
            )
        if name in ("$where", "$text"):
            raise CommandError(ErrorCode.BadValue, f"{name} is not allowed in this context")
        if name in ("$and", "$or", "$nor") and isinstance(value, list):
            for clause in value:
                if is_object(clause):
                    ban_special_features(clause)
        elif is_object(value) and _NEAR.intersection(value):
            raise CommandError(
                ErrorCode.BadValue,
                "$geoNear, $near, and $nearSphere are not allowed in this context",
            )


_NEAR = frozenset({"$near", "$nearSphere", "$geoNear"})


class PullLeaf(_Culling):
    __slots__ = ("test",)

    def __init__(self, spec: Any, string_key: StringKey | None) -> None:
        self.test: Callable[[Any], bool]
        if (is_object(spec) and spec and next(iter(spec)) in _VALUE_OPERATORS) or is_regex(spec):
            # The condition applies to the element itself (arrays are traversed).
            matcher = compile_filter({"": spec}, string_key)
            self.test = lambda element: matcher.matches({"": element})
        elif is_object(spec):
            # A query on the fields of embedded documents ({} matches every one).
            ban_special_features(spec)
            matcher = compile_filter(spec, string_key)
            self.test = lambda element: is_object(element) and matcher.matches(element)
        else:
            self.test = lambda element: compare(element, spec, string_key) == 0

    def matches(self, element: Any) -> bool:
        return self.test(element)


class PullAllLeaf(_Culling):
    __slots__ = ("keys", "string_key")

    def __init__(self, spec: Any, string_key: StringKey | None) -> None:
        if not isinstance(spec, list):
            raise CommandError(
                ErrorCode.BadValue,
                f"$pullAll requires an array argument but was given a {type_alias(spec)}",
            )
        self.string_key = string_key
        self.keys = {sort_key(item, string_key) for item in spec}

    def matches(self, element: Any) -> bool:
        return sort_key(element, self.string_key) in self.keys
