"""The package is installed as its own distribution into the mongotor namespace."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

import pytest

DISTRIBUTION = "mongotor-orm"
MODULES = ["mongotor.orm"]
SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.mark.parametrize("module", MODULES)
def test_module_comes_from_this_distribution(module: str) -> None:
    package = importlib.import_module(module)
    assert package.__file__ is not None
    assert Path(package.__file__).is_relative_to(SRC)
    assert package.__all__ == []  # a skeleton until its issue lands
    assert importlib.metadata.version(DISTRIBUTION) == "0.1.0.dev0"
