"""References: an id until fetched, an error when read unfetched, and
select_related loading a whole result's references with one $in query."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from mongotor.database import Database
from mongotor.orm import (
    Collection,
    DocumentNotFoundError,
    EmbeddedDocument,
    FieldNotLoadedError,
    ObjectIdField,
    ReferenceField,
    ReferenceNotLoadedError,
    StringField,
    ValidationError,
    _queryset,
)

from .conftest import Commands


class Author(Collection):
    __collection__ = "author"
    _id = ObjectIdField()
    name = StringField()


class Post(Collection):
    __collection__ = "post"
    _id = ObjectIdField()
    title = StringField()
    author = ReferenceField(Author)
    editor = ReferenceField("Author")
    reviewer = ReferenceField(Author, required=True, name="rev")


async def seed(posts: int = 5) -> list[Author]:
    authors = [Author(name=f"author{i}") for i in range(3)]
    for author in authors:
        await author.save()
    for i in range(posts):
        author = authors[i % 3]
        await Post(title=f"post{i}", author=author, reviewer=author).save()
    return authors


@pytest.mark.asyncio
async def test_a_reference_stores_the_id(db: Database[Any]) -> None:
    authors = await seed(1)
    stored = await db.post.find_one({})
    assert stored is not None
    assert stored["author"] == authors[0]._id
    assert stored["rev"] == authors[0]._id
    assert "editor" not in stored


@pytest.mark.asyncio
async def test_an_unfetched_reference_raises(db: Database[Any], commands: Commands) -> None:
    authors = await seed(1)
    post = await Post.objects.first()
    assert post is not None
    commands.clear()
    with pytest.raises(ReferenceNotLoadedError) as caught:
        _ = post.author
    assert caught.value.field == "author"
    assert caught.value.id == authors[0]._id
    assert "select_related('author')" in str(caught.value)
    assert commands.started == []  # no query behind the reader's back
    assert Post.author.id_of(post) == authors[0]._id
    assert post.editor is None


@pytest.mark.asyncio
async def test_fetch_related_loads_one_document(db: Database[Any]) -> None:
    authors = await seed(1)
    post = await Post.objects.first()
    assert post is not None
    await post.fetch_related("author", "editor")
    assert post.author is not None and post.author.name == authors[0].name


@pytest.mark.asyncio
async def test_select_related_is_one_in_query_per_field(
    db: Database[Any], commands: Commands
) -> None:
    authors = await seed(7)
    commands.clear()
    posts = await Post.objects.sort("title").select_related("author", "reviewer")
    finds = commands.named("find")
    assert len(finds) == 3  # the posts, then one $in per reference field
    assert finds[1]["filter"] == {"_id": {"$in": [a._id for a in authors]}}
    assert [p.author.name for p in posts if p.author] == [
        "author0",
        "author1",
        "author2",
        "author0",
        "author1",
        "author2",
        "author0",
    ]
    assert posts[0].reviewer is posts[3].reviewer  # one instance per referenced document
    assert posts[0].reviewer.name == "author0"


@pytest.mark.asyncio
async def test_select_related_while_streaming_and_on_first(
    db: Database[Any], commands: Commands, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(5)
    monkeypatch.setattr(_queryset, "RELATED_CHUNK", 2)
    commands.clear()
    names = [p.author.name async for p in Post.objects.sort("title").select_related("author")]
    assert names == ["author0", "author1", "author2", "author0", "author1"]
    assert len(commands.named("find")) == 1 + 3  # chunks of 2, 2 and 1
    first = await Post.objects.sort("-title").select_related("author").first()
    assert first is not None and first.author is not None and first.author.name == "author1"
    assert await Post.objects.filter(title="none").select_related("author") == []


@pytest.mark.asyncio
async def test_select_related_with_unset_references_and_names(
    db: Database[Any], commands: Commands, monkeypatch: pytest.MonkeyPatch
) -> None:
    authors = await seed(2)
    editor = authors[2]
    await Post(title="edited", reviewer=editor, editor=editor).save()
    posts = await Post.objects.sort("title").select_related("editor")
    assert [p.editor.name if p.editor else None for p in posts] == ["author2", None, None]
    monkeypatch.setattr(_queryset, "RELATED_CHUNK", 3)
    streamed = [p async for p in Post.objects.select_related("author")]
    assert len(streamed) == 3


@pytest.mark.asyncio
async def test_a_dangling_reference_reads_as_not_found(db: Database[Any]) -> None:
    await seed(1)
    await db.author.delete_many({})
    post = await Post.objects.select_related("author").first()
    assert post is not None
    with pytest.raises(DocumentNotFoundError) as caught:
        _ = post.author
    assert caught.value.model == "Author"


@pytest.mark.asyncio
async def test_assigning_references(db: Database[Any]) -> None:
    author = Author(name="ana")
    post = Post(title="t")
    with pytest.raises(ValidationError) as caught:
        post.author = author
    assert caught.value.errors == {"author": "the Author has no _id yet: save it first"}
    with pytest.raises(ValidationError) as caught:
        Post(title=1, author=author)
    assert caught.value.errors == {
        "title": "must be a string, not int",
        "author": "the Author has no _id yet: save it first",
    }
    await author.save()
    post.author = author
    assert post.author is author
    other = ObjectId()
    fresh = Post(title="f")
    fresh.author = other  # type: ignore[assignment]
    assert Post.author.id_of(fresh) == other
    post.author = other  # type: ignore[assignment]
    with pytest.raises(ReferenceNotLoadedError):
        _ = post.author
    assert Post.author.id_of(post) == other
    post.author = None
    assert post.author is None
    with pytest.raises(ValidationError) as caught:
        post.reviewer = post  # type: ignore[assignment]
    assert caught.value.errors == {"reviewer": "must be a Author, not Post"}
    with pytest.raises(ValidationError) as caught:
        await post.save()
    assert caught.value.errors == {"reviewer": "required"}
    post.reviewer = author
    await post.save()
    assert post.to_dict() == {"_id": post._id, "title": "t", "reviewer": author._id}


@pytest.mark.asyncio
async def test_queries_by_reference(db: Database[Any]) -> None:
    authors = await seed(6)
    assert await Post.objects.filter(Post.author == authors[1]).count() == 2
    assert await Post.objects.filter(author=authors[2]).count() == 2
    assert await Post.objects.filter(Post.author.in_(authors[:2])).count() == 4


def test_references_need_a_model_and_select_related_a_reference() -> None:
    with pytest.raises(TypeError, match="refers to a model class or its name"):
        ReferenceField(3)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match=r"Post\.title is not a ReferenceField"):
        Post.objects.select_related("title")

    class Note(EmbeddedDocument):
        text = StringField()

    assert ReferenceField(Note).document_class is Note
    from mongotor.orm._reference import DANGLING

    assert repr(DANGLING) == "DANGLING"


def test_a_partially_loaded_reference_is_not_loaded() -> None:
    post = Post.from_mongo({"_id": 1})
    post._loaded = frozenset({"_id"})
    with pytest.raises(FieldNotLoadedError):
        _ = post.author
