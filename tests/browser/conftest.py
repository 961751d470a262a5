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


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """Serve the test app on a free local port in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
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
