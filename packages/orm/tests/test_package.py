"""The package is installed as its own distribution into the mongotor namespace,
with the 2012 library's import paths."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

import pytest

DISTRIBUTION = "mongotor-orm"
MODULES = [
    "mongotor.orm",
    "mongotor.orm.field",
    "mongotor.orm.signal",
    "mongotor.orm.collection",
    "mongotor.orm.manager",
    "mongotor.orm.errors",
]
SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.mark.parametrize("module", MODULES)
def test_module_comes_from_this_distribution(module: str) -> None:
    package = importlib.import_module(module)
    assert package.__file__ is not None
    assert Path(package.__file__).is_relative_to(SRC)
    assert importlib.metadata.version(DISTRIBUTION) == "0.1.0.dev0"


@pytest.mark.parametrize("module", MODULES)
def test_every_export_exists_once(module: str) -> None:
    package = importlib.import_module(module)
    assert package.__all__
    assert sorted(package.__all__) == sorted(set(package.__all__))
    for name in package.__all__:
        assert getattr(package, name) is not None, name


def test_the_2012_import_paths() -> None:
    import mongotor.orm
    from mongotor.orm import Collection, field
    from mongotor.orm.collection import Collection as Collection2012
    from mongotor.orm.field import ObjectId, StringField
    from mongotor.orm.manager import Manager
    from mongotor.orm.signal import pre_save, receiver

    assert Collection2012 is Collection
    assert field.StringField is StringField is mongotor.orm.field.StringField
    assert mongotor.orm.StringField is StringField
    assert ObjectId.__module__.startswith("bson")
    assert Manager.__name__ == "Manager"
    assert callable(receiver)
    assert pre_save.name == "pre_save"


def test_errors_name_their_public_home_and_sit_in_the_client_hierarchy() -> None:
    from mongotor import errors as client_errors
    from mongotor.orm import (
        ConcurrentModificationError,
        DocumentNotFoundError,
        FieldNotLoadedError,
        ReferenceNotLoadedError,
        ValidationError,
    )

    assert ValidationError.__module__ == "mongotor.orm"
    assert issubclass(ValidationError, client_errors.InterfaceError)
    assert issubclass(ValidationError, ValueError)
    assert issubclass(FieldNotLoadedError, client_errors.InvalidOperationError)
    assert issubclass(ReferenceNotLoadedError, client_errors.InvalidOperationError)
    assert issubclass(DocumentNotFoundError, client_errors.DatabaseError)
    assert issubclass(ConcurrentModificationError, client_errors.DatabaseError)
    assert not ValidationError({"a": "b"}).remote
