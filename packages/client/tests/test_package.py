"""The package is installed as its own distribution into the mongotor namespace."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

import pytest

DISTRIBUTION = "mongotor-client"
MODULES = ["mongotor.client", "mongotor.database", "mongotor.errors"]
SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.mark.parametrize("module", MODULES)
def test_module_comes_from_this_distribution(module: str) -> None:
    package = importlib.import_module(module)
    assert package.__file__ is not None
    assert Path(package.__file__).is_relative_to(SRC)
    assert importlib.metadata.version(DISTRIBUTION) == "0.1.0.dev0"


@pytest.mark.parametrize("module", MODULES)
def test_every_export_exists(module: str) -> None:
    package = importlib.import_module(module)
    assert package.__all__
    assert sorted(package.__all__) == sorted(set(package.__all__))
    for name in package.__all__:
        assert getattr(package, name) is not None, name


def test_the_2012_import_paths() -> None:
    from mongotor.client import Client, Database
    from mongotor.database import Database as Database2012

    assert Database2012 is Database
    assert Client.__name__ == "Client"
