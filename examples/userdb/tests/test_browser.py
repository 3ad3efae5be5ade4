"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright.

The browser is Debian's package (``/usr/bin/chromium``), never one downloaded by
Playwright. When it is missing, the session installs it once with ``apt-get``
(as root, as on CI); the test is skipped, saying why, only where that cannot
be done.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import tornado.httpserver
import tornado.testing
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from userdb import make_app, open_storage

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_TIMEOUT = 600  # seconds; about one minute on CI's machine


def _apt_get(*args: str, timeout: float) -> str | None:
    """Run apt-get; ``None`` when it worked, else what went wrong."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        done = subprocess.run(
            ["apt-get", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"apt-get {args[0]} took more than {timeout:.0f} s"
    if done.returncode != 0:
        return f"apt-get {args[0]} failed: {done.stderr.strip().splitlines()[-1:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, installed now if it is not there yet (once per session)."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None:
            pytest.skip("Debian's chromium is not installed and there is no apt-get to install it")
        if os.geteuid() != 0:
            pytest.skip("Debian's chromium is not installed, and installing it needs root")
        problem = _apt_get("install", "-y", "chromium", timeout=INSTALL_TIMEOUT)
        if problem is not None:  # perhaps stale package lists: refresh them once
            problem = _apt_get("update", timeout=300) or _apt_get(
                "install", "-y", "chromium", timeout=INSTALL_TIMEOUT
            )
        if problem is not None or not CHROMIUM.exists():
            pytest.skip(f"Debian's chromium could not be installed: {problem}")
    return CHROMIUM


@pytest_asyncio.fixture
async def base_url() -> AsyncIterator[str]:
    """The application over an embedded fakemongo, served on a free loopback port."""
    storage = await open_storage(None)
    listening, port = tornado.testing.bind_unused_port()
    server = tornado.httpserver.HTTPServer(make_app(storage, page_size=5))
    server.add_sockets([listening])
    yield f"http://127.0.0.1:{port}"
    server.stop()
    await server.close_all_connections()
    await storage.close()


@pytest_asyncio.fixture
async def browser(chromium: Path, tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            tmp_path / "profile",  # a fresh --user-data-dir
            executable_path=chromium,
            headless=True,
            args=FLAGS,
        )
        context.set_default_timeout(15_000)
        yield context
        await context.close()


async def submit(page: Page, label: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=label, exact=True).click()


@pytest.mark.asyncio
async def test_register_fix_errors_list_edit_deactivate_remove(
    base_url: str, browser: BrowserContext, tmp_path: Path
) -> None:
    page = await browser.new_page()
    problems: list[str] = []  # console errors, such as a CSP violation, fail the test
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    refused = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    page.on("pageerror", lambda e: problems.append(str(e)))

    # A bad form: each mistake is shown next to its field, and what was typed is kept.
    await page.goto(f"{base_url}/register")
    await expect(page.locator("#storage")).to_contain_text("embedded fakemongo")
    # The style sheet loaded (the Content-Security-Policy allows it).
    await expect(page.locator("header")).to_have_css("background-color", "rgb(31, 111, 80)")
    await page.fill("#email", "ana@")
    await page.fill("#age", "thirty")
    await submit(page, "Register")
    await expect(page.locator(".error-summary")).to_have_text(
        "Please correct the fields marked below."
    )
    await expect(page.locator("#name-error")).to_have_text("Name is required")
    await expect(page.locator("#email-error")).to_have_text("E-mail must be an e-mail address")
    await expect(page.locator("#age-error")).to_have_text("Age must be a whole number")
    await expect(page.locator("#email")).to_have_value("ana@")
    await expect(page.locator("#website-error")).to_have_count(0)
    await page.screenshot(path=tmp_path / "errors.png", full_page=True)

    # Fixed: registered, and shown on the user's page.
    await page.fill("#name", "Ana Lima")
    await page.fill("#email", "ana@example.com")
    await page.fill("#age", "31")
    await page.fill("#bio", "Likes <b>databases</b>.")
    await submit(page, "Register")
    await expect(page).to_have_url(re.compile(r"/users/[0-9a-f]{24}\?notice=registered$"))
    await expect(page.locator(".notice")).to_have_text("Thank you for registering.")
    await expect(page.locator("h1")).to_have_text("Ana Lima")
    await expect(page.locator(".bio")).to_have_text("Likes <b>databases</b>.")

    # Listed.
    await page.get_by_role("link", name="Users", exact=True).click()
    row = page.locator("tr.user", has_text="Ana Lima")
    await expect(row).to_contain_text("ana@example.com")
    await expect(page.locator(".count")).to_have_text("1 user")
    await page.screenshot(path=tmp_path / "list.png", full_page=True)

    # Edited.
    await row.get_by_role("link", name="Edit").click()
    await expect(page.locator("#name")).to_have_value("Ana Lima")
    await page.fill("#name", "Ana Maria Lima")
    await submit(page, "Save")
    await expect(page.locator(".notice")).to_have_text("The changes are saved.")
    await expect(page.locator("h1")).to_have_text("Ana Maria Lima")

    # Deactivated.
    await submit(page, "Deactivate")
    await expect(page.locator(".notice")).to_have_text("The user is deactivated.")
    await expect(page.locator("h1 .badge")).to_have_text("inactive")

    # Found by searching, then removed from the list.
    await page.goto(f"{base_url}/users")
    await page.fill("#q", "maria")
    await submit(page, "Search")
    await expect(page.locator(".count")).to_have_text("1 user whose name contains “maria”")
    await submit(page, "Remove Ana Maria Lima")
    await expect(page.locator(".notice")).to_have_text("The user is removed.")
    await expect(page.locator(".count")).to_have_text("0 users")
    await expect(page.locator("tr.user")).to_have_count(0)

    # The one console message: Chromium's note on the bad form's 400 answer.
    assert problems == [refused]
