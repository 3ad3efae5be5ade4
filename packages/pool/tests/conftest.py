"""Fixtures for mongotor.pool's tests: the specifications' JSON, fetched once.

Test modules ask for a parametrised ``*_case`` fixture; this file fills it from
the pinned pymongo sdist (``_specs.py``). A module may hold ``KNOWN_GAPS``, a
mapping of case id to reason, to mark those cases as strict expected failures.
If the JSON cannot be fetched, each such test still runs, and fails saying why.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def _load_helper(name: str) -> ModuleType:
    # --import-mode=importlib puts no test directory on sys.path, so the helper
    # is loaded from its file under a name no other package's tests can take.
    qualified = f"_mongotor_pool_tests_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    spec.loader.exec_module(module)
    return module


specs = _load_helper("_specs")

# fixture name -> (directory of the sdist's test/ tree, the files there it takes)
_CREDENTIALS = "credential-disclosure.json"
_SUITES: dict[str, tuple[str, Callable[[str], bool]]] = {
    "connection_string_case": ("connection_string/test", lambda name: name != _CREDENTIALS),
    "credential_case": ("connection_string/test", lambda name: name == _CREDENTIALS),
    "uri_options_case": ("uri_options", lambda name: True),
    "seedlist_case": ("srv_seedlist", lambda name: True),
}


class _Unavailable:
    """Stands in for the cases when the oracle could not be fetched."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, (directory, takes) in _SUITES.items():
        if fixture not in metafunc.fixturenames:
            continue
        gaps: dict[str, str] = getattr(metafunc.module, "KNOWN_GAPS", {})
        try:
            if fixture == "seedlist_case":
                # One test per file; the id is its path without ".json".
                cases = [
                    (name.removesuffix(".json"), document)
                    for name, document in specs.load_json(directory)
                ]
            else:
                cases = specs.load_cases(directory, takes)
        except specs.SpecFetchError as error:
            metafunc.parametrize(
                fixture, [pytest.param(_Unavailable(error), id="oracle-unavailable")], indirect=True
            )
            continue
        unknown = set(gaps) - {case_id for case_id, _ in cases}
        assert not unknown, f"KNOWN_GAPS names cases that do not exist: {sorted(unknown)}"
        params = [
            pytest.param(
                case,
                id=case_id,
                marks=[pytest.mark.xfail(strict=True, reason=gaps[case_id])]
                if case_id in gaps
                else [],
            )
            for case_id, case in cases
        ]
        metafunc.parametrize(fixture, params, indirect=True)


def _case(request: pytest.FixtureRequest) -> Any:
    if isinstance(request.param, _Unavailable):
        pytest.fail(f"the specification tests are unavailable: {request.param.error}")
    return request.param


@pytest.fixture
def connection_string_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One case of the Connection String spec's tests (connection_string/test/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def credential_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One credential-disclosure case (connection_string/test/credential-disclosure.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def uri_options_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One case of the URI Options spec's tests (uri_options/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def seedlist_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One Initial DNS Seedlist Discovery test (srv_seedlist/**/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture(scope="session")
def spec_root() -> Path:
    """The fetched ``test/`` tree of the pinned pymongo sdist (fails if unavailable)."""
    try:
        root: Path = specs.spec_root()
    except specs.SpecFetchError as error:
        pytest.fail(f"the specification tests are unavailable: {error}")
    return root
