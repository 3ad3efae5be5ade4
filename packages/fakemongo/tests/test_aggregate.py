"""The aggregation pipeline: compilation, placement rules, variables, laziness
(manual, "Aggregation Pipeline", "Aggregation Pipeline Stages", "aggregate" command's
``let``, "Variables in Aggregation Expressions")."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from bson import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from fakemongo._aggregate import Pipeline, compile_pipeline
from fakemongo._collation import Collation
from fakemongo._errors import CommandError

NOW = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)


class Context:
    """A PipelineContext over in-memory collections."""

    def __init__(self, variables: dict[str, Any] | None = None, **extra: Any) -> None:
        self.db = "test"
        self.string_key: Any = None
        self.variables = variables or {}
        self.collections: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.written: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for name, value in extra.items():
            setattr(self, name, value)

    def collection_documents(self, db: str, coll: str) -> Iterable[dict[str, Any]]:
        return list(self.collections.get((db, coll), []))

    def write_out(self, db: str, coll: str, docs: list[dict[str, Any]]) -> None:
        self.written[(db, coll)] = docs

    def merge_target(self, db: str, coll: str) -> Any:
        raise AssertionError("not used here")


def run(
    pipeline: list[Any], docs: Iterable[dict[str, Any]], ctx: Context | None = None, **options: Any
) -> list[dict[str, Any]]:
    compiled = compile_pipeline(pipeline, clock=lambda: NOW, **options)
    return list(compiled.run(docs, ctx or Context()))


def fails(pipeline: list[Any], code: int, message: str, **options: Any) -> None:
    with pytest.raises(CommandError) as info:
        compile_pipeline(pipeline, **options)
    assert (info.value.code, info.value.errmsg) == (code, message)


@pytest.mark.parametrize(
    ("pipeline", "code", "message"),
    [
        ([5], 14, "Each element of the 'pipeline' array must be an object"),
        ([{}], 40323, "A pipeline stage specification object must contain exactly one field."),
        (
            [{"$match": {}, "$limit": 1}],
            40323,
            "A pipeline stage specification object must contain exactly one field.",
        ),
        ([{"$foo": 1}], 40324, "Unrecognized pipeline stage name: '$foo'"),
        ([{"match": {}}], 40324, "Unrecognized pipeline stage name: 'match'"),
        ([{"$bucket": {}}], 115, "$bucket is not supported by fakemongo"),
        ([{"$graphLookup": {}}], 115, "$graphLookup is not supported by fakemongo"),
        # Manual, "$out" / "$merge": must be the last stage.
        (
            [{"$out": "x"}, {"$match": {}}],
            40601,
            "$out can only be the final stage in the pipeline",
        ),
        (
            [{"$merge": "x"}, {"$limit": 1}],
            40601,
            "$merge can only be the final stage in the pipeline",
        ),
        # Manual, "$documents": only as the first stage.
        (
            [{"$match": {}}, {"$documents": []}],
            40602,
            "$documents is only valid as the first stage in a pipeline",
        ),
        # Every stage parses before placement is checked.
        ([{"$out": "x"}, {"$limit": 0}], 15958, "the limit must be positive"),
    ],
)
def test_compile_errors(pipeline: list[Any], code: int, message: str) -> None:
    fails(pipeline, code, message)


def test_an_empty_pipeline_returns_its_input() -> None:
    docs = [{"_id": 1}, {"_id": 2}]
    assert run([], docs) == docs
    pipeline = compile_pipeline([])
    assert (pipeline.writes, pipeline.stage_names) == (False, ())


def test_writes_and_names() -> None:
    pipeline = compile_pipeline([{"$match": {}}, {"$out": "target"}])
    assert pipeline.writes
    assert pipeline.stage_names == ("$match", "$out")
    assert repr(pipeline) == "Pipeline(['$match', '$out'], writes=True)"
    assert isinstance(pipeline, Pipeline)
    assert compile_pipeline([{"$merge": "x"}]).writes


def test_let_variables_are_expressions_evaluated_once() -> None:
    # Manual, "aggregate": ``let`` defines variables usable as $$name anywhere.
    pipeline = [
        {"$addFields": {"v": "$$x", "w": "$$when"}},
        {"$match": {"$expr": {"$eq": ["$v", 3]}}},
    ]
    out = run(pipeline, [{"_id": 1}], variables={"x": {"$add": [1, 2]}, "when": "$$NOW"})
    assert out == [{"_id": 1, "v": 3, "w": NOW}]


def test_context_variables_bind_over_let() -> None:
    ctx = Context(variables={"x": 10})
    assert run([{"$project": {"v": "$$x"}}], [{"_id": 1}], ctx, variables={"x": 1}) == [
        {"_id": 1, "v": 10}
    ]


@pytest.mark.parametrize(
    ("let", "code", "message"),
    [
        ({"X": 1}, 16867, "'X' starts with an invalid character for a user variable name"),
        ({"": 1}, 16866, "empty variable names are not allowed"),
        ({"a b": 1}, 16868, "'a b' contains an invalid character for a variable name: ' '"),
    ],
)
def test_let_names(let: dict[str, Any], code: int, message: str) -> None:
    fails([], code, message, variables=let)


def test_undefined_variables_fail_at_compile_time() -> None:
    # The stage adds its name to errors from its expressions.
    message = "Invalid $project :: caused by :: Use of undefined variable: y"
    fails([{"$project": {"v": "$$y"}}], 17276, message, variables={"x": 1})


def test_now_is_one_value_for_the_whole_run() -> None:
    # Manual, "$$NOW": the same value for all documents of the pipeline.
    ticks = iter(range(100))
    clock = lambda: NOW + datetime.timedelta(seconds=next(ticks))  # noqa: E731
    pipeline = compile_pipeline([{"$project": {"_id": 0, "t": "$$NOW"}}], clock=clock)
    first = list(pipeline.run([{}, {}], Context()))
    second = list(pipeline.run([{}], Context()))
    assert first == [{"t": NOW}, {"t": NOW}]
    assert second == [{"t": NOW + datetime.timedelta(seconds=1)}]


def test_now_defaults_to_the_wall_clock() -> None:
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
    (out,) = compile_pipeline([{"$project": {"t": "$$NOW"}}]).run([{"_id": 1}], Context())
    assert before <= out["t"] <= datetime.datetime.now(datetime.UTC)


def test_cluster_time_comes_from_the_context() -> None:
    stamp = Timestamp(1700000000, 3)
    ctx = Context(cluster_time=stamp)
    assert run([{"$project": {"c": "$$CLUSTER_TIME"}}], [{"_id": 1}], ctx) == [
        {"_id": 1, "c": stamp}
    ]
    with pytest.raises(CommandError) as info:
        run([{"$project": {"c": "$$CLUSTER_TIME"}}], [{"_id": 1}])
    assert info.value.code == 51144


def test_running_is_lazy() -> None:
    def source() -> Iterator[dict[str, Any]]:
        yield {"_id": 1}
        yield {"_id": 2}
        raise AssertionError("read past the limit")

    pipeline = compile_pipeline([{"$match": {}}, {"$limit": 2}])
    results = pipeline.run(source(), Context())
    assert next(results) == {"_id": 1}
    assert list(results) == [{"_id": 2}]


def test_runtime_errors_surface_while_iterating() -> None:
    results = compile_pipeline([{"$project": {"v": {"$divide": [1, "$d"]}}}]).run(
        [{"_id": 1, "d": 1}, {"_id": 2, "d": 0}], Context()
    )
    assert next(results) == {"_id": 1, "v": 1.0}
    with pytest.raises(CommandError) as info:
        next(results)
    assert info.value.code == 2


def test_collation_reaches_every_stage() -> None:
    key = Collation("en", 2).key
    docs = [{"_id": 1, "s": "B"}, {"_id": 2, "s": "a"}, {"_id": 3, "s": "b"}]
    pipeline = [
        {"$match": {"s": {"$in": ["a", "b"]}}},
        {"$group": {"_id": "$s", "n": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]
    assert run(pipeline, docs, string_key=key) == [{"_id": "a", "n": 1}, {"_id": "B", "n": 2}]


def test_random_source_is_injectable() -> None:
    docs = [{"_id": i} for i in range(10)]
    one = run([{"$sample": {"size": 3}}], docs, rng=random.Random(7))
    two = run([{"$sample": {"size": 3}}], docs, rng=random.Random(7))
    assert one == two
    assert len(run([{"$sample": {"size": 3}}], docs)) == 3


@given(
    st.lists(st.integers(-20, 20), max_size=30),
    st.integers(1, 40),
    st.integers(0, 40),
)
def test_sort_skip_limit_equal_python_slicing(values: list[int], limit: int, skip: int) -> None:
    docs = [{"_id": i, "v": v} for i, v in enumerate(values)]
    out = run([{"$sort": {"v": 1, "_id": -1}}, {"$skip": skip}, {"$limit": limit}], docs)
    expected = sorted(docs, key=lambda d: (d["v"], -d["_id"]))[skip : skip + limit]
    assert out == expected
