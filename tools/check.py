"""Run every check the project demands, the way CI runs it.

    uv run --all-packages --locked python tools/check.py [--fast] [PACKAGE ...]

Steps: ruff (lint and format), mypy --strict, the import layering contract, the
workspace layout test, then each package's test suite on its own with branch
coverage, which must reach 100% of that package from that package's own tests.
Package suites run two at a time (the CI machine has two cores). ``--fast`` skips
the lint/type steps; naming packages runs only their suites.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COVERAGE_DIR = ROOT / ".cache" / "coverage"


@dataclass(frozen=True)
class Suite:
    name: str
    tests: str
    source: str | None  # the directory whose coverage must be complete (None: not measured)


SUITES = {
    "wire": Suite("wire", "packages/wire/tests", "packages/wire/src"),
    "pool": Suite("pool", "packages/pool/tests", "packages/pool/src"),
    "client": Suite("client", "packages/client/tests", "packages/client/src"),
    "orm": Suite("orm", "packages/orm/tests", "packages/orm/src"),
    "fakemongo": Suite("fakemongo", "packages/fakemongo/tests", "packages/fakemongo/src"),
    "userdb": Suite("userdb", "examples/userdb/tests", "examples/userdb/src"),
    # The same scenarios against fakemongo and a real replica set; no package source of
    # its own to cover. Its skip reasons (no Docker, no MONGOTOR_TEST_URI) are printed.
    "integration": Suite("integration", "integration/tests", None),
}

SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|xfailed|errors?)\b")

STATIC = [
    ("ruff check", ["ruff", "check", "."]),
    ("ruff format", ["ruff", "format", "--check", "."]),
    (
        "mypy",
        [
            "mypy",
            "packages/wire/src",
            "packages/pool/src",
            "packages/client/src",
            "packages/orm/src",
            "packages/fakemongo/src",
            "examples/userdb/src",
            "bench",
            "tools",
        ],
    ),
    ("import contracts", ["lint-imports"]),
    ("workspace layout", [sys.executable, "-m", "pytest", "-q", "tests"]),
]


def run(title: str, argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[str, int, str]:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    output = proc.stdout + proc.stderr
    return f"{title} ({took:.1f}s)", proc.returncode, output


def run_suite(suite: Suite) -> tuple[str, int, str]:
    COVERAGE_DIR.mkdir(parents=True, exist_ok=True)
    data = COVERAGE_DIR / suite.name
    for old in COVERAGE_DIR.glob(f"{suite.name}*"):
        old.unlink()
    env = dict(
        os.environ, COVERAGE_FILE=str(data), COVERAGE_PROCESS_START=str(ROOT / "pyproject.toml")
    )
    if suite.source is None:
        title, code, out = run(
            f"{suite.name} tests",
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite.tests],
        )
        lines = out.strip().splitlines()
        reasons = ("SKIPPED", "XFAIL", "FAILED", "ERROR")
        summary = [line for line in lines if line.startswith(reasons)]
        return title, code, "\n".join(summary + lines[-1:]) if code == 0 else out
    title, code, out = run(
        f"{suite.name} tests",
        [
            sys.executable,
            "-m",
            "coverage",
            "run",
            f"--source={suite.source}",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            suite.tests,
        ],
        env,
    )
    if code != 0:
        return title, code, out
    _, _, combined = run("combine", [sys.executable, "-m", "coverage", "combine", "-q"], env)
    _, rcode, report = run(
        "coverage", [sys.executable, "-m", "coverage", "report", "--fail-under=100"], env
    )
    lines = out.strip().splitlines()
    # Keep pytest's closing line, and the per-suite tallies of the spec tests.
    tail = "\n".join([line for line in lines if line.startswith("spec ")] + lines[-1:])
    return title, rcode, f"{tail}\n{combined}{report}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="skip lint, types and contracts")
    parser.add_argument("packages", nargs="*", choices=[*SUITES, []], metavar="PACKAGE")
    args = parser.parse_args()

    results: list[tuple[str, int, str]] = []
    if not args.fast:
        for title, argv in STATIC:
            results.append(run(title, argv))
            print_result(*results[-1])
    suites = [SUITES[name] for name in (args.packages or SUITES)]
    with ThreadPoolExecutor(max_workers=2) as executor:
        for result in executor.map(run_suite, suites):
            results.append(result)
            print_result(*result)
    failed = [title for title, code, _ in results if code != 0]
    counts = dict.fromkeys(("passed", "failed", "skipped", "xfailed", "error"), 0)
    for _, _, output in results:
        for line in output.splitlines():
            if not line.startswith("spec "):  # the spec tallies repeat pytest's counts
                for number, word in SUMMARY.findall(line):
                    counts[word.rstrip("s")] += int(number)
    print()
    # The closing line, in the form CI reads: "tests: N passed, N failed, N skipped".
    print(
        f"tests: {counts['passed']} passed, {counts['failed'] + counts['error']} failed, "
        f"{counts['skipped']} skipped"
    )
    if failed:
        print("FAILED:", ", ".join(failed))
        return 1
    print(f"all {len(results)} checks passed")
    return 0


def print_result(title: str, code: int, output: str) -> None:
    status = "ok" if code == 0 else f"FAILED (exit {code})"
    print(f"== {title}: {status}", flush=True)
    if output.strip():
        print(output.rstrip(), flush=True)


if __name__ == "__main__":
    sys.exit(main())
