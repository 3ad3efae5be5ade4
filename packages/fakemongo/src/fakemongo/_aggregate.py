"""The aggregation pipeline: compile once, run over a collection's documents.

:func:`compile_pipeline` validates every stage up front and raises
:class:`~fakemongo._errors.CommandError` with MongoDB 8.0's codes and wording;
:meth:`Pipeline.run` streams the documents through the stages lazily (blocking
stages buffer). The command's ``let`` variables are compiled with the pipeline
and evaluated once per run, together with ``$$NOW`` (one value for the whole
run, as the manual promises) and ``$$CLUSTER_TIME`` (bound when the context
offers a ``cluster_time`` attribute; otherwise using it fails with 51144, as on
a standalone server).

The server side is :class:`fakemongo._stages.PipelineContext` (and, for
``$merge``, :class:`fakemongo._stages.MergeTarget`), which the command handler
implements over the storage.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from fakemongo import _stages_group, _stages_lookup, _stages_out, _stages_project, _stages_unwind
from fakemongo._bsonorder import StringKey
from fakemongo._errors import CommandError, ErrorCode
from fakemongo._expr import Evaluator, Scope
from fakemongo._expr_misc import validate_user_variable
from fakemongo._stages import (
    LAST_ONLY,
    MergeTarget,
    PipelineContext,
    Run,
    Stage,
    StageScope,
    compile_stages,
    run_stages,
)

__all__ = ["MergeTarget", "Pipeline", "PipelineContext", "compile_pipeline"]

# The stage modules register themselves on import.
_STAGE_MODULES = (_stages_group, _stages_lookup, _stages_out, _stages_project, _stages_unwind)

Clock = Callable[[], datetime.datetime]


def _now() -> datetime.datetime:
    now = datetime.datetime.now(datetime.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Pipeline:
    """A compiled pipeline; reusable, and safe to run more than once."""

    __slots__ = ("_clock", "_let", "_rng", "_stages", "writes")

    def __init__(
        self,
        stages: list[tuple[str, Stage]],
        let: list[tuple[str, Evaluator]],
        rng: random.Random | None,
        clock: Clock,
    ) -> None:
        self._stages = stages
        self._let = let
        self._rng = rng
        self._clock = clock
        self.writes: bool = bool(stages) and stages[-1][0] in LAST_ONLY
        """Whether the pipeline ends with $out or $merge (it then yields nothing)."""

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages' names, in order (``$documents`` first means collectionless)."""
        return tuple(name for name, _ in self._stages)

    def run(self, docs: Iterable[dict[str, Any]], ctx: PipelineContext) -> Iterator[dict[str, Any]]:
        """The documents ``docs`` become through the pipeline, lazily.

        Nothing runs until the result is iterated; a writing pipeline performs its
        write when the iterator is exhausted. Raises CommandError as the server
        does for runtime failures (a failed conversion, a $merge conflict...).
        """
        variables: dict[str, Any] = {"NOW": self._clock()}
        cluster_time = getattr(ctx, "cluster_time", None)
        if cluster_time is not None:
            variables["CLUSTER_TIME"] = cluster_time
        rng = self._rng if self._rng is not None else random.Random()  # noqa: S311 - not crypto
        run = Run(ctx, variables, rng)
        bound = {name: run.evaluate(evaluator, {}) for name, evaluator in self._let}
        run = run.with_variables({**bound, **ctx.variables})
        return run_stages(self._stages, docs, run)

    def __repr__(self) -> str:
        return f"Pipeline({list(self.stage_names)!r}, writes={self.writes})"


def compile_pipeline(
    pipeline: Sequence[Mapping[str, Any]],
    *,
    string_key: StringKey | None = None,
    variables: Mapping[str, Any] | None = None,
    rng: random.Random | None = None,
    clock: Clock | None = None,
) -> Pipeline:
    """Validate and compile an aggregation pipeline.

    ``string_key`` is the collation's string key (None: binary); ``variables`` is
    the command's ``let`` document (its values are expressions, evaluated once per
    run); ``rng`` drives ``$sample`` and ``clock`` gives ``$$NOW`` (both injectable
    for tests). Raises CommandError: 14 TypeMismatch for a pipeline element that
    is not a document, 40323/40324/40601/40602 and each stage's own codes, 16866-
    16868 for a bad ``let`` variable name, 115 for a stage fakemongo lacks.
    """
    for spec in pipeline:
        if not isinstance(spec, Mapping):
            raise CommandError(
                ErrorCode.TypeMismatch, "Each element of the 'pipeline' array must be an object"
            )
    scope = Scope(string_key)
    let = []
    for name, value in (variables or {}).items():
        validate_user_variable(name)
        let.append((name, scope.compile(value)))
    scope = scope.with_variables(frozenset(name for name, _ in let))
    stages = compile_stages(pipeline, StageScope(scope))
    return Pipeline(stages, let, rng, clock or _now)
