"""The workspace layout DESIGN.md promises, checked so that it stays true.

Each member is its own distribution with its own version, README, CHANGELOG and
py.typed; ``mongotor`` is one PEP 420 namespace spread over several
distributions, so no member may ship ``mongotor/__init__.py``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

MEMBERS = {
    "packages/wire": ("mongotor-wire", ["mongotor.wire"]),
    "packages/pool": ("mongotor-pool", ["mongotor.pool"]),
    "packages/client": (
        "mongotor-client",
        ["mongotor.client", "mongotor.database", "mongotor.errors"],
    ),
    "packages/orm": ("mongotor-orm", ["mongotor.orm"]),
    "packages/fakemongo": ("fakemongo", ["fakemongo"]),
    # The tutorial's application: a distribution too, never published.
    "examples/userdb": ("mongotor-userdb-example", ["userdb"]),
}


def _project(member: str) -> dict[str, object]:
    with (ROOT / member / "pyproject.toml").open("rb") as f:
        project: dict[str, object] = tomllib.load(f)["project"]
    return project


def test_root_is_a_virtual_workspace_listing_every_member() -> None:
    with (ROOT / "pyproject.toml").open("rb") as f:
        root = tomllib.load(f)
    assert root["tool"]["uv"]["package"] is False
    members = root["tool"]["uv"]["workspace"]["members"]
    listed = {p.relative_to(ROOT).as_posix() for m in members for p in ROOT.glob(m)}
    assert listed == {*MEMBERS, "integration"}


@pytest.mark.parametrize("member", sorted(MEMBERS))
def test_member_is_a_complete_distribution(member: str) -> None:
    dist, modules = MEMBERS[member]
    project = _project(member)
    assert project["name"] == dist
    assert importlib.metadata.version(dist) == project["version"]
    for name in ("README.md", "CHANGELOG.md"):
        assert (ROOT / member / name).read_text().strip(), f"{member}/{name} is empty"
    for module in modules:
        package = importlib.import_module(module)
        assert package.__file__ is not None
        assert Path(package.__file__).is_relative_to(ROOT / member / "src")
        assert (Path(package.__file__).parent / "py.typed").exists()


def test_mongotor_is_one_pep420_namespace_over_several_distributions() -> None:
    assert not list(ROOT.glob("packages/*/src/mongotor/__init__.py"))
    import mongotor

    assert mongotor.__file__ is None  # a namespace package has no file of its own
    homes = {Path(p).parent.parent.name for p in mongotor.__path__}
    assert homes == {"wire", "pool", "client", "orm"}


def test_every_member_version_is_distinct_per_distribution() -> None:
    names = [_project(member)["name"] for member in MEMBERS]
    assert len(set(names)) == len(names)
