"""A live server on a free port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.support import Translations
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

if not os.path.exists(CHROMIUM):  # pragma: no cover - .ci/run and `make test` install it
    pytest.skip(
        "Debian's chromium is not installed (`make test` installs it as root; otherwise run "
        "`sudo apt-get install chromium`)",
        allow_module_level=True,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests on PostgreSQL when TEST_DATABASE_URL is set, on SQLite otherwise."""
    # A browser test drives pages, not the database: the same code runs on both backends, and
    # every query behind those pages is tested on both by the tests outside tests/browser.
    # PostgreSQL is what production runs on, so it wins when it is there, and CI's browser time
    # is halved. The SQLite variants are deselected, not skipped: they are not wanted, rather
    # than unable to run.
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        in_browser = "/browser/" in "/" + item.nodeid.split("::")[0]
        (drop if on_sqlite and in_browser else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def buffered(wsgi_app):
    """Read each response whole and close it before the server writes it to the socket.

    Werkzeug's development server can skip closing a file response when the browser drops
    the connection (a load cut short by the next navigation); the leaked file handle then
    fails the run under filterwarnings=error. Buffering keeps no file open while writing.
    """

    def wrapper(environ, start_response):
        result = wsgi_app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return [body]

    return wrapper


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """Serve the test app on a free local port in a thread."""
    server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Launch Debian's Chromium once per session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Return the folder screenshots are written to (named by `make test` at the end)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def translator(lang: str):
    """Return gettext for a language, from the compiled catalogues the app uses."""
    if lang == "en":
        return lambda text: text
    translations = Translations.load(str(ROOT / "portal" / "translations"), [lang])
    return translations.gettext
