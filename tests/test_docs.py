"""Every code block of the documentation runs: docs/*.md are executed here.

The conventions, for authors:

- Each ```python block of a document runs, in order, as one program: the blocks
  share a namespace, as the cells of a notebook do. A block with a top-level
  ``await`` runs on the document's event loop (one ``asyncio.Runner`` per
  document, so a Database connected in one block serves the next); a block
  without one runs as plain code, outside any running loop, so it may use
  synchronous APIs (PyMongo, ``FakeMongoThread``, tornado.testing).
- The hidden setup is one environment variable: ``MONGODB_URI`` names a fresh
  database on fakemongo (the pytest plugin's ``fakemongo_uri``). The documents
  read it where a reader would put their own server's address.
- A block whose info string has ``title="path"`` (any language) is a file of the
  reader's project: it is written under a temporary directory, and when it is a
  ``test_*.py`` it is run there by pytest, in another process, as the reader
  would run it; every test in it must pass.
- A block that cannot run says ``python skip`` and is preceded by a line
  ``<!-- not run: <reason> -->``. ``NOT_RUN`` below lists each document's count,
  so adding one is a decision made here too.

A document must leave no default Database connected and no signal receiver
behind: the blocks end the way a program should.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from mongotor.database import Database
from mongotor.orm import signal

DOCS = Path(__file__).resolve().parent.parent / "docs"

# What cannot run, per document, and why (the reasons are also beside each block).
NOT_RUN = {
    # The 2012 code being migrated from: tornado.gen.Task, @gen.engine and
    # @web.asynchronous were removed in Tornado 6, and the 2012 mongotor needs Python 2.
    "migration.md": 1,
}

FENCE = re.compile(
    r"^```(?P<lang>[\w+-]*)(?P<info>[^\n]*)\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL
)
TITLE = re.compile(r'title="(?P<title>[^"]+)"')
NOT_RUN_REASON = re.compile(r"<!-- not run: (?P<reason>.+?) -->\s*$")
SIGNALS = [
    signal.pre_save,
    signal.post_save,
    signal.pre_update,
    signal.post_update,
    signal.pre_remove,
    signal.post_remove,
]


@dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, what it holds, how it is run."""

    path: Path
    line: int  # of the first line of code, 1-based
    lang: str
    code: str
    title: str | None
    skip_reason: str | None

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The document's fenced blocks, in order."""
    text = path.read_text(encoding="utf-8")
    found: list[Block] = []
    for match in FENCE.finditer(text):
        # A block in another spelling of Python would silently not run.
        assert match["lang"] not in ("py", "python3", "pycon", "Python"), (
            f"{path.name}: write ```python, not ```{match['lang']}"
        )
        info = match["info"].strip()
        title = TITLE.search(info)
        before = text[: match.start()].rstrip("\n").rpartition("\n")[2]
        reason = NOT_RUN_REASON.search(before)
        skip = info.split()[:1] == ["skip"]
        if skip and reason is None:
            raise AssertionError(
                f"{path.name}:{text.count(chr(10), 0, match.start()) + 1}: a skipped block "
                "needs '<!-- not run: reason -->' on the line before it"
            )
        found.append(
            Block(
                path=path,
                line=text.count("\n", 0, match.start("code")) + 1,
                lang=match["lang"],
                code=match["code"],
                title=title["title"] if title else None,
                skip_reason=reason["reason"] if skip and reason else None,
            )
        )
    return found


def documents() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


@pytest.fixture
def clean_globals() -> Iterator[None]:
    """No default Database before the document runs; signal receivers put back after."""
    assert Database.default() is None, "a default Database leaked into this test"
    saved = [list(s.receivers) for s in SIGNALS]
    yield
    for s, receivers in zip(SIGNALS, saved, strict=True):
        for sender, handler in s.receivers:
            if (sender, handler) not in receivers:
                s.disconnect(sender, handler)


def run_python(block: Block, namespace: dict[str, Any], runner: asyncio.Runner) -> None:
    """Run one block in the document's namespace: on the loop if it awaits."""
    # Blank lines first, so tracebacks name the document's own line numbers.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, str(block.path), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        runner.run(eval(code, namespace))  # the documentation's own code
    else:
        exec(code, namespace)  # the documentation's own code


def defined_tests(block: Block) -> set[tuple[str, str]]:
    """The tests a test module block defines: (module as JUnit names it, function)."""
    assert block.title is not None
    module = block.title.removesuffix(".py").replace("/", ".")
    tests = {
        (module, node.name)
        for node in ast.walk(ast.parse(block.code))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }
    assert tests, f"{block.where}: {block.title} has no tests"
    return tests


def run_pytest(test_files: list[Block], project: Path) -> None:
    """Run the reader's test modules with pytest, in another process (one run per
    document: pytest's start-up is most of the cost); every test must pass."""
    expected: set[tuple[str, str]] = set()
    for block in test_files:
        expected |= defined_tests(block)
    report = project / "junit.xml"
    files = [block.title for block in test_files if block.title is not None]
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--junitxml",
        str(report),
    ]
    proc = subprocess.run(
        [*argv, *files],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{', '.join(files)} failed:\n{output}"
    # A passed test case has no failure, error or skipped element. A test method's
    # classname has its class after the module ("tests.test_x.CountTest").
    passed = {
        (case.get("classname", ""), case.get("name", ""))
        for case in ElementTree.parse(report).getroot().iter("testcase")
        if all(child.tag in ("system-out", "system-err") for child in case)
    }
    missing = {
        (module, name)
        for module, name in expected
        if not any(
            name == test and (where == module or where.startswith(module + "."))
            for where, test in passed
        )
    }
    assert not missing, f"not passed: {sorted(missing)}\n{output}"


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
@pytest.mark.usefixtures("clean_globals")
def test_document_runs(
    path: Path, fakemongo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGODB_URI", fakemongo_uri)
    namespace: dict[str, Any] = {"__name__": f"docs_{path.stem}"}
    ran = 0
    test_files: list[Block] = []
    with asyncio.Runner() as runner:
        try:
            for block in blocks(path):
                if block.skip_reason is not None:
                    continue
                if block.title is not None:
                    target = tmp_path / block.title
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(block.code, encoding="utf-8")
                    if block.lang == "python" and target.name.startswith("test_"):
                        test_files.append(block)
                elif block.lang == "python":
                    run_python(block, namespace, runner)
                    ran += 1
        finally:
            leaked = Database.default()
            if leaked is not None:
                runner.run(leaked.close())
    assert leaked is None, f"{path.name} left a default Database connected: {leaked!r}"
    if test_files:
        run_pytest(test_files, tmp_path)
    assert ran + len(test_files) > 0, f"{path.name} has no code that runs"


def test_blocks_not_run_are_the_ones_listed() -> None:
    """Each skipped block has its reason beside it, and the count is agreed here."""
    skipped = {
        path.name: [b for b in blocks(path) if b.skip_reason is not None] for path in documents()
    }
    counts = {name: len(found) for name, found in skipped.items() if found}
    assert counts == NOT_RUN, "\n".join(
        f"{b.where}: {b.skip_reason}" for found in skipped.values() for b in found
    )


LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^#+\s+(?P<title>.+?)\s*$", re.MULTILINE)


def anchors(path: Path) -> set[str]:
    """The heading anchors GitHub makes for a Markdown file (code blocks aside)."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {
        re.sub(r"[^\w\- ]", "", match["title"].lower()).replace(" ", "-")
        for match in HEADING.finditer(text)
    }


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_links_resolve(path: Path) -> None:
    """Every relative link names a file of the repository, and its #anchor a heading."""
    broken = []
    for match in LINK.finditer(FENCE.sub("", path.read_text(encoding="utf-8"))):
        target = match["target"]
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(target)
    assert not broken, f"{path.name}: broken links {broken}"


def test_the_documents_are_there() -> None:
    assert {p.name for p in documents()} >= {"tutorial.md", "migration.md"}
