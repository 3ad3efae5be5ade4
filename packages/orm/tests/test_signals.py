"""The six signals: receivers (sync and async, 2012 two-argument ones and ones
taking ``created``), which operation sends which, and aborting in pre_ ones."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest

from mongotor.database import Database
from mongotor.orm import Collection, ObjectIdField, StringField
from mongotor.orm.signal import (
    Signal,
    post_remove,
    post_save,
    post_update,
    pre_remove,
    pre_save,
    pre_update,
    receiver,
)

from .conftest import Commands


class Note(Collection):
    __collection__ = "note"
    _id = ObjectIdField()
    text = StringField()


class Memo(Note):
    pass


class Log:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def connect_all(self, sender: type[Any] | None = Note) -> None:
        for name, signal in [
            ("pre_save", pre_save),
            ("post_save", post_save),
            ("pre_update", pre_update),
            ("post_update", post_update),
            ("pre_remove", pre_remove),
            ("post_remove", post_remove),
        ]:

            def handler(sender: type[Any], instance: Any, name: str = name, **kwargs: Any) -> None:
                self.calls.append((name, sender.__name__, kwargs))

            signal.connect(sender, handler)

    def names(self) -> list[str]:
        names = [name for name, _, _ in self.calls]
        self.calls.clear()
        return names


# -- the Signal itself -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_connect_disconnect_and_order() -> None:
    signal = Signal("test")
    seen: list[str] = []

    def first(sender: type[Any], instance: Any) -> None:
        seen.append("first")

    async def second(sender: type[Any], instance: Any) -> None:
        seen.append("second")

    signal.connect(Note, first)
    signal.connect(Note, first)  # once only
    signal.connect(None, second)
    assert signal.receivers == [(Note, first), (None, second)]
    assert repr(signal) == "<Signal test with 2 receivers>"
    await signal.send(Note())
    assert seen == ["first", "second"]
    assert signal.disconnect(Note, first)
    assert not signal.disconnect(Note, first)
    await signal.send(object())
    assert seen == ["first", "second", "second"]


@pytest.mark.asyncio
async def test_receivers_get_the_keywords_they_take() -> None:
    signal = Signal("test")
    got: dict[str, Any] = {}

    def two(sender: type[Any], instance: Any) -> None:
        got["two"] = (sender, instance)

    def named(sender: type[Any], instance: Any, created: bool) -> None:
        got["named"] = created

    def any_keywords(sender: type[Any], instance: Any, **kwargs: Any) -> None:
        got["any"] = kwargs

    def positional(sender: type[Any], instance: Any, /, created: bool = False) -> None:
        got["positional"] = created

    for handler in (two, named, any_keywords, positional):
        signal.connect(None, handler)
    note = Memo()
    await signal.send(note, created=True, other=1)
    assert got == {
        "two": (Memo, note),
        "named": True,
        "any": {"created": True, "other": 1},
        "positional": True,
    }


@pytest.mark.asyncio
async def test_a_receiver_without_a_signature_gets_no_keywords() -> None:
    calls: list[tuple[Any, ...]] = []

    class Opaque:
        @property
        def __signature__(self) -> inspect.Signature:
            raise ValueError("no signature")

        def __call__(self, *args: Any) -> None:
            calls.append(args)

    signal = Signal("test")
    handler = Opaque()
    signal.connect(None, handler)
    note = Note()
    await signal.send(note, created=True)
    assert calls == [(Note, note)]


@pytest.mark.asyncio
async def test_receiver_decorator_returns_the_handler(db: Database[Any]) -> None:
    @receiver(pre_save, Note)
    def mark(sender: type[Any], instance: Note) -> None:
        instance.text = "marked"

    assert callable(mark)
    note = Note()
    await note.save()
    assert note.text == "marked"
    stored = await Note.objects.find_one(note._id)
    assert stored is not None and stored.text == "marked"


# -- which operations send which signals ------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_signal_table(db: Database[Any]) -> None:
    log = Log()
    log.connect_all()
    note = Note(text="a")
    await note.save()
    assert log.calls == [
        ("pre_save", "Note", {"created": True}),
        ("post_save", "Note", {"created": True}),
    ]
    log.calls.clear()
    note.text = "b"
    await note.save()
    assert log.calls == [
        ("pre_save", "Note", {"created": False}),
        ("post_save", "Note", {"created": False}),
    ]
    log.calls.clear()
    await note.save()  # nothing changed: still both, nothing written
    assert log.names() == ["pre_save", "post_save"]
    assert await note.update() is None  # nothing changed: no signals
    assert log.names() == []
    note.text = "c"
    await note.update()
    assert log.names() == ["pre_update", "post_update"]
    await note.update(force=True)
    assert log.names() == ["pre_update", "post_update"]
    await note.update({"$set": {"text": "d"}})
    assert log.names() == ["pre_update", "post_update"]
    await note.reload()
    await Note.objects.find()
    await Note.objects.filter(text="d").update({"$set": {"text": "e"}})
    await Note.ensure_indexes()
    assert log.names() == []
    await note.remove()
    assert log.names() == ["pre_remove", "post_remove"]
    await Note(text="x").save()
    log.calls.clear()
    await Note.objects.truncate()
    await Note.objects.all().delete()
    assert log.names() == []


@pytest.mark.asyncio
async def test_receivers_for_a_class_hear_its_subclasses(db: Database[Any]) -> None:
    log = Log()
    log.connect_all(Note)
    await Memo(text="m").save()
    assert [(name, sender) for name, sender, _ in log.calls] == [
        ("pre_save", "Memo"),
        ("post_save", "Memo"),
    ]
    log.calls.clear()
    other = Log()
    other.connect_all(Memo)
    await Note(text="n").save()
    assert other.calls == []


@pytest.mark.asyncio
async def test_an_exception_in_a_pre_receiver_aborts(db: Database[Any], commands: Commands) -> None:
    def refuse(sender: type[Any], instance: Any, **kwargs: Any) -> None:
        raise PermissionError("no")

    note = Note(text="a")
    await note.save()
    for signal in (pre_save, pre_update, pre_remove):
        signal.connect(Note, refuse)
    commands.clear()
    note.text = "b"
    with pytest.raises(PermissionError):
        await note.save()
    with pytest.raises(PermissionError):
        await Note(text="new").save()
    with pytest.raises(PermissionError):
        await note.update()
    with pytest.raises(PermissionError):
        await note.remove()
    assert commands.named("insert", "update", "delete") == []
    assert await Note.objects.count() == 1


@pytest.mark.asyncio
async def test_an_exception_in_a_post_receiver_comes_after_the_write(db: Database[Any]) -> None:
    async def fail(sender: type[Any], instance: Any) -> None:
        raise RuntimeError("after")

    post_save.connect(Note, fail)
    with pytest.raises(RuntimeError, match="after"):
        await Note(text="kept").save()
    assert await Note.objects.count({"text": "kept"}) == 1


# -- the 2012 library's signal tests, with await -----------------------------------------------------


@pytest.mark.asyncio
async def test_2012_pre_save_changes_what_is_saved(db: Database[Any]) -> None:
    @receiver(pre_save, Note)
    def handler(sender: type[Any], instance: Note) -> None:
        instance.text = (instance.text or "") + " updated"

    note = Note(text="should be string value")
    await note.save()
    found = await Note.objects.find_one(note._id)
    assert found is not None and found.text == "should be string value updated"


@pytest.mark.asyncio
async def test_2012_post_save_sees_the_stored_document(db: Database[Any]) -> None:
    seen: list[str | None] = []

    @receiver(post_save, Note)
    async def handler(sender: type[Any], instance: Note) -> None:
        found = await Note.objects.find_one(instance._id)
        assert found is not None
        seen.append(found.text)

    await Note(text="value").save()
    assert seen == ["value"]


@pytest.mark.asyncio
async def test_2012_pre_remove_sees_the_document_before_it_goes(db: Database[Any]) -> None:
    copies: list[Note] = []

    @receiver(pre_remove, Note)
    def handler(sender: type[Any], instance: Note) -> None:
        copies.append(copy.deepcopy(instance))

    note = Note(text="value")
    await note.save()
    await note.remove()
    assert copies[0].text == "value"


@pytest.mark.asyncio
async def test_2012_post_remove_finds_nothing(db: Database[Any]) -> None:
    found: list[Any] = []

    @receiver(post_remove, Note)
    async def handler(sender: type[Any], instance: Note) -> None:
        found.append(await Note.objects.find_one(instance._id))

    note = Note(text="value")
    await note.save()
    await note.remove()
    assert found == [None]


@pytest.mark.asyncio
async def test_2012_pre_update_changes_what_is_written(db: Database[Any]) -> None:
    @receiver(pre_update, Note)
    def handler(sender: type[Any], instance: Note) -> None:
        instance.text = (instance.text or "") + " updated"

    note = Note(text="value")
    await note.save()
    note.text = "another value"
    await note.update()
    found = await Note.objects.find_one(note._id)
    assert found is not None and found.text == "another value updated"


@pytest.mark.asyncio
async def test_2012_post_update_sees_the_instance(db: Database[Any]) -> None:
    texts: list[str | None] = []

    @receiver(post_update, Note)
    def handler(sender: type[Any], instance: Note) -> None:
        texts.append(instance.text)

    note = Note(text="value")
    await note.save()
    note.text = "another value"
    await note.update()
    assert texts == ["another value"]


@pytest.mark.asyncio
async def test_a_pre_update_receiver_that_undoes_the_change_writes_nothing(
    db: Database[Any], commands: Commands
) -> None:
    @receiver(pre_update, Note)
    def undo(sender: type[Any], instance: Note) -> None:
        instance.text = "value"

    note = Note(text="value")
    await note.save()
    note.text = "changed"
    commands.clear()
    assert await note.update() is None
    assert commands.named("update") == []
