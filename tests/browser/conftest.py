"""Browser tests: the real app served on a free local port, driven by Debian's Chromium through Playwright.

The server thread serves the session ``app`` from ``tests/conftest.py``, so it uses the test database; a test
asks for ``db`` (through ``live_server``) and its rows are deleted afterwards like in every other test.

Every page opened through ``new_context`` / ``page`` records console errors, uncaught script errors and
Content-Security-Policy violations; a test fails if any were recorded (an inline script, an ``onclick=`` or a
``style=`` attribute shows up here as a CSP violation). A test that expects one (e.g. opening a 404 page) says so
with ``console.allow(pattern)``.

Chromium comes from the system (``apt-get install chromium``); we never run ``playwright install``. Without it the
tests are skipped, except on CI (``CI=true``), where that is a failure.
"""
from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

import pytest

from tests.conftest import ON_CI, Factory

CHROMIUM = Path(os.environ.get("SAIHUI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(os.environ.get("SAIHUI_SHOTS", "/tmp/shots"))

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}

# Installed by add_init_script before any page script runs; the CSP does not apply to it.
_RECORD_CSP = """
window.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="package")  # closed after the last browser test, not at the end of the whole run
def chromium():
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium fonts-noto-cjk`."
        if ON_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        message = "The `playwright` Python package is not installed (pip install -r requirements-dev.txt)."
        if ON_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# ------------------------------------------------------------------ the server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="package")
def _server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="saihui-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture()
def live_server(_server, db):
    """Base URL of the running app; the test's rows are deleted after it (through ``db``)."""
    return _server


# ------------------------------------------------------------------ pages


class ConsoleLog:
    """Errors seen by the browser during one test."""

    def __init__(self):
        self.errors: list[str] = []
        self._allowed: list[re.Pattern] = []

    def allow(self, pattern: str) -> None:
        """Accept console errors matching ``pattern`` (a regular expression), e.g. a 404 the test asked for."""
        self._allowed.append(re.compile(pattern))

    def record(self, where: str, text: str) -> None:
        self.errors.append(f"{where}: {text}")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self._allowed)]

    def watch(self, page) -> None:
        page.on("console", lambda m: self.record(page.url, m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.record(page.url, f"uncaught {exc}"))


@pytest.fixture()
def console():
    return ConsoleLog()


@pytest.fixture()
def new_context(chromium, live_server, console):
    """``new_context(**options)``: a fresh browser context (zh-CN, desktop size unless told) on the live server."""
    contexts = []

    def _new(**options):
        options = {**DESKTOP, "locale": "zh-CN", **options}
        context = chromium.new_context(base_url=live_server, **options)
        context.set_default_timeout(10_000)
        context.add_init_script(_RECORD_CSP)
        context.on("page", console.watch)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()
    problems = console.unexpected()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


@pytest.fixture()
def page(new_context):
    """A desktop-sized page (1440x900, zh-CN)."""
    return new_context().new_page()


def log_in(page, user, password: str = Factory.PASSWORD) -> None:
    """Log in through the login form, as a person would."""
    page.goto("/login")
    page.fill("input[name=login]", user.login)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login" not in page.url, f"login failed, still on {page.url}"


def assert_no_horizontal_overflow(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: content {widths[0]}px, window {widths[1]}px"


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
