"""The update engine's shape: parsing, paths, positional operators, replacements, pipelines.

Expected outcomes and messages are MongoDB 8.0's (manual, "Update Operators",
"Updates with Aggregation Pipeline", "db.collection.replaceOne()"; messages as the
server's update_driver.cpp, update_object_node.cpp and friends word them).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from bson import DBRef, Int64, Regex, Timestamp

from fakemongo._errors import CommandError
from fakemongo._update import compile_update

Doc = dict[str, Any]


def apply(
    spec: Any,
    doc: Doc,
    *,
    filters: list[Any] | None = None,
    match_index: int | None = None,
    upsert_insert: bool = False,
) -> tuple[Doc, bool]:
    update = compile_update(spec, array_filters=filters)
    return update.apply(doc, match_index=match_index, upsert_insert=upsert_insert)


def failure(
    spec: Any,
    doc: Doc | None = None,
    *,
    filters: list[Any] | None = None,
    match_index: int | None = None,
    upsert_insert: bool = False,
) -> tuple[int, str]:
    """The error of compiling ``spec`` or, given ``doc``, of applying it (which compiles)."""
    if doc is None:
        with pytest.raises(CommandError) as caught:
            compile_update(spec, array_filters=filters)
    else:
        update = compile_update(spec, array_filters=filters)
        with pytest.raises(CommandError) as caught:
            update.apply(doc, match_index=match_index, upsert_insert=upsert_insert)
    return caught.value.code, caught.value.errmsg


def test_kinds_and_repr() -> None:
    assert compile_update({"$set": {"a": 1}}).kind == "operators"
    assert compile_update({"a": 1}).kind == "replacement"
    # An empty document is a replacement (it empties the document but for _id).
    assert compile_update({}).kind == "replacement"
    assert compile_update([]).kind == "pipeline"
    assert repr(compile_update([])) == "Update(kind='pipeline')"


# ---------------------------------------------------------------- parse errors

PARSE_ERRORS: list[tuple[Any, list[Any] | None, int, str]] = [
    (5, None, 9, "Update argument must be either an object or an array"),
    (
        # The document {$ref: "c", $id: 1} decodes as a DBRef: still an operator update.
        DBRef("c", 1),
        None,
        9,
        "Unknown modifier: $ref. Expected a valid update modifier or pipeline-style update "
        "specified as an array",
    ),
    ([1], None, 14, "Each element of the 'pipeline' array must be an object"),
    (
        {"$foo": {"a": 1}},
        None,
        9,
        "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update "
        "specified as an array",
    ),
    (
        # Only the first field decides that a document holds operators.
        {"$set": {"a": 1}, "b": 1},
        None,
        9,
        "Unknown modifier: b. Expected a valid update modifier or pipeline-style update "
        "specified as an array",
    ),
    (
        {"$inc": "string"},
        None,
        9,
        "Modifiers operate on fields but we found type string instead. For example: "
        '{$mod: {<field>: ...}} not {$inc: "string"}',
    ),
    ({"$set": {"": 1}}, None, 56, "An empty update path is not valid."),
    (
        {"$set": {"v.": 1}},
        None,
        56,
        "The update path 'v.' contains an empty field name, which is not allowed.",
    ),
    (
        {"$set": {"a..b": 1}},
        None,
        56,
        "The update path 'a..b' contains an empty field name, which is not allowed.",
    ),
    (
        {"$set": {"a.$.b.$.c": 1}},
        None,
        2,
        "Too many positional (i.e. '$') elements found in path 'a.$.b.$.c'",
    ),
    (
        {"$set": {"$.a": 1}},
        None,
        2,
        "Cannot have positional (i.e. '$') element in the first position in path '$.a'",
    ),
    (
        {"$set": {"$[]": 1}},
        None,
        2,
        "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in "
        "path '$[]'",
    ),
    (
        {"$set": {"a.$[x]": 1}},
        None,
        2,
        "No array filter found for identifier 'x' in path 'a.$[x]'",
    ),
    (
        {"$set": {"grades": "abc"}},
        [{"element": {"$gte": 100}}],
        9,
        "The array filter for identifier 'element' was not used in the update "
        '{ $set: { grades: "abc" } }',
    ),
    (
        # Unused identifiers are reported in identifier order.
        {"$set": {"a.$[j]": 5}},
        [{"k": 0}, {"i": 0}, {"j": 0}],
        9,
        "The array filter for identifier 'i' was not used in the update { $set: { a.$[j]: 5 } }",
    ),
    (
        [{"$set": {"a": 1}}],
        [{"i": 0}],
        9,
        "arrayFilters may not be specified for pipeline-style updates",
    ),
]


@pytest.mark.parametrize(("spec", "filters", "code", "message"), PARSE_ERRORS)
def test_parse_errors(spec: Any, filters: list[Any] | None, code: int, message: str) -> None:
    assert failure(spec, filters=filters) == (code, message)


def test_multi_replacement_is_refused() -> None:
    # Manual, "update": a replacement document cannot be applied with multi: true.
    with pytest.raises(CommandError) as caught:
        compile_update({"a": 1}, is_multi=True)
    assert (caught.value.code, caught.value.errmsg) == (
        9,
        "multi update is not supported for replacement-style update",
    )
    assert compile_update({"$set": {"a": 1}}, is_multi=True).kind == "operators"


CONFLICTS: list[tuple[Doc, str]] = [
    (
        {"$inc": {"x": 0, "a": 1}, "$set": {"a": 2}},
        "Updating the path 'a' would create a conflict at 'a'",
    ),
    (
        {"$set": {"x": 1, "a.b": {"c": 1}}, "$inc": {"a.b.c": 1}},
        "Updating the path 'a.b.c' would create a conflict at 'a.b'",
    ),
    (
        {"$set": {"x": 1, "a.b.c": 1}, "$unset": {"a.b": 1}},
        "Updating the path 'a.b' would create a conflict at 'a.b'",
    ),
    # $rename claims both of its paths.
    (
        {"$rename": {"foo": "bar", "bar": "bar2"}},
        "Updating the path 'bar' would create a conflict at 'bar'",
    ),
    (
        {"$rename": {"bar": "foo", "bar2": "foo"}},
        "Updating the path 'foo' would create a conflict at 'foo'",
    ),
    (
        {"$set": {"a.$": 1, "a.$.b": 1}},
        "Updating the path 'a.$.b' would create a conflict at 'a.$'",
    ),
    # An array update and a field update below the same path conflict.
    ({"$set": {"a.$[]": 1, "a.0": 1}}, "Updating the path 'a.0' would create a conflict at 'a'"),
    (
        {"$set": {"a.0": 1, "a.$[].b": 1}},
        "Updating the path 'a.$[].b' would create a conflict at 'a'",
    ),
]


@pytest.mark.parametrize(("spec", "message"), CONFLICTS)
def test_conflicting_paths(spec: Doc, message: str) -> None:
    assert failure(spec) == (40, message)


def test_empty_operators_change_nothing() -> None:
    # Manual, "Update Operators": since 5.0 an empty operand ({}) is no longer an error.
    assert apply({"$set": {}, "$unset": {}}, {"_id": 1, "a": 1}) == ({"_id": 1, "a": 1}, False)


# ---------------------------------------------------------------- order and creation


@pytest.mark.parametrize(
    ("spec", "doc", "expected"),
    [
        # Manual, "$set": a missing field is added; and "Update Operators" (Behavior):
        # fields are processed in lexicographic order, numeric names in numeric order,
        # so new fields appear sorted whatever the order of the update.
        ({"$set": {"b": 1, "a": 2}}, {"_id": 1, "z": 0}, {"_id": 1, "z": 0, "a": 2, "b": 1}),
        (
            {"$set": {"z": 1, "B": 2, "10": 3, "9": 4, "09": 5, "0": 6, "9x": 7, "10a": 8}},
            {"_id": 1},
            {"_id": 1, "0": 6, "09": 5, "9": 4, "10": 3, "9x": 7, "10a": 8, "B": 2, "z": 1},
        ),
        ({"$set": {"a.10": 1, "a.2": 2}}, {"_id": 1, "a": {}}, {"_id": 1, "a": {"2": 2, "10": 1}}),
        ({"$inc": {"y": 1}, "$set": {"x": 1}}, {"_id": 1}, {"_id": 1, "x": 1, "y": 1}),
        # An existing field keeps its position.
        ({"$set": {"a": 5}}, {"_id": 1, "a": 1, "b": 2}, {"_id": 1, "a": 5, "b": 2}),
        # Dotted paths create embedded documents (manual, "$set": "Set Fields in
        # Embedded Documents"); siblings created together share one document.
        ({"$set": {"a.c": 2, "a.b": 1}}, {"_id": 1}, {"_id": 1, "a": {"b": 1, "c": 2}}),
        (
            {"$set": {"a.b.c": 1}},
            {"_id": 1, "a": {"x": 0}},
            {"_id": 1, "a": {"x": 0, "b": {"c": 1}}},
        ),
        # A numeric component indexes an existing array; past its end, nulls pad it.
        ({"$set": {"a.1": 9}}, {"_id": 1, "a": [1, 2, 3]}, {"_id": 1, "a": [1, 9, 3]}),
        ({"$set": {"a.4": 9}}, {"_id": 1, "a": [1]}, {"_id": 1, "a": [1, None, None, None, 9]}),
        ({"$set": {"a.2.b": 9}}, {"_id": 1, "a": []}, {"_id": 1, "a": [None, None, {"b": 9}]}),
        # ...and names a field in a document.
        ({"$set": {"a.0": 9}}, {"_id": 1, "a": {}}, {"_id": 1, "a": {"0": 9}}),
        (
            {"$set": {"a.0.b": 9}},
            {"_id": 1, "a": [{"b": 1, "c": 2}]},
            {"_id": 1, "a": [{"b": 9, "c": 2}]},
        ),
        # mongod moves _id to the front of an updated document.
        ({"$set": {"a": 1}}, {"b": 1, "_id": 1}, {"_id": 1, "b": 1, "a": 1}),
    ],
)
def test_field_order_and_creation(spec: Doc, doc: Doc, expected: Doc) -> None:
    out, modified = apply(spec, doc)
    assert out == expected
    assert list(out) == list(expected)
    assert modified


@pytest.mark.parametrize(
    ("spec", "doc", "message"),
    [
        ({"$set": {"a.b": 1}}, {"_id": 1, "a": 1}, "Cannot create field 'b' in element {a: 1}"),
        (
            {"$set": {"foo.bar": "bla"}},
            {"_id": 1, "foo": "bar"},
            "Cannot create field 'bar' in element {foo: \"bar\"}",
        ),
        (
            # Field names do not reach into arrays (manual, "Update Documents in an
            # Array": use positional operators or indexes).
            {"$set": {"foo.bar": 3}},
            {"_id": 1, "foo": [{"bar": 1}, {"bar": 2}]},
            "Cannot create field 'bar' in element {foo: [ { bar: 1 }, { bar: 2 } ]}",
        ),
        (
            {"$inc": {"v.foo": 1}},
            {"_id": 1, "v": [{"foo": [{"bar": "hello"}]}]},
            "Cannot create field 'foo' in element {v: [ { foo: [ { bar: \"hello\" } ] } ]}",
        ),
        (
            {"$set": {"a.b.c": 1}},
            {"_id": 1, "a": {"b": None}},
            "Cannot create field 'c' in element {b: null}",
        ),
        (
            {"$set": {"a.1.x": 1}},
            {"_id": 1, "a": [0, 2.0]},
            "Cannot create field 'x' in element {1: 2.0}",
        ),
    ],
)
def test_path_not_viable(spec: Doc, doc: Doc, message: str) -> None:
    assert failure(spec, doc) == (28, message)


def test_backfill_limit() -> None:
    # path_support.cpp: an array is padded by at most 1500000 nulls.
    assert failure({"$set": {"a.1500001": 1}}, {"_id": 1, "a": []}) == (
        34,
        "can't backfill more than 1500000 elements",
    )
    out, _ = apply({"$set": {"a.1500000": 1}}, {"_id": 1, "a": []})
    assert len(out["a"]) == 1500001


def test_huge_index_is_a_field_name() -> None:
    # An index past 2^32 - 1 does not parse as one: into a document it is a name.
    assert apply({"$set": {"a.4294967296": 1}}, {"_id": 1, "a": {}})[0] == {
        "_id": 1,
        "a": {"4294967296": 1},
    }
    assert failure({"$set": {"a.4294967296": 1}}, {"_id": 1, "a": []}) == (
        28,
        "Cannot create field '4294967296' in element {a: []}",
    )


# ---------------------------------------------------------------- _id and $ fields


@pytest.mark.parametrize(
    ("spec", "doc", "message"),
    [
        (
            {"$set": {"_id": 2}},
            {"_id": 1},
            "Performing an update on the path '_id' would modify the immutable field '_id'",
        ),
        (
            {"$inc": {"_id": 1}},
            {"_id": 1},
            "Performing an update on the path '_id' would modify the immutable field '_id'",
        ),
        (
            {"$unset": {"_id": ""}},
            {"_id": 1},
            "Performing an update on the path '_id' would modify the immutable field '_id'",
        ),
        (
            {"$set": {"_id.x": 2}},
            {"_id": {"x": 1}},
            "Performing an update on the path '_id.x' would modify the immutable field '_id'",
        ),
        (
            {"$set": {"_id.y": 2}},
            {"_id": {"x": 1}},
            "Updating the path '_id' to _id: { x: 1, y: 2 } would modify the immutable field '_id'",
        ),
    ],
)
def test_id_is_immutable(spec: Doc, doc: Doc, message: str) -> None:
    # Manual, "_id Field": once set, the _id of a document cannot be updated.
    assert failure(spec, doc) == (66, message)


def test_id_unchanged_or_created_is_fine() -> None:
    assert apply({"$set": {"_id": 1}}, {"_id": 1}) == ({"_id": 1}, False)
    # An upsert's seed without _id may get one from the update.
    assert apply({"$set": {"_id": 5, "a": 1}}, {"a": 0}, upsert_insert=True) == (
        {"_id": 5, "a": 1},
        True,
    )


DOLLAR = (
    "The dollar ($) prefixed field '$z' in '$z' is not allowed in the context of an update's "
    "replacement document. Consider using an aggregation pipeline with $replaceWith."
)


@pytest.mark.parametrize(
    ("spec", "doc"),
    [
        ({"$set": {"$z": 1}}, {"_id": 1, "x": 1}),
        ({"$inc": {"$z": 1}}, {"_id": 1, "x": 1}),
        ({"$push": {"$z": [1, 2, 3]}}, {"_id": 1, "x": 1}),
        ({"$set": {"$z.a": 1}}, {"_id": 1}),
        ({"$set": {"$z": 2}}, {"_id": 1, "$z": 1}),
        ({"$rename": {"a": "$z"}}, {"_id": 1, "a": 1}),
        ({"$rename": {"a": "$z"}}, {"_id": 1, "a": 1, "$z": 0}),
    ],
)
def test_top_level_dollar_fields_are_refused(spec: Doc, doc: Doc) -> None:
    # Manual, "Dollar-Prefixed Field Names": update operators may not write top-level
    # $-prefixed fields of an existing document.
    assert failure(spec, doc) == (52, DOLLAR)


def test_dollar_fields_allowed_where_the_manual_allows_them() -> None:
    # Nested $-prefixed fields may be updated (manual: "address.$street").
    doc = {"_id": "E123", "address": {"$number": 123, "$street": "Elm Road"}}
    out, _ = apply({"$set": {"address.$street": "Elm Ave"}}, doc)
    assert out["address"] == {"$number": 123, "$street": "Elm Ave"}
    # An upsert's insert accepts them (manual: the $hotel example).
    out, _ = apply(
        {"$set": {"phone": 25.17, "$hotel": 320.10}}, {"date": "2021-07-07"}, upsert_insert=True
    )
    assert out == {"date": "2021-07-07", "$hotel": 320.10, "phone": 25.17}
    # Removing one is not writing one.
    assert apply({"$unset": {"$z": 1}}, {"_id": 1, "$z": 1}) == ({"_id": 1}, True)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"$ref": "c"}, "The DBRef $ref field must be followed by a $id field"),
        ({"$ref": 1, "$id": 1}, "The DBRef $ref field must be a String, not a int"),
        ({"$id": 1}, "Found $id field without a $ref before it, which is invalid."),
        ({"$db": "d"}, "Found $db field without a $id before it, which is invalid."),
        ({"$ref": "c", "$id": 1, "$db": 1}, "The DBRef $db field must be a String, not a int"),
    ],
)
def test_top_level_dbref_fields(doc: Doc, message: str) -> None:
    # storage_validation.cpp: only a well-formed DBRef may have $-prefixed fields.
    name = list(doc)[-1]
    assert failure(
        {"$set": {name: doc[name]}}, {"_id": 1, **{k: v for k, v in doc.items() if k != name}}
    ) == (
        55,
        message,
    )


def test_top_level_dbref_fields_that_are_valid() -> None:
    out, modified = apply({"$set": {"$id": 2}}, {"$ref": "c", "$id": 1})
    assert (out, modified) == ({"$ref": "c", "$id": 2}, True)
    out, _ = apply({"$set": {"$db": "d"}}, {"$ref": "c", "$id": 1})
    assert out == {"$ref": "c", "$id": 1, "$db": "d"}


# ---------------------------------------------------------------- positional $


@pytest.mark.parametrize(
    ("spec", "doc", "index", "expected"),
    [
        # Manual, "$ (update)": $ stands for the first element the query matched.
        ({"$set": {"grades.$": 82}}, {"_id": 1, "grades": [85, 80, 80]}, 1, [85, 82, 80]),
        (
            {"$inc": {"grades.$.std": -2}},
            {"_id": 1, "grades": [{"std": 8}, {"std": 5}]},
            1,
            [{"std": 8}, {"std": 3}],
        ),
        ({"$unset": {"grades.$": 1}}, {"_id": 1, "grades": [1, 2]}, 0, [None, 2]),
        # Applied between its siblings in name order ("1" sorts before "2"...).
        (
            {"$set": {"grades.$": 7, "grades.0": 1, "grades.2": 3}},
            {"_id": 1, "grades": [0, 0, 0]},
            1,
            [1, 7, 3],
        ),
        ({"$set": {"grades.$": 7, "grades.0": 1}}, {"_id": 1, "grades": [0, 0, 0]}, 2, [1, 0, 7]),
        # The same element through $ and an index merges when the fields differ.
        (
            {"$set": {"grades.$.a": 1, "grades.0.b": 2}},
            {"_id": 1, "grades": [{}]},
            0,
            [{"a": 1, "b": 2}],
        ),
    ],
)
def test_positional(spec: Doc, doc: Doc, index: int, expected: list[Any]) -> None:
    out, modified = apply(spec, doc, match_index=index)
    assert out["grades"] == expected
    assert modified


def test_positional_errors() -> None:
    message = "The positional operator did not find the match needed from the query."
    assert failure({"$set": {"a.$.b": 1}}, {"_id": 1}) == (2, message)
    # An upsert has no matched element either (manual, "$ (update)": "Upsert").
    assert failure({"$setOnInsert": {"a.$": 1}}, {}, upsert_insert=True) == (2, message)
    assert failure({"$set": {"a.$": 1, "a.0": 2}}, {"_id": 1, "a": [0]}, match_index=0) == (
        40,
        "Update created a conflict at 'a.0'",
    )
    assert failure({"$set": {"a.$.x": 1, "a.0.x": 2}}, {"_id": 1, "a": [{}]}, match_index=0) == (
        40,
        "Update created a conflict at 'a.0.x'",
    )


def test_positional_on_a_missing_path_creates_fields() -> None:
    # The matched index is then just a field name, as in the server.
    out, _ = apply({"$set": {"a.$": 1, "a.$b": 2}}, {"_id": 1}, match_index=3)
    assert out == {"_id": 1, "a": {"$b": 2, "3": 1}}


def test_merging_positional_children() -> None:
    # Two array filters reaching one element, both with a positional below it.
    spec = {"$set": {"a.$[i].b.$.x": 1, "a.$[j].b.$.y": 2}}
    filters = [{"i.k": 1}, {"j.k": 1}]
    doc = {"_id": 1, "a": [{"k": 1, "b": [{}, {}]}]}
    out, _ = apply(spec, doc, filters=filters, match_index=1)
    assert out["a"] == [{"k": 1, "b": [{}, {"x": 1, "y": 2}]}]
    spec = {"$set": {"a.$[i].b.$": 1, "a.$[j].b.$": 2}}
    assert failure(spec, doc, filters=filters, match_index=0) == (
        40,
        "Update created a conflict at 'a.0.b.$'",
    )


# ---------------------------------------------------------------- $[] and $[<identifier>]


@pytest.mark.parametrize(
    ("spec", "filters", "doc", "expected"),
    [
        # Manual, "$[]": every element.
        ({"$inc": {"grades.$[]": 10}}, None, {"grades": [85, 82, 80]}, {"grades": [95, 92, 90]}),
        (
            {"$inc": {"grades.$[].value": 10}},
            None,
            {"grades": [{"value": 20}, {"value": 30}]},
            {"grades": [{"value": 30}, {"value": 40}]},
        ),
        (
            {"$set": {"grades.$[].$[]": 1}},
            None,
            {"grades": [[1, 2], [3, 4]]},
            {"grades": [[1, 1], [1, 1]]},
        ),
        # Manual, "$[<identifier>]": the elements the array filter matches.
        (
            {"$set": {"grades.$[element]": 100}},
            [{"element": {"$gte": 100}}],
            {"grades": [95, 102, 90, 150]},
            {"grades": [95, 100, 90, 100]},
        ),
        (
            {"$set": {"grades.$[elem].mean": 100}},
            [{"elem.grade": {"$gte": 85}}],
            {"grades": [{"grade": 80, "mean": 75}, {"grade": 85, "mean": 90}]},
            {"grades": [{"grade": 80, "mean": 75}, {"grade": 85, "mean": 100}]},
        ),
        (
            {"$inc": {"grades.$[t].questions.$[score]": 2}},
            [{"t.type": "quiz"}, {"score": {"$gte": 8}}],
            {
                "grades": [
                    {"type": "quiz", "questions": [10, 8, 5]},
                    {"type": "hw", "questions": [5, 4]},
                ]
            },
            {
                "grades": [
                    {"type": "quiz", "questions": [12, 10, 5]},
                    {"type": "hw", "questions": [5, 4]},
                ]
            },
        ),
        # Two filters reaching one element merge their updates.
        (
            {"$set": {"a.$[i].x": 1, "a.$[j].y": 2}},
            [{"i.k": 1}, {"j.k": {"$gte": 1}}],
            {"a": [{"k": 1}, {"k": 2}]},
            {"a": [{"k": 1, "x": 1, "y": 2}, {"k": 2, "y": 2}]},
        ),
        # Elements are chosen before any of them changes.
        ({"$inc": {"a.$[i]": 1}}, [{"i": {"$lt": 2}}], {"a": [0, 1, 2]}, {"a": [1, 2, 2]}),
        # An empty array, or no match, changes nothing.
        ({"$set": {"a.$[]": 1}}, None, {"a": []}, {"a": []}),
    ],
)
def test_array_updates(spec: Doc, filters: list[Any] | None, doc: Doc, expected: Doc) -> None:
    out, modified = apply(spec, doc, filters=filters)
    assert out == expected
    assert modified == (out != doc)


def test_array_update_errors() -> None:
    doc = {"_id": 1, "grades": "abc", "a": {"b": 123}}
    assert failure(
        {"$set": {"grades.$[element]": "abc"}}, doc, filters=[{"element": {"$gte": 100}}]
    ) == (
        2,
        'Cannot apply array updates to non-array element grades: "abc"',
    )
    assert failure(
        {"$set": {"grades.subGrades.$[element]": "abc"}}, doc, filters=[{"element": 1}]
    ) == (
        2,
        "The path 'grades.subGrades' must exist in the document in order to apply array updates.",
    )
    assert failure({"$set": {"a.b.$[x]": "abc"}}, doc, filters=[{"x": 1}]) == (
        2,
        "Cannot apply array updates to non-array element b: 123",
    )
    assert failure({"$set": {"a.b.$[].c": "abc"}}, {"_id": 1, "a": {"b": [1, 2]}}) == (
        28,
        "Cannot create field 'c' in element {0: 1}",
    )
    assert failure({"$inc": {"grades.$[].c.$[]": 1}}, {"_id": 3, "grades": [{"c": [1]}, {}]}) == (
        2,
        "The path 'grades.1.c' must exist in the document in order to apply array updates.",
    )
    assert failure({"$inc": {"grades.$[].$[]": 1}}, {"_id": 1, "grades": [[[1, 2]]]}) == (
        14,
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field '0' of "
        "non-numeric type array",
    )
    # Two filters setting the same field of one element.
    assert failure(
        {"$set": {"a.$[i].x": 1, "a.$[j].x": 2}},
        {"_id": 1, "a": [{"k": 1}]},
        filters=[{"i.k": 1}, {"j.k": 1}],
    ) == (40, "Update created a conflict at 'a.0.x'")
    assert failure(
        {"$set": {"a.$[i].b.$[k].c": 1, "a.$[j].b.$[k].c": 2}},
        {"_id": 1, "a": [{"x": 0, "b": [{"y": 0}]}]},
        filters=[{"i.x": 0}, {"j.x": 0}, {"k.y": 0}],
    ) == (40, "Update created a conflict at 'a.0.b.$[k].c'")


def test_array_filters_use_the_collation() -> None:
    def lower(text: str) -> str:
        return text.lower()

    update = compile_update({"$set": {"a.$[x]": "!"}}, array_filters=[{"x": "B"}], string_key=lower)
    assert update.apply({"_id": 1, "a": ["a", "b"]})[0]["a"] == ["a", "!"]


# ---------------------------------------------------------------- replacement


@pytest.mark.parametrize(
    ("spec", "doc", "expected", "modified"),
    [
        # Manual, "db.collection.replaceOne()": the replacement keeps the _id.
        ({"a": 1}, {"_id": 1, "b": 2}, {"_id": 1, "a": 1}, True),
        ({}, {"_id": 1, "b": 2}, {"_id": 1}, True),
        ({"_id": 1, "a": 1}, {"_id": 1, "b": 2}, {"_id": 1, "a": 1}, True),
        # _id moves to the front; 1.0 equals the _id 1, so it is no change of _id.
        ({"a": 1, "_id": 1.0}, {"_id": 1}, {"_id": 1.0, "a": 1}, True),
        # The very same document is a no-op; without its _id it still counts.
        ({"_id": 1, "a": 1}, {"_id": 1, "a": 1}, {"_id": 1, "a": 1}, False),
        ({"a": 1}, {"_id": 1, "a": 1}, {"_id": 1, "a": 1}, True),
        # A document without _id (an upsert seed) takes the replacement's.
        ({"_id": 5, "a": 1}, {}, {"_id": 5, "a": 1}, True),
        # Nested $-prefixed fields are allowed.
        ({"a": {"$x": 1}}, {"_id": 1}, {"_id": 1, "a": {"$x": 1}}, True),
    ],
)
def test_replacement(spec: Doc, doc: Doc, expected: Doc, modified: bool) -> None:
    out, changed = apply(spec, doc)
    assert out == expected
    assert list(out) == list(expected)
    assert changed == modified


@pytest.mark.parametrize(
    ("spec", "doc", "code", "message"),
    [
        (
            {"_id": 2, "a": 4},
            {"_id": 1},
            66,
            "After applying the update, the (immutable) field '_id' was found to have been altered "
            "to _id: 2",
        ),
        (
            {"a": 1, "$set": {"b": 1}},
            {"_id": 1},
            52,
            "The dollar ($) prefixed field '$set' in '$set' is not allowed in the context of an "
            "update's replacement document. Consider using an aggregation pipeline with "
            "$replaceWith.",
        ),
        ({"_id": [1]}, {}, 53, "The '_id' value cannot be of type array"),
        ({"_id": Regex("a")}, {}, 53, "The '_id' value cannot be of type regex"),
        ({"_id": re.compile("a")}, {}, 53, "The '_id' value cannot be of type regex"),
        (
            {"_id": {"a": {"$b": 1}}},
            {},
            52,
            "_id fields may not contain '$'-prefixed fields: $b is not valid for storage.",
        ),
        (
            {"_id": {"a": [{"$b": 1}]}},
            {},
            52,
            "_id fields may not contain '$'-prefixed fields: $b is not valid for storage.",
        ),
    ],
)
def test_replacement_errors(spec: Doc, doc: Doc, code: int, message: str) -> None:
    assert failure(spec, doc) == (code, message)


def test_replacement_details() -> None:
    # A DBRef-shaped _id is fine; an upsert insert may hold $-prefixed top-level fields.
    out, _ = apply({"_id": {"$ref": "c", "$id": 1}}, {})
    assert out == {"_id": {"$ref": "c", "$id": 1}}
    assert apply({"a": 1, "$b": 2}, {"q": 1}, upsert_insert=True)[0] == {"a": 1, "$b": 2}
    # Manual, "Timestamps": an empty timestamp outside _id is set to the current time.
    now = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    update = compile_update({"_id": Timestamp(0, 0), "t": Timestamp(0, 0), "u": Timestamp(5, 1)})
    out, _ = update.apply({}, now=now)
    assert out["_id"] == Timestamp(0, 0)
    assert out["u"] == Timestamp(5, 1)
    assert out["t"].time == int(now.timestamp())
    # The result never shares the update's documents.
    update = compile_update({"a": {"b": [1]}})
    first, _ = update.apply({"_id": 1})
    first["a"]["b"].append(2)
    assert update.apply({"_id": 2})[0]["a"] == {"b": [1]}


# ---------------------------------------------------------------- pipelines


@pytest.mark.parametrize(
    ("pipeline", "doc", "expected", "modified"),
    [
        # Manual, "Updates with Aggregation Pipeline".
        (
            [
                {"$set": {"status": "Modified", "comments": ["$misc1", "$misc2"]}},
                {"$unset": ["misc1", "misc2"]},
            ],
            {"_id": 1, "misc1": "a", "misc2": "b"},
            {"_id": 1, "status": "Modified", "comments": ["a", "b"]},
            True,
        ),
        (
            [{"$addFields": {"total": {"$add": ["$a", "$b"]}}}],
            {"_id": 1, "a": 1, "b": 2},
            {"_id": 1, "a": 1, "b": 2, "total": 3},
            True,
        ),
        ([{"$project": {"a": 1}}], {"_id": 1, "a": 1, "b": 2}, {"_id": 1, "a": 1}, True),
        # Without _id in the result, the document keeps its own.
        ([{"$project": {"_id": 0, "a": 1}}], {"_id": 1, "a": 1, "b": 2}, {"_id": 1, "a": 1}, True),
        ([{"$replaceWith": {"x": "$a"}}], {"_id": 1, "a": 1}, {"_id": 1, "x": 1}, True),
        (
            [{"$replaceRoot": {"newRoot": {"_id": "$_id", "a": "$a"}}}],
            {"_id": 1, "a": 1},
            {"_id": 1, "a": 1},
            False,
        ),
        # A pipeline may write top-level $-prefixed fields (manual: use $setField).
        (
            [{"$replaceWith": {"$literal": {"_id": 1, "$x": 1}}}],
            {"_id": 1},
            {"_id": 1, "$x": 1},
            True,
        ),
        ([], {"_id": 1, "a": 1}, {"_id": 1, "a": 1}, False),
    ],
)
def test_pipeline(pipeline: list[Any], doc: Doc, expected: Doc, modified: bool) -> None:
    out, changed = apply(pipeline, doc)
    assert out == expected
    assert changed == modified


def test_pipeline_now() -> None:
    now = datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)
    out, _ = compile_update([{"$set": {"at": "$$NOW"}}]).apply({"_id": 1}, now=now)
    assert out["at"] == now.replace(microsecond=678000)


@pytest.mark.parametrize(
    ("pipeline", "code", "message"),
    [
        ([{"$match": {"a": 1}}], 72, "$match is not allowed to be used within an update"),
        # Every stage is parsed before the allowed ones are checked.
        ([{"$group": {"_id": 1}}, {"$foo": 1}], 40324, "Unrecognized pipeline stage name: '$foo'"),
        (
            [{"$set": {"a": 1}, "$unset": "b"}],
            40323,
            "A pipeline stage specification object must contain exactly one field.",
        ),
        ([{}], 40323, "A pipeline stage specification object must contain exactly one field."),
    ],
)
def test_pipeline_errors(pipeline: list[Any], code: int, message: str) -> None:
    assert failure(pipeline) == (code, message)


def test_pipeline_id_rules() -> None:
    assert failure([{"$set": {"_id": 2}}], {"_id": 1}) == (
        66,
        "After applying the update, the (immutable) field '_id' was found to have been altered to "
        "_id: 2",
    )
    assert failure([{"$set": {"_id": [1]}}], {}) == (53, "The '_id' value cannot be of type array")


def test_modified_reports_real_changes_only() -> None:
    # Manual, "update" (nModified): an update that changes nothing modifies nothing.
    doc = {"_id": 1, "a": 1, "b": Int64(2)}
    assert apply({"$set": {"a": 1}, "$max": {"b": 1}}, doc) == (doc, False)
    assert apply({"$set": {"a": 1}, "$inc": {"b": 1}}, doc) == (
        {"_id": 1, "a": 1, "b": Int64(3)},
        True,
    )
