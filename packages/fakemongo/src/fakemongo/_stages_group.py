"""``$group``: documents bucketed by an ``_id`` expression, folded by accumulators.

Manual, "$group": ``_id`` is any expression (a missing value groups as null); an
object whose first field is not an operator is a composite key whose missing
members are left out. Keys are compared with BSON equality under the collation
(1 and 1.0 are one group; the first value seen is reported). Output: one
document per group, ``_id`` first, accumulators in specification order; groups
come out in order of first appearance (the server's order is unspecified).
No input, no output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fakemongo._accumulators import ACCUMULATORS, AccumulatorFactory
from fakemongo._bsonorder import MISSING, Rank, sort_key, type_rank
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope, Vars
from fakemongo._stages import Doc, Run, Stage, StageScope, is_object, stage

__all__: list[str] = []

# MongoDB 8.0 accumulators this emulator does not implement: refused with 115.
_UNSUPPORTED = frozenset(
    {"$accumulator", "$bottom", "$bottomN", "$firstN", "$lastN", "$maxN", "$minN"}
    | {"$median", "$percentile", "$top", "$topN"}
)


def _compile_id(spec: Any, scope: Scope) -> Evaluator:
    if is_object(spec) and not next(iter(spec), "").startswith("$"):
        # A composite key: each member an expression, missing members left out.
        members = []
        for name, value in spec.items():
            if type_rank(value) in (Rank.NUMBER, Rank.BOOL):
                raise CommandError(
                    ErrorCode.Location17390, "$group does not support inclusion-style expressions"
                )
            members.append((name, scope.compile(value)))

        def composite(v: Vars) -> Any:
            out = {}
            for name, member in members:
                value = member(v)
                if value is not MISSING:
                    out[name] = value
            return out

        return composite
    evaluator = scope.compile(spec)

    def single(v: Vars) -> Any:
        value = evaluator(v)
        return None if value is MISSING else value

    return single


def _compile_accumulator(
    name: str, spec: Any, scope: Scope
) -> tuple[str, AccumulatorFactory, Evaluator]:
    # accumulation_statement.cpp: the checks, in this order.
    if not is_object(spec) or not next(iter(spec), "").startswith("$"):
        raise CommandError(
            ErrorCode.Location40234, f"The field '{name}' must be an accumulator object"
        )
    if "." in name:
        raise CommandError(ErrorCode.Location40235, f"The field name '{name}' cannot contain '.'")
    if name.startswith("$"):
        raise CommandError(
            ErrorCode.Location40236, f"The field name '{name}' cannot be an operator name"
        )
    if len(spec) != 1:
        raise CommandError(
            ErrorCode.Location40238, f"The field '{name}' must specify one accumulator"
        )
    operator, argument = next(iter(spec.items()))
    if isinstance(argument, list):
        raise CommandError(
            ErrorCode.Location40237, f"The {operator} accumulator is a unary operator"
        )
    if operator == "$count":
        if not (is_object(argument) and not argument):
            raise CommandError(ErrorCode.TypeMismatch, "$count takes no arguments, i.e. $count: {}")
        return name, ACCUMULATORS["$sum"], lambda v: 1
    factory = ACCUMULATORS.get(operator)
    if factory is None:
        if operator in _UNSUPPORTED:
            raise CommandError(
                ErrorCode.CommandNotSupported,
                f"the {operator} accumulator is not supported by fakemongo",
            )
        raise CommandError(ErrorCode.Location15952, f"unknown group operator '{operator}'")
    return name, factory, scope.compile(argument)


@stage("$group")
def _group(spec: Any, scope: StageScope) -> Stage:
    if not is_object(spec):
        raise CommandError(
            ErrorCode.Location15947, "a group's fields must be specified in an object"
        )
    key_of: Evaluator | None = None
    accumulators = []
    for name, value in spec.items():
        if name == "_id":
            key_of = _compile_id(value, scope.expr)
        else:
            accumulators.append(_compile_accumulator(name, value, scope.expr))
    if key_of is None:
        raise CommandError(ErrorCode.Location15955, "a group specification must include an _id")
    group_key = key_of
    string_key = scope.expr.string_key

    def apply(docs: Iterator[Doc], run: Run) -> Iterator[Doc]:
        groups: dict[tuple[Any, ...], tuple[Any, list[Any]]] = {}
        for doc in docs:
            bindings = run.bind(doc)
            key = group_key(bindings)
            entry = groups.get(sort_key(key, string_key))
            if entry is None:
                entry = (key, [factory(string_key) for _, factory, _ in accumulators])
                groups[sort_key(key, string_key)] = entry
            for state, (_, _, argument) in zip(entry[1], accumulators, strict=True):
                state.add(argument(bindings))
        for key, states in groups.values():
            out: Doc = {"_id": key}
            for state, (name, _, _) in zip(states, accumulators, strict=True):
                out[name] = state.result()
            yield out

    return apply
