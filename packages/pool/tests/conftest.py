"""Fixtures for mongotor.pool's tests: the specifications' JSON, fetched once.

Test modules ask for a parametrised ``*_case`` fixture; this file fills it from
the pinned pymongo sdist (``_specs.py``). A module may hold ``KNOWN_GAPS``, a
mapping of case id to reason, to mark those cases as strict expected failures.
If the JSON cannot be fetched, each such test still runs, and fails saying why.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable, Coroutine
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
virtual_time = _load_helper("_virtual_time")
fakes_module = _load_helper("_fakes")
sdam_module = _load_helper("_sdam")  # after _fakes, which it imports

# fixture name -> (directory of the sdist's test/ tree, the files there it takes,
# whether each file is one case rather than a list of them under "tests")
_CREDENTIALS = "credential-disclosure.json"
_SDAM = frozenset({"rs", "sharded", "single", "errors"})
_SUITES: dict[str, tuple[str, Callable[[str], bool], bool]] = {
    "connection_string_case": (
        "connection_string/test",
        lambda name: name != _CREDENTIALS,
        False,
    ),
    "credential_case": ("connection_string/test", lambda name: name == _CREDENTIALS, False),
    "uri_options_case": ("uri_options", lambda name: True, False),
    "seedlist_case": ("srv_seedlist", lambda name: True, True),
    # SDAM's phase files: monitoring by responses and application errors.
    "sdam_case": (
        "discovery_and_monitoring",
        lambda name: name.split("/")[0] in _SDAM,
        True,
    ),
    "sdam_load_balanced_case": ("discovery_and_monitoring/load-balanced", lambda name: True, True),
    # SDAM's monitoring tests: the events a topology publishes, phase by phase.
    "sdam_monitoring_case": ("sdam_monitoring", lambda name: True, True),
    "selection_case": (
        "server_selection/server_selection",
        lambda name: not name.startswith("LoadBalanced/"),
        True,
    ),
    "selection_load_balanced_case": (
        "server_selection/server_selection",
        lambda name: name.startswith("LoadBalanced/"),
        True,
    ),
    "rtt_case": ("server_selection/rtt", lambda name: True, True),
    "in_window_case": ("server_selection/in_window", lambda name: True, True),
    "max_staleness_case": ("max_staleness", lambda name: True, True),
    # CMAP's pool tests (cmap-format), one file each; the Auth spec's credentials.
    "cmap_case": ("connection_monitoring", lambda name: True, True),
    "auth_case": ("auth/legacy", lambda name: True, False),
}


class _Unavailable:
    """Stands in for the cases when the oracle could not be fetched."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, (directory, takes, per_file) in _SUITES.items():
        if fixture not in metafunc.fixturenames:
            continue
        gaps: dict[str, str] = getattr(metafunc.module, "KNOWN_GAPS", {})
        try:
            if per_file:
                # One test per file; the id is its path without ".json".
                cases = [
                    (name.removesuffix(".json"), document)
                    for name, document in specs.load_json(directory)
                    if takes(name)
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


@pytest.fixture
def sdam_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One SDAM test file (discovery_and_monitoring/{rs,sharded,single,errors}/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def sdam_load_balanced_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One SDAM load-balancer test file (discovery_and_monitoring/load-balanced/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def sdam_monitoring_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One SDAM monitoring test file (sdam_monitoring/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def selection_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One server selection logic test (server_selection/server_selection/**/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def selection_load_balanced_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One LoadBalanced server selection test (server_selection/server_selection/LoadBalanced)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def rtt_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One average-RTT test (server_selection/rtt/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def in_window_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One selection-within-the-latency-window test (server_selection/in_window/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def max_staleness_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One Max Staleness test (max_staleness/**/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def cmap_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One CMAP pool test file (connection_monitoring/*.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def auth_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One case of the Auth spec's credential tests (auth/legacy/connection-string.json)."""
    case: dict[str, Any] = _case(request)
    return case


@pytest.fixture
def run_virtual() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine to completion on a loop with a virtual clock (_virtual_time.py)."""

    def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        with asyncio.Runner(loop_factory=virtual_time.VirtualTimeLoop) as runner:
            return runner.run(coroutine)

    return run


@pytest.fixture
def fakes() -> ModuleType:
    """The pool test doubles (_fakes.py): FakeConnection, FailPoint, FakeFactory."""
    return fakes_module


@pytest.fixture
def sdam() -> ModuleType:
    """The topology test tools (_sdam.py): EventLog, FakeMonitors, FakePools,
    ScriptedServer, hello_reply, member."""
    return sdam_module


@pytest.fixture(scope="session")
def spec_root() -> Path:
    """The fetched ``test/`` tree of the pinned pymongo sdist (fails if unavailable)."""
    try:
        root: Path = specs.spec_root()
    except specs.SpecFetchError as error:
        pytest.fail(f"the specification tests are unavailable: {error}")
    return root


# ---------------------------------------------------------------- per-suite tally
# The [pool] issue asks the run to print passed / total for each specification
# suite, and why any case was skipped; pytest's own summary mixes them all.
_SUITE_OF: dict[str, str] = {}
_TALLY: dict[str, dict[str, int]] = {}
_SKIPPED: list[tuple[str, str]] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in _SUITES:
                _SUITE_OF[item.nodeid] = _SUITES[fixture][0] + (
                    " (load-balanced: refused)" if "load_balanced" in fixture else ""
                )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    suite = _SUITE_OF.get(report.nodeid)
    if suite is None or (report.when != "call" and not (report.failed or report.skipped)):
        return
    tally = _TALLY.setdefault(
        suite, {"passed": 0, "failed": 0, "xfailed": 0, "skipped": 0, "total": 0}
    )
    if report.when == "teardown" and not report.failed:
        return
    tally["total"] += 1
    if hasattr(report, "wasxfail"):
        tally["xfailed"] += 1
    elif report.skipped:
        tally["skipped"] += 1
        _SKIPPED.append((report.nodeid, str(report.longrepr)))
    elif report.passed:
        tally["passed"] += 1
    else:
        tally["failed"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TALLY:
        return
    terminalreporter.section("specification suites")
    for suite, tally in sorted(_TALLY.items()):
        extra = "".join(f", {tally[k]} {k}" for k in ("failed", "xfailed", "skipped") if tally[k])
        terminalreporter.write_line(
            f"spec suite {suite}: {tally['passed']}/{tally['total']} passed{extra}"
        )
    for nodeid, reason in _SKIPPED:
        terminalreporter.write_line(f"spec skipped {nodeid}: {reason}")
