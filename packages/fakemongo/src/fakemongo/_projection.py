"""find() projections: parse once (with the server's checks), apply per document.

Manual, "Projection" (find): inclusion or exclusion, never both except for ``_id``,
which is included unless excluded; dotted paths reach into embedded documents and
arrays of documents (an inclusion drops scalars found where a document was
expected, an exclusion keeps them); ``$slice`` (n, -n, [skip, limit]),
``$elemMatch``, positional ``path.$`` (needs the filter and the index the match went
through) and, since 4.4, expressions: ``$literal``, field paths, non-boolean
literals and the core operators of :mod:`fakemongo._expr`. As in 4.4+, fields
computed by an expression, ``$slice``, ``$elemMatch`` or ``$`` in an inclusion
projection come after the included fields. ``$meta`` answers 115.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakemongo._bsonorder import MISSING, Rank, StringKey, bson_repr, is_nan, type_alias, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, compile_expression, evaluate
from fakemongo._match import Matcher, compile_filter
from fakemongo._paths import parse_field_path

__all__ = ["Projection", "compile_projection"]


@dataclass(frozen=True, slots=True)
class _Slice:
    skip: int | None
    limit: int

    def apply(self, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        if self.skip is None:
            return value[: self.limit] if self.limit >= 0 else value[self.limit :]
        start = self.skip if self.skip >= 0 else max(0, len(value) + self.skip)
        return value[start : start + self.limit]


@dataclass(frozen=True, slots=True)
class _ElemMatch:
    matcher: Matcher


@dataclass(frozen=True, slots=True)
class _Positional:
    pass


@dataclass(frozen=True, slots=True)
class _Computed:
    evaluator: Evaluator


_Node = Any  # bool | _Slice | _ElemMatch | _Positional | _Computed | dict[str, _Node]
_COMPUTED = (_ElemMatch, _Positional, _Computed)


@dataclass(frozen=True, slots=True)
class Projection:
    """A parsed find() projection. ``positional`` is the path before ``.$``, if any."""

    inclusion: bool
    tree: dict[str, _Node]
    positional: tuple[str, ...] | None = None

    def apply(self, doc: Mapping[str, Any], match_index: int | None = None) -> dict[str, Any]:
        """Project ``doc``; ``match_index`` is :meth:`Matcher.match_index`'s index.

        Raises CommandError 51246 when a positional projection has no index to use,
        51247 when the index is past the end of the array.
        """
        if not self.inclusion:
            return _exclude(doc, self.tree)
        out = _include(doc, self.tree, doc)
        if self.positional is not None:
            if match_index is None:
                raise CommandError(
                    ErrorCode.Location51246,
                    "positional operator '.$' couldn't find a matching element in the array",
                )
            head, *rest = self.positional
            value = _positional(doc.get(head, MISSING), tuple(rest), match_index)
            if value is not MISSING:
                out[head] = value
        return out


def compile_projection(
    spec: Mapping[str, Any],
    filter: Mapping[str, Any] | None = None,
    string_key: StringKey | None = None,
) -> Projection:
    """Parse a find() projection; ``filter`` is the query (for positional ``$``).

    Raises CommandError with the server's codes: 31253/31254 mixing inclusion and
    exclusion, 31249/31250 path collisions, 31252/31310 expressions in an exclusion,
    31255/31256/31270/31271/31276/31277/31287/31308/51050 positional misuse,
    31257-31259/31272/31273 bad ``$slice``, 31274/31275 bad ``$elemMatch``, 51270
    an empty sub-projection, 115 ``$meta``, 168 an unsupported expression.
    """
    parser = _Parser(filter, string_key)
    for name, value in spec.items():
        parser.id_specified |= name == "_id" or name.startswith("_id.")
        parser.element(name, value, None, parser.root)
    return parser.finish()


# ---------------------------------------------------------------- parsing


def _first_positional(path: str) -> tuple[int, int] | None:
    index = path.find(".$.")
    if index >= 0:
        return index, index + 3
    if path.endswith(".$"):
        return len(path) - 2, len(path)
    if path == "$":
        return 0, 1
    return None


def _mentions_field(filter: Mapping[str, Any], field: str) -> bool:
    """Whether a filter has a predicate whose path starts with ``field``."""
    for key, value in filter.items():
        if key in ("$and", "$or", "$nor") and isinstance(value, list):
            if any(isinstance(c, Mapping) and _mentions_field(c, field) for c in value):
                return True
        elif not key.startswith("$") and key.split(".")[0] == field:
            return True
    return False


def _add_node(parent: dict[str, _Node], path: tuple[str, ...], node: _Node) -> None:
    for part in path[:-1]:
        child = parent.setdefault(part, {})
        if not isinstance(child, dict):
            raise CommandError(
                ErrorCode.Location31249,
                f"Path collision at {'.'.join(path)} remaining portion {'.'.join(path[1:])}",
            )
        parent = child
    if path[-1] in parent:
        raise CommandError(ErrorCode.Location31250, f"Path collision at {'.'.join(path)}")
    parent[path[-1]] = node


class _Parser:
    def __init__(self, filter: Mapping[str, Any] | None, string_key: StringKey | None) -> None:
        self.filter, self.string_key = filter, string_key
        self.root: dict[str, _Node] = {}
        self.type: bool | None = None  # True inclusion, False exclusion
        self.id_specified = self.id_included = self.id_excluded = False
        self.has_positional = self.has_elem_match = self.has_slice = False
        self.positional: tuple[str, ...] | None = None

    def finish(self) -> Projection:
        inclusion = self.type
        if inclusion is None:
            # projection_parser.cpp computeProjectionType: the ambiguous cases.
            if self.has_slice:
                inclusion = self.id_included
            else:
                inclusion = self.has_elem_match or self.id_included
        if inclusion and not self.id_specified:
            self.root["_id"] = True
        if not inclusion and self.id_included:
            del self.root["_id"]
        return Projection(inclusion, self.root, self.positional)

    def _set_type(self, inclusion: bool, conflict: CommandError) -> None:
        if self.type is not None and self.type != inclusion:
            raise conflict
        self.type = inclusion

    def element(
        self, name: str, value: Any, prefix: tuple[str, ...] | None, parent: dict[str, _Node]
    ) -> None:
        positional = _first_positional(name)
        if isinstance(value, Mapping) and type_rank(value) == Rank.OBJECT:
            if positional:
                raise CommandError(
                    ErrorCode.Location31271,
                    "positional projection cannot be used with an expression or sub object",
                )
            self.sub_object(name, value, prefix, parent)
        elif type_rank(value) in (Rank.NUMBER, Rank.BOOL):
            if _true(value):
                self.inclusion(name, prefix, parent, positional)
            else:
                self.exclusion(name, parent)
        else:
            if positional:
                raise CommandError(
                    ErrorCode.Location31308, "positional projection cannot be used with a literal"
                )
            _add_node(parent, parse_field_path(name), _Computed(compile_expression(value)))
            self._set_type(
                True,
                CommandError(
                    ErrorCode.Location31310,
                    f"Cannot use an expression {name}: {bson_repr(value)} "
                    "in an exclusion projection",
                ),
            )

    def inclusion(
        self,
        name: str,
        prefix: tuple[str, ...] | None,
        parent: dict[str, _Node],
        positional: tuple[int, int] | None,
    ) -> None:
        top_level_id = name == "_id" and parent is self.root
        if positional is None:
            _add_node(parent, parse_field_path(name), True)
            self.id_included |= top_level_id
        else:
            self.positional_inclusion(name, prefix, parent, positional)
        if not top_level_id:
            self._set_type(
                True,
                CommandError(
                    ErrorCode.Location31253,
                    f"Cannot do inclusion on field {name} in exclusion projection",
                ),
            )

    def positional_inclusion(
        self,
        name: str,
        prefix: tuple[str, ...] | None,
        parent: dict[str, _Node],
        positional: tuple[int, int],
    ) -> None:
        if self.has_positional:
            raise CommandError(
                ErrorCode.Location31276,
                "Cannot specify more than one positional projection per query.",
            )
        if self.has_elem_match:
            raise CommandError(
                ErrorCode.Location31256, "Cannot specify positional operator and $elemMatch."
            )
        if self.filter is None:
            raise CommandError(
                ErrorCode.Location51050, "Projections with a positional operator require a matcher"
            )
        field = prefix[0] if prefix else name.split(".", maxsplit=1)[0]
        if not _mentions_field(self.filter, field):
            raise CommandError(
                ErrorCode.Location31277,
                f"Positional projection '{name}' does not match the query document.",
            )
        if name.endswith(".$."):
            raise CommandError(ErrorCode.Location31270, "Path cannot end with '.$.'")
        begin, end = positional
        remaining = name[end:]
        if _first_positional(remaining) is not None or remaining == "$":
            raise CommandError(
                ErrorCode.Location31287, f"Cannot use positional operator twice: {name}"
            )
        path = parse_field_path(name[:begin])
        _add_node(parent, path, _Positional())
        self.positional = (prefix or ()) + path
        self.has_positional = True

    def exclusion(self, name: str, parent: dict[str, _Node]) -> None:
        _add_node(parent, parse_field_path(name), False)
        if name == "_id" and parent is self.root:
            self.id_excluded = True
            return
        self._set_type(
            False,
            CommandError(
                ErrorCode.Location31254,
                f"Cannot do exclusion on field {name} in inclusion projection",
            ),
        )

    def sub_object(
        self,
        name: str,
        obj: Mapping[str, Any],
        prefix: tuple[str, ...] | None,
        parent: dict[str, _Node],
    ) -> None:
        path = parse_field_path(name)
        if len(obj) == 1 and next(iter(obj)).startswith("$"):
            self.expression(name, path, obj, parent)
            return
        if not obj:
            raise CommandError(
                ErrorCode.Location51270,
                "An empty sub-projection is not a valid value. Found empty object at path",
            )
        child: _Node = parent
        for part in path:
            child = child.setdefault(part, {})
            if not isinstance(child, dict):
                raise CommandError(ErrorCode.Location31250, f"Path collision at {name}")
        full = (prefix or ()) + path
        for sub_name, sub_value in obj.items():
            self.element(sub_name, sub_value, full, child)

    def expression(
        self, name: str, path: tuple[str, ...], obj: Mapping[str, Any], parent: dict[str, _Node]
    ) -> None:
        op, arg = next(iter(obj.items()))
        if op == "$slice":
            _add_node(parent, path, _parse_slice(arg))
            self.has_slice = True
            return
        if op == "$elemMatch":
            if not isinstance(arg, Mapping):
                raise CommandError(
                    ErrorCode.Location31274,
                    f"elemMatch: Invalid argument, object required, but got {type_alias(arg)}",
                )
            if self.has_positional:
                raise CommandError(
                    ErrorCode.Location31255, "Cannot specify positional operator and $elemMatch."
                )
            if len(path) != 1 or parent is not self.root:
                raise CommandError(
                    ErrorCode.Location31275, "Cannot use $elemMatch projection on a nested field."
                )
            matcher = compile_filter({name: {"$elemMatch": arg}}, self.string_key)
            _add_node(parent, path, _ElemMatch(matcher))
            self.has_elem_match = True
            return
        if op == "$meta":
            raise CommandError(
                ErrorCode.CommandNotSupported, "$meta projections are not supported by fakemongo"
            )
        evaluator = compile_expression(obj, self.string_key)
        self._set_type(
            True,
            CommandError(
                ErrorCode.Location31252,
                "Cannot use expression other than $meta in exclusion projection",
            ),
        )
        _add_node(parent, path, _Computed(evaluator))


def _true(value: Any) -> bool:
    return bool(value.to_decimal()) if type_alias(value) == "decimal" else bool(value)


def _int32(value: Any) -> int:
    number = value.to_decimal() if type_alias(value) == "decimal" else value
    if is_nan(value) or number in (float("inf"), float("-inf")):
        return 0
    return max(-(2**31), min(2**31 - 1, int(number)))


def _parse_slice(arg: Any) -> _Slice:
    if type_rank(arg) == Rank.NUMBER:
        return _Slice(None, _int32(arg))
    if not isinstance(arg, list):
        raise CommandError(
            ErrorCode.Location31273, "$slice only supports numbers and [skip, limit] arrays"
        )
    if len(arg) != 2:
        raise CommandError(
            ErrorCode.Location31272, "$slice array argument should be of form [skip, limit]"
        )
    skip, limit = arg
    if type_rank(skip) != Rank.NUMBER:
        raise CommandError(
            ErrorCode.Location31257,
            f"$slice expects the skip argument to be a number, got {type_alias(skip)}",
        )
    if type_rank(limit) != Rank.NUMBER:
        raise CommandError(
            ErrorCode.Location31258,
            f"$slice expects the limit argument to be a number, got {type_alias(limit)}",
        )
    if _int32(limit) <= 0:
        raise CommandError(
            ErrorCode.Location31259, f"$slice limit must be positive, got {_int32(limit)}"
        )
    return _Slice(_int32(skip), _int32(limit))


# ---------------------------------------------------------------- applying


def _exclude(doc: Mapping[str, Any], tree: dict[str, _Node]) -> dict[str, Any]:
    out = {}
    for key, value in doc.items():
        node = tree.get(key)
        if node is None:
            out[key] = value
        elif isinstance(node, dict):
            out[key] = _exclude_value(value, node)
        elif isinstance(node, _Slice):
            out[key] = node.apply(value)
    return out


def _exclude_value(value: Any, tree: dict[str, _Node]) -> Any:
    if isinstance(value, Mapping):
        return _exclude(value, tree)
    if isinstance(value, list):
        return [_exclude_value(item, tree) for item in value]
    return value


def _has_computed(tree: dict[str, _Node]) -> bool:
    return any(
        isinstance(node, _Computed) or (isinstance(node, dict) and _has_computed(node))
        for node in tree.values()
    )


def _include(
    doc: Mapping[str, Any], tree: dict[str, _Node], root: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        node = tree.get(key)
        if node is True:
            out[key] = value
        elif isinstance(node, dict):
            projected = _include_value(value, node, root)
            if projected is not MISSING:
                out[key] = projected
    for key, node in tree.items():
        if isinstance(node, _Slice):
            value = doc.get(key, MISSING)
            if value is not MISSING:
                out[key] = node.apply(value)
        elif isinstance(node, _ElemMatch):
            matched, index = node.matcher.match_index(root)
            if matched and index is not None:
                out[key] = [doc[key][index]]
        elif isinstance(node, _Computed):
            value = evaluate(node.evaluator, root)
            if value is not MISSING:
                out[key] = value
        elif isinstance(node, dict) and key not in out and _has_computed(node):
            out[key] = _include({}, node, root)
    return out


def _include_value(value: Any, tree: dict[str, _Node], root: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping):
        return _include(value, tree, root)
    if isinstance(value, list):
        items = (_include_value(item, tree, root) for item in value)
        return [item for item in items if item is not MISSING]
    return MISSING  # a scalar where the projection expects a document is dropped


def _positional(value: Any, rest: tuple[str, ...], index: int) -> Any:
    """Keep only element ``index`` of the first array along the path."""
    if isinstance(value, list):
        if index >= len(value):
            raise CommandError(ErrorCode.Location51247, "positional operator '.$' element mismatch")
        return [value[index]]  # the whole element, whatever path follows the array
    if not rest:
        return value
    if isinstance(value, Mapping):
        inner = _positional(value.get(rest[0], MISSING), rest[1:], index)
        return MISSING if inner is MISSING else {rest[0]: inner}
    return MISSING
