"""mypy --strict accepts a typed program written against the public API."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[3]


def test_a_typed_usage_example_passes_mypy_strict() -> None:
    example = Path(__file__).with_name("typed_usage.py")
    stdout, stderr, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--strict", str(example)]
    )
    assert status == 0, stdout + stderr
