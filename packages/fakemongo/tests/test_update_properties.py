"""Properties of the update engine over generated documents and updates."""

from __future__ import annotations

from typing import Any

import bson
from hypothesis import given, settings
from hypothesis import strategies as st

from fakemongo._errors import CommandError
from fakemongo._update import compile_update

NAMES = st.sampled_from(["a", "b", "c", "0", "1"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.floats(allow_nan=False, width=64),
    st.text(max_size=3),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAMES, inner, max_size=3)),
    max_leaves=8,
)
DOCS = st.dictionaries(NAMES, VALUES, max_size=4).map(lambda doc: {"_id": 1, **doc})
PATHS = st.lists(NAMES, min_size=1, max_size=3).map(".".join)
OPERATIONS = st.one_of(
    st.tuples(st.sampled_from(["$set", "$min", "$max", "$addToSet", "$push", "$pull"]), VALUES),
    st.tuples(st.sampled_from(["$inc", "$mul"]), st.integers(min_value=-3, max_value=3)),
    st.tuples(st.just("$unset"), st.just(1)),
    st.tuples(st.just("$pop"), st.sampled_from([1, -1])),
    st.tuples(st.just("$pullAll"), st.lists(SCALARS, max_size=2)),
    st.tuples(st.just("$bit"), st.just({"xor": 1})),
    st.tuples(st.just("$rename"), PATHS),
)
UPDATES = st.lists(st.tuples(PATHS, OPERATIONS), min_size=1, max_size=3).map(
    lambda items: {op: {path: arg} for path, (op, arg) in items}
)


def _encoded(doc: dict[str, Any]) -> bytes:
    return bson.encode(doc)


@settings(max_examples=300, deadline=None)
@given(DOCS, UPDATES)
def test_apply_never_changes_its_input_and_reports_every_change(
    doc: dict[str, Any], spec: Any
) -> None:
    before = _encoded(doc)
    try:
        out, modified = compile_update(spec).apply(doc)
    except CommandError:
        assert _encoded(doc) == before
        return
    assert _encoded(doc) == before
    # nModified: a document reported unmodified is exactly the one given.
    if not modified:
        assert _encoded(out) == before


@settings(max_examples=200, deadline=None)
@given(DOCS, st.sampled_from(["x", "y.z", "x.0"]), VALUES)
def test_set_then_unset_round_trips(doc: dict[str, Any], path: str, value: Any) -> None:
    # Manual, "$set" and "$unset": setting a new field and unsetting it leaves the
    # document as it was, except for the embedded documents $set had to create.
    with_field, modified = compile_update({"$set": {path: value}}).apply(doc)
    assert modified
    top = path.split(".", maxsplit=1)[0]
    without, _ = compile_update({"$unset": {top: 1}}).apply(with_field)
    assert _encoded(without) == _encoded(doc)
