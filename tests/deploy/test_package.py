"""The package `pip install /path/to/kopir` makes: pages, static files, catalogues and letters.

The wheel is built from a copy of the checkout with no compiled catalogue in it (git ignores .mo
files), installed into a fresh virtual environment outside the checkout, and run from a folder
that is neither: `flask --app wsgi` migrates and seeds an SQLite database, gunicorn serves a
Kazakh page, and a Kazakh student downloads her offer letter. The environment borrows its
dependencies from the project's own (a .pth file), so nothing is downloaded.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from portal.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
# What a checkout holds that is not source: environments, caches, build output, the instance
# folder, and the compiled catalogues, which only `make translations` makes.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__", "*.py[cod]",
    ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules", "test-artifacts", "*.mo",
)
LANGUAGES = ("kk", "ky", "ru")
# The Kazakh student of the demo data, whose confirmed offer has a letter in Kazakh.
KAZAKH_STUDENT = "madina@kopir.demo"
# Words a Kazakh page and a Kazakh letter must show, looked up in the Kazakh catalogue.
PAGE_MESSAGES = ("Programmes", "Log in")
LETTER_MESSAGES = ("Offer of a place", "Date of issue", "Answer by")
# Where Python finds the portal, the `wsgi` module, and the pages and static files create_app uses.
WHERE = (
    "import importlib.util, portal; print(portal.__file__); "
    "print(importlib.util.find_spec('wsgi').origin); "
    "print(portal.TEMPLATE_FOLDER); print(portal.STATIC_FOLDER)"
)


def run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure show what it printed."""
    done = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, **kwargs
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def catalogue(language: str) -> dict[str, str]:
    """Return the checkout's translations into one language, by English message."""
    path = ROOT / "portal" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if isinstance(m.id, str) and m.string}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copy the checkout's sources, as a fresh clone has them: no compiled catalogue."""
    copy = tmp_path_factory.mktemp("checkout") / "kopir"
    shutil.copytree(ROOT, copy, ignore=NOT_SOURCE, symlinks=True)
    assert not list(copy.rglob("*.mo"))
    return copy


@pytest.fixture(scope="module")
def wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel as `pip install` does, with this environment's setuptools and Babel."""
    dist = tmp_path_factory.mktemp("dist")
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
        "--no-build-isolation", "--wheel-dir", dist, checkout,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (built,) = dist.glob("kopir-*.whl")
    return built


def fresh_environment(where: Path) -> Path:
    """Make a virtual environment whose packages beyond its own come from the project's."""
    run(sys.executable, "-m", "venv", "--without-pip", where)
    python = where / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    # Plain folder lines: the project's own .pth files (its editable install of the checkout)
    # are not read, so the only portal the new environment can import is the one installed.
    Path(site.strip(), "kopir-dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


def pip_install(python: Path, *args: object) -> None:
    """Install into another environment with this one's pip, offline, without dependencies."""
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", "--no-build-isolation", *args,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Installed:
    """An installed portal: its environment's Python, the folder it runs in, its settings."""

    python: Path
    folder: Path
    env: dict[str, str]
    port: int

    def flask(self, *args: object) -> subprocess.CompletedProcess[str]:
        """Run `flask --app wsgi …` as the README does, from a folder with no wsgi.py."""
        command = [self.python, "-m", "flask", "--app", "wsgi", *args]
        return run(*command, cwd=self.folder, env=self.env)

    def python_code(self, code: str) -> list[str]:
        """Run Python in the environment, from the same folder; return the lines it printed."""
        return run(self.python, "-c", code, cwd=self.folder, env=self.env).stdout.split()


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Install the wheel into a fresh environment; migrate and seed a database with it."""
    base = tmp_path_factory.mktemp("installed")
    python = fresh_environment(base / "venv")
    pip_install(python, wheel)
    folder = base / "elsewhere"
    folder.mkdir()
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(base)),
        "LANG": "C.UTF-8",
        "SECRET_KEY": "package-test-secret",
        "DATABASE_URL": f"sqlite:///{base / 'kopir.sqlite3'}",
        "KOPIR_INSTANCE_PATH": str(base / "instance"),
        "STORAGE_DIR": str(base / "storage"),
        "BASE_URL": f"http://127.0.0.1:{port}",
    }
    portal = Installed(python, folder, env, port)
    portal.flask("db", "upgrade")
    portal.flask("portal", "seed-demo")
    return portal


@pytest.fixture(scope="module")
def served(installed: Installed, checkout: Path) -> Iterator[str]:
    """Serve the installed portal with gunicorn and deploy/gunicorn.conf.py, as the unit does."""
    log = installed.folder / "gunicorn.log"
    env = {**installed.env, "XDG_RUNTIME_DIR": str(installed.folder)}
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                str(installed.python), "-m", "gunicorn",
                "--config", str(checkout / "deploy" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{installed.port}", "--workers", "1", "wsgi:app",
            ],
            cwd=installed.folder, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{installed.port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                # The socket listens before the worker has loaded the portal: allow it time.
                with urllib.request.urlopen(f"{url}/healthz", timeout=20) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer:\n" + log.read_text()
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


class Visitor:
    """A browser of sorts: keeps cookies, sends forms with their CSRF token, reads Kazakh."""

    def __init__(self, base: str, language: str) -> None:
        self.base = base
        self.language = language
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str, bytes]:
        request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1 only)
            self.base + path, headers={"Accept-Language": self.language}
        )
        with self.opener.open(request, timeout=30) as answer:
            return answer.status, answer.headers.get_content_type(), answer.read()

    def login(self, email: str, password: str) -> str:
        _, _, page = self.get("/account/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, "the login page has no CSRF token"
        form = urllib.parse.urlencode(
            {"csrf_token": token.group(1).decode(), "email": email, "password": password}
        ).encode()
        request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1 only)
            self.base + "/account/login", data=form, headers={"Accept-Language": self.language}
        )
        with self.opener.open(request, timeout=30) as answer:
            return answer.geturl()


def test_the_wheel_carries_templates_static_files_catalogues_and_wsgi(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        kazakh = read_mo(archive.open("portal/translations/kk/LC_MESSAGES/messages.mo"))
    templates = {
        f"portal/{path.relative_to(ROOT).as_posix()}"
        for path in (ROOT / "templates").rglob("*")
        if path.is_file()
    }
    static = {
        f"portal/{path.relative_to(ROOT).as_posix()}"
        for path in (ROOT / "static").rglob("*")
        if path.is_file() and "src" not in path.relative_to(ROOT / "static").parts
    }
    assert templates and templates <= names
    assert static and static <= names
    # Sass and npm's lock file are what the stylesheet is built from; the portal never serves them.
    assert not [name for name in names if name.startswith("portal/static/src/")]
    assert "wsgi.py" in names
    for language in LANGUAGES:
        assert f"portal/translations/{language}/LC_MESSAGES/messages.mo" in names
    # Compiled from the checkout's catalogue at build time, though the copy had no .mo file.
    expected = catalogue("kk")
    for message in LETTER_MESSAGES + PAGE_MESSAGES:
        assert kazakh.get(message).string == expected[message]


def test_the_installed_package_serves_kazakh_pages_and_letters_outside_the_checkout(
    installed: Installed, served: str, tmp_path: Path
) -> None:
    # One test, since the environment takes seconds to make: pytest-xdist would make it per test.
    where = installed.python_code(WHERE)
    environment = installed.python.parent.parent
    # Nothing comes from the checkout: neither the code nor the pages and static files.
    for path in where[-4:]:
        assert Path(path).is_relative_to(environment), where
        assert not Path(path).is_relative_to(ROOT), where

    kazakh = catalogue("kk")
    status, _, body = Visitor(served, "kk").get("/programs")
    page = body.decode()
    _, _, english = Visitor(served, "en").get("/programs")
    assert status == 200
    assert '<html lang="kk"' in page
    for message in PAGE_MESSAGES:
        assert message in english.decode()
        assert kazakh[message] in page, message
    # Its stylesheet is the package's, under the name that carries its digest.
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "no digest-named stylesheet on the page"
    status, kind, css = Visitor(served, "kk").get(stylesheet.group(1))
    assert (status, kind) == (200, "text/css") and b"{" in css

    # The demo's Kazakh student accepted an offer: her letter, rendered by the installed
    # package when the demo was seeded, is in Kazakh.
    database = installed.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        application_id, offer_id, language = connection.execute(
            "SELECT o.application_id, o.id, o.language FROM offers o"
            " JOIN applications a ON a.id = o.application_id"
            " JOIN users u ON u.id = a.student_id WHERE u.email = ?",
            (KAZAKH_STUDENT,),
        ).fetchone()
    assert language == "kk"
    student = Visitor(served, "kk")
    assert not student.login(KAZAKH_STUDENT, DEMO_PASSWORD).endswith("/account/login")
    status, kind, pdf = student.get(f"/applications/{application_id}/letters/{offer_id}.pdf")
    assert (status, kind) == (200, "application/pdf")
    (tmp_path / "letter.pdf").write_bytes(pdf)
    text = " ".join(run("pdftotext", tmp_path / "letter.pdf", "-").stdout.split())
    for message in LETTER_MESSAGES:
        assert kazakh[message] in text, (message, text[:500])
    assert "Offer of a place" not in text


def test_an_editable_install_uses_the_checkouts_templates_and_static_files(
    checkout: Path, tmp_path: Path
) -> None:
    # What `make run` and `make test` do (pip install -e .): the package data stays where it is.
    python = fresh_environment(tmp_path / "venv")
    pip_install(python, "--editable", checkout)
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path))}
    where = run(python, "-c", WHERE, cwd=folder, env=env).stdout.split()
    assert where[-4:] == [
        str(checkout / "portal" / "__init__.py"),
        str(checkout / "wsgi.py"),
        str(checkout / "templates"),
        str(checkout / "static"),
    ]
