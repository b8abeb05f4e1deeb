"""Browser end-to-end tests: Debian's headless Chromium, driven by Playwright's sync API, against the
local stack (the session fixture `local_stack`, which serves `frontend/dist`: `make test` builds it).

Every page opened in a test's contexts is watched: an uncaught page error always fails the test, and
so does a console error unless the test allowed it (`browser_errors.allow(...)`, for the tests that
provoke API errors on purpose)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.support.local_stack import REPO_ROOT, RunningStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
# Generous: the machine is shared, and a Lambda environment's cold start (a new process) takes seconds.
TIMEOUT_MS = 20_000

expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class BrowserErrors:
    """What went wrong in the pages of one test: uncaught errors, and console errors."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.console_errors.append(f"{message.text} [{where}]" if where else message.text)

    def allow(self, pattern: str) -> None:
        """Console errors matching `pattern` (a regular expression) are expected in this test."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        console = [e for e in self.console_errors if not any(p.search(e) for p in self.allowed)]
        return [f"page error: {e}" for e in self.page_errors] + [f"console error: {e}" for e in console]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Fails a test that passed but left unexpected errors in a browser page."""
    result = yield
    errors = getattr(item, "funcargs", {}).get("browser_errors")
    if isinstance(errors, BrowserErrors) and (unexpected := errors.unexpected()):
        pytest.fail("unexpected errors in the browser:\n  " + "\n  ".join(unexpected), pytrace=False)
    return result


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", pytrace=False)
    if not (REPO_ROOT / "frontend" / "dist" / "index.html").is_file():
        pytest.fail("frontend/dist is missing: run `cd frontend && npm run build`", pytrace=False)
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture
def new_context(
    browser: Browser, local_stack: RunningStack, browser_errors: BrowserErrors
) -> Iterator[Callable[..., BrowserContext]]:
    """Makes fresh browser contexts (no cookies, no storage) on the local stack's origin; every page
    opened in them is watched for errors. Closed at the end of the test."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=local_stack.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", browser_errors.watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
