"""``$project``, ``$addFields``/``$set`` and ``$unset``: aggregation projections.

Manual, "$project": a projection either includes fields (plus computed ones) or
excludes them, never both, except that ``_id`` is included unless excluded.
Included fields keep their input order; computed fields follow, in specification
order, except that a computed field replacing an existing one keeps its place
(the server's ProjectionNode applies projections, then expressions). Dotted
paths and nested objects reach into embedded documents and into every element
of arrays, nested arrays included; an inclusion drops scalars found where a
document was expected, and a computed sub-field replaces such a scalar with a
new document. ``$addFields`` keeps every input field and sets the computed ones
(a nested object merges into the existing embedded document; ``{}`` sets an
empty object, as of 6.1). ``$unset`` is an exclusion projection.

Errors are reported as the server reports them, wrapped in
"Invalid <stage> :: caused by :: ...".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fakemongo._bsonorder import MISSING, Rank, bson_repr, type_alias, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope
from fakemongo._paths import parse_field_path
from fakemongo._stages import Doc, Run, Stage, StageScope, is_object, stage

__all__ = ["compile_add_fields", "compile_projection_stage"]

_Tree = dict[str, Any]  # name -> True | False | Evaluator | _Tree


def _invalid(name: str, error: CommandError) -> CommandError:
    return CommandError(error.code, f"Invalid {name} :: caused by :: {error.errmsg}")


def _has_computed(tree: _Tree) -> bool:
    return any(
        callable(node) or (isinstance(node, dict) and _has_computed(node)) for node in tree.values()
    )


def _child(parent: _Tree, parts: tuple[str, ...], full: str, *, last: bool = True) -> _Tree:
    """The subtree for ``parts`` (the components of the name ending ``full``) under
    ``parent``, created as needed; without the last component unless ``last``."""
    components = full.split(".")
    base = len(components) - len(parts)
    for depth, part in enumerate(parts if last else parts[:-1]):
        node = parent.setdefault(part, {})
        if not isinstance(node, dict):
            remaining = ".".join(components[base + depth + 1 :])
            if not remaining:
                raise CommandError(ErrorCode.Location31250, f"Path collision at {full}")
            raise CommandError(
                ErrorCode.Location31249, f"Path collision at {full} remaining portion {remaining}"
            )
        parent = node
    return parent


def _add(parent: _Tree, name: str, node: Any, full: str) -> None:
    parts = parse_field_path(name)
    owner = _child(parent, parts, full, last=False)
    if parts[-1] in owner:
        raise CommandError(ErrorCode.Location31250, f"Path collision at {full}")
    owner[parts[-1]] = node


# ---------------------------------------------------------------- $project parsing


class _ProjectParser:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.root: _Tree = {}
        self.inclusion: bool | None = None
        self.id_included: bool | None = None

    def _set_kind(self, inclusion: bool, conflict: CommandError) -> None:
        if self.inclusion is not None and self.inclusion != inclusion:
            raise conflict
        self.inclusion = inclusion

    def element(self, name: str, value: Any, prefix: str, parent: _Tree) -> None:
        full = prefix + name
        if name.startswith("$"):
            parse_field_path(name)  # 16410: FieldPath field names may not start with '$'
        if ".$" in "." + name or name.endswith(".$"):
            raise CommandError(
                ErrorCode.Location31324,
                "Cannot use positional projection in aggregation projection",
            )
        if is_object(value):
            if not value:
                raise CommandError(
                    ErrorCode.Location51270,
                    "An empty sub-projection is not a valid value. Found empty object at path",
                )
            if next(iter(value)).startswith("$"):
                self._computed(name, full, parent, self.scope.compile(value), None)
                return
            parts = parse_field_path(name)
            child = _child(parent, parts, full)
            for sub_name, sub_value in value.items():
                self.element(sub_name, sub_value, full + ".", child)
            return
        if type_rank(value) in (Rank.NUMBER, Rank.BOOL):
            included = bool(value.to_decimal()) if type_alias(value) == "decimal" else bool(value)
            self._flag(name, full, parent, included)
            return
        self._computed(name, full, parent, self.scope.compile(value), value)

    def _flag(self, name: str, full: str, parent: _Tree, included: bool) -> None:
        _add(parent, name, included, full)
        if full == "_id":
            self.id_included = included
        elif included:
            self._set_kind(
                True,
                CommandError(
                    ErrorCode.Location31253,
                    f"Cannot do inclusion on field {full} in exclusion projection",
                ),
            )
        else:
            self._set_kind(
                False,
                CommandError(
                    ErrorCode.Location31254,
                    f"Cannot do exclusion on field {full} in inclusion projection",
                ),
            )

    def _computed(
        self, name: str, full: str, parent: _Tree, evaluator: Evaluator, literal: Any
    ) -> None:
        if literal is None:
            conflict = CommandError(
                ErrorCode.Location31252,
                "Cannot use expression other than $meta in exclusion projection",
            )
        else:
            conflict = CommandError(
                ErrorCode.Location31310,
                f"Cannot use an expression {full}: {bson_repr(literal)} in an exclusion projection",
            )
        self._set_kind(True, conflict)
        _add(parent, name, evaluator, full)
        if full == "_id":
            self.id_included = True


def _parse_projection(spec: Mapping[str, Any], scope: Scope) -> tuple[bool, _Tree]:
    if not spec:
        raise CommandError(
            ErrorCode.Location51272, "projection specification must have at least one field"
        )
    parser = _ProjectParser(scope)
    for name, value in spec.items():
        parser.element(name, value, "", parser.root)
    inclusion = parser.inclusion
    if inclusion is None:
        inclusion = bool(parser.id_included)
    if inclusion and parser.id_included is None:
        parser.root["_id"] = True
    if not inclusion and parser.id_included:
        del parser.root["_id"]
    return inclusion, parser.root


# ---------------------------------------------------------------- applying


def _exclude(doc: Mapping[str, Any], tree: _Tree) -> Doc:
    out = {}
    for key, value in doc.items():
        node = tree.get(key)
        if node is None:
            out[key] = value
        elif node is not False:
            out[key] = _exclude_value(value, node)
    return out


def _exclude_value(value: Any, tree: _Tree) -> Any:
    if is_object(value):
        return _exclude(value, tree)
    if isinstance(value, list):
        return [_exclude_value(item, tree) for item in value]
    return value


def _include(doc: Mapping[str, Any], tree: _Tree, holes: bool) -> Doc:
    """Step one: the included fields, in input order (MISSING holes kept when
    ``holes``: a later computed sub-field may fill them)."""
    out: Doc = {}
    for key, value in doc.items():
        node = tree.get(key)
        if node is True:
            out[key] = value
        elif isinstance(node, dict):
            keep = holes and _has_computed(node)
            projected = _include_value(value, node, keep)
            if projected is not MISSING or keep:
                out[key] = projected
    return out


def _include_value(value: Any, tree: _Tree, holes: bool) -> Any:
    if is_object(value):
        return _include(value, tree, holes)
    if isinstance(value, list):
        items = [_include_value(item, tree, holes) for item in value]
        return items if holes else [item for item in items if item is not MISSING]
    return MISSING  # a scalar where the projection expects a document


def _compute(doc: Doc, tree: _Tree, variables: dict[str, Any]) -> Doc:
    """Step two: computed fields, set in place or appended, in spec order."""
    for key, node in tree.items():
        if isinstance(node, dict):
            if _has_computed(node):
                doc[key] = _compute_value(doc.get(key, MISSING), node, variables)
        elif callable(node):
            doc[key] = node(variables)
    return doc


def _compute_value(value: Any, tree: _Tree, variables: dict[str, Any]) -> Any:
    if is_object(value):
        return _compute(dict(value), tree, variables)
    if isinstance(value, list):
        return [_compute_value(item, tree, variables) for item in value]
    return _compute({}, tree, variables)


def _finish(value: Any, tree: _Tree) -> Any:
    """Drop the MISSING placeholders the two steps left along ``tree``'s paths.

    Along a subtree with computed fields every value is a document or an array.
    """
    if isinstance(value, list):
        return [_finish(item, tree) for item in value if item is not MISSING]
    out = {}
    for key, item in value.items():
        if item is not MISSING:
            node = tree.get(key)
            out[key] = _finish(item, node) if isinstance(node, dict) else item
    return out


def compile_projection_stage(spec: Mapping[str, Any], scope: Scope, name: str) -> Stage:
    """A ``$project`` stage (``name`` is the stage's name for error messages)."""
    try:
        inclusion, tree = _parse_projection(spec, scope)
    except CommandError as error:
        raise _invalid(name, error) from None
    if not inclusion:
        return lambda docs, run: (_exclude(doc, tree) for doc in docs)
    computed = _has_computed(tree)

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for doc in docs:
            out = _include(doc, tree, computed)
            if computed:
                out = _finish(_compute(out, tree, run.bind(doc)), tree)
            yield out

    return apply


@stage("$project")
def _project(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec):
        raise CommandError(ErrorCode.Location15969, "$project specification must be an object")
    return compile_projection_stage(spec, scope.expr, "$project")


@stage("$unset")
def _unset(spec: Any, scope: StageScope) -> Stage:
    if isinstance(spec, str):
        names = [spec]
    elif isinstance(spec, list):
        if not spec:
            raise CommandError(
                ErrorCode.Location31119,
                "$unset specification must be a string or an array with at least one field",
            )
        if not all(isinstance(name, str) for name in spec):
            raise CommandError(
                ErrorCode.Location31120,
                "$unset specification must be a string or an array containing only string values",
            )
        names = spec
    else:
        raise CommandError(
            ErrorCode.Location31002, "$unset specification must be a string or an array"
        )
    return compile_projection_stage(dict.fromkeys(names, 0), scope.expr, "$unset")


# ---------------------------------------------------------------- $addFields


def _parse_add_fields(spec: Mapping[str, Any], scope: Scope, parent: _Tree, prefix: str) -> None:
    for name, value in spec.items():
        full = prefix + name
        if is_object(value) and value and not next(iter(value)).startswith("$"):
            child = _child(parent, parse_field_path(name), full)
            _parse_add_fields(value, scope, child, full + ".")
        else:
            _add(parent, name, scope.compile(value), full)


def compile_add_fields(spec: Mapping[str, Any], scope: Scope, name: str) -> Stage:
    """An ``$addFields`` stage (``name``: "$addFields" or "$set", for messages)."""
    tree: _Tree = {}
    try:
        _parse_add_fields(spec, scope, tree, "")
    except CommandError as error:
        raise _invalid(name, error) from None

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        for doc in docs:
            yield _finish(_compute(dict(doc), tree, run.bind(doc)), tree)

    return apply


def _add_fields_stage(name: str) -> None:
    def compile_stage(spec: Any, scope: StageScope) -> Stage:
        if not is_object(spec):
            raise CommandError(
                ErrorCode.Location40272,
                f"{name} specification stage must be an object, got {type_alias(spec)}",
            )
        return compile_add_fields(spec, scope.expr, name)

    stage(name)(compile_stage)


_add_fields_stage("$addFields")
_add_fields_stage("$set")
