"""The MongoDB specifications' JSON tests, fetched at test time (DESIGN.md, Tests).

They ship in the pymongo source distribution's ``test/`` directory. We fetch one
pinned sdist by package name with pip, check its sha256, and unpack only the JSON
under ``test/`` into the git-ignored ``<repo>/.cache/specs/pymongo-<version>/``.
A marker holding the checksum makes later runs reuse the cache. Nothing here
skips: when the oracle cannot be had, :func:`spec_root` raises and the tests
that need it fail, because a missing oracle is a failure, not a pass.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

PYMONGO_VERSION = "4.20.1"
PYMONGO_SDIST_SHA256 = "1ac112b3ffa3d010cfc2fc54e3ae677a12c63d18c6115db4451df64f1a1175eb"

# packages/pool/tests/_specs.py -> the repository root is three levels up.
REPO_ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = REPO_ROOT / ".cache" / "specs" / f"pymongo-{PYMONGO_VERSION}"
MARKER = CACHE_DIR / ".sdist-sha256"


class SpecFetchError(RuntimeError):
    """The pinned sdist could not be downloaded, verified or unpacked."""


@functools.cache
def spec_root() -> Path:
    """The directory holding the sdist's ``test/`` JSON files, fetching it if needed."""
    if _cache_is_valid(CACHE_DIR):
        return CACHE_DIR
    CACHE_DIR.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE_DIR.parent) as scratch:
        sdist = _download(Path(scratch) / "download")
        staging = Path(scratch) / "staging"
        _extract_json(sdist, staging)
        (staging / MARKER.name).write_text(PYMONGO_SDIST_SHA256 + "\n")
        if CACHE_DIR.exists():
            # A stale or partial cache (its marker did not match): replace it.
            shutil.rmtree(CACHE_DIR)
        try:
            staging.rename(CACHE_DIR)
        except OSError:
            # Another test process won the race; use its copy if it is complete.
            if not _cache_is_valid(CACHE_DIR):
                raise
    return CACHE_DIR


def _cache_is_valid(directory: Path) -> bool:
    marker = directory / MARKER.name
    return marker.is_file() and marker.read_text().strip() == PYMONGO_SDIST_SHA256


def _download(into: Path) -> Path:
    into.mkdir()
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "--dest",
        str(into),
        f"pymongo=={PYMONGO_VERSION}",
    ]
    env = dict(os.environ, PIP_NO_INPUT="1")
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    sdists = sorted(into.glob(f"pymongo-{PYMONGO_VERSION}.tar.gz"))
    if result.returncode != 0 or len(sdists) != 1:
        raise SpecFetchError(
            f"pip could not download the pymongo {PYMONGO_VERSION} sdist that carries the "
            f"specification tests (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    digest = hashlib.sha256(sdists[0].read_bytes()).hexdigest()
    if digest != PYMONGO_SDIST_SHA256:
        raise SpecFetchError(
            f"pymongo-{PYMONGO_VERSION}.tar.gz has sha256 {digest}, expected {PYMONGO_SDIST_SHA256}"
        )
    return sdists[0]


def _extract_json(sdist: Path, into: Path) -> None:
    prefix = PurePosixPath(f"pymongo-{PYMONGO_VERSION}", "test")
    count = 0
    with tarfile.open(sdist, "r:gz") as archive:
        for member in archive:
            path = PurePosixPath(member.name)
            if not member.isfile() or path.suffix != ".json" or ".." in path.parts:
                continue
            if path.parts[: len(prefix.parts)] != prefix.parts:
                continue
            target = into.joinpath(*path.parts[len(prefix.parts) :])
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
            count += 1
    if count == 0:
        raise SpecFetchError(f"pymongo-{PYMONGO_VERSION}.tar.gz has no JSON under test/")


def load_json(relative: str) -> list[tuple[str, dict[str, Any]]]:
    """Every JSON file under ``relative`` (recursively), as (path, document), sorted."""
    root = spec_root() / relative
    files = sorted(root.rglob("*.json"))
    if not files:
        raise SpecFetchError(f"no specification tests under {root}")
    return [(str(path.relative_to(root)), json.loads(path.read_text("utf-8"))) for path in files]


def load_cases(
    relative: str, takes: Callable[[str], bool] = lambda name: True
) -> list[tuple[str, dict[str, Any]]]:
    """The test cases of the files under ``relative`` whose names ``takes`` accepts,
    with ids "file: description"."""
    cases: list[tuple[str, dict[str, Any]]] = []
    for name, document in load_json(relative):
        if not takes(name):
            continue
        stem = name.removesuffix(".json")
        cases.extend((f"{stem}: {case['description']}", case) for case in document["tests"])
    return cases
