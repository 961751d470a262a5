"""Static files: digest-named URLs cached for a year, our own Bootstrap build, nothing missing."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from portal.assets import YEAR, Digests, css_classes
from tests.conftest import Browser

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"
HASHED = re.compile(r"^/static/(?P<stem>[\w/.-]+)\.(?P<digest>[0-9a-f]{12})\.(?P<suffix>\w+)$")
IMMUTABLE = {"public", f"max-age={YEAR}", "immutable"}
DECODE = {"identity": lambda body: body, "gzip": gzip.decompress, "br": brotli.decompress}


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}


def _static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


@pytest.fixture
def home(app, browser: Browser) -> str:
    response = browser.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_pages_name_static_files_by_digest(home):
    urls = _static_urls(home)
    names = {HASHED.match(url)["stem"] for url in urls if HASHED.match(url)}
    assert {"vendor/bootstrap.min", "css/app", "js/app"} <= names
    assert all(HASHED.match(url) for url in urls), urls


def test_digest_named_files_are_cached_for_a_year(app, home):
    client = app.test_client()
    for url in _static_urls(home):
        match = HASHED.match(url)
        on_disk = (STATIC / f"{match['stem']}.{match['suffix']}").read_bytes()
        for encoding in ("identity", "gzip", "br"):
            response = client.get(url, headers={"Accept-Encoding": encoding})
            assert response.status_code == 200, url
            assert _cache_control(response) == IMMUTABLE, (url, response.headers)
            # Files too small to gain from it (the icon) go out as they are.
            sent = response.headers.get("Content-Encoding", "identity")
            assert sent == (encoding if len(on_disk) >= 500 else "identity"), url
            assert DECODE[sent](response.get_data()) == on_disk, (url, encoding)
            response.close()


def test_text_files_go_out_compressed_tightly_and_once(app, home):
    client = app.test_client()
    css = next(url for url in _static_urls(home) if "bootstrap.min" in url and url.endswith("css"))
    first = client.get(css, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert first.headers["Content-Encoding"] == "br"
    assert int(first.headers["Content-Length"]) == len(first.get_data()) < 24_000
    assert first.headers["Vary"] == "Accept-Encoding"
    etag = first.headers["ETag"]
    again = client.get(css, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304


def test_plain_and_outdated_names_still_work_with_a_short_cache(app):
    client = app.test_client()
    short = {"public", f"max-age={app.config['STATIC_MAX_AGE']}"}
    for url in ("/static/css/app.css", "/static/css/app.0123456789ab.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _cache_control(response) == short, url
        assert response.get_data() == (STATIC / "css" / "app.css").read_bytes()
        response.close()


@pytest.mark.parametrize(
    "url",
    [
        "/static/src/package.json",
        "/static/src/kopir-bootstrap.scss",
        # The same files named with dot segments, which a raw prefix check would let through.
        "/static/./src/package.json",
        "/static/css/../src/package.json",
        "/static/css/..%2Fsrc/package.json",
        "/static/css/nothing.css",
        "/static/css/nothing.0123456789ab.css",
        "/static/../setup.cfg",
    ],
)
def test_build_inputs_and_missing_files_are_not_served(app, url):
    assert app.test_client().get(url).status_code == 404


def test_static_answers_do_not_vary_by_cookie(app, browser: Browser):
    """A stylesheet must not be fetched again because the session cookie changed."""
    from tests import factories

    with app.app_context():
        factories.user(email="s@example.kz")
    browser.login("s@example.kz")
    html = browser.get("/").get_data(as_text=True)
    assert "s@example.kz" in html
    for url in _static_urls(html):
        response = browser.client.get(url)
        assert "Cookie" not in response.headers.get("Vary", ""), url
        assert "Set-Cookie" not in response.headers, url
        response.close()


def test_a_changed_file_gets_a_new_name(tmp_path):
    (tmp_path / "css").mkdir()
    style = tmp_path / "css" / "site.css"
    style.write_text("a { color: red }")
    digests = Digests(str(tmp_path))
    first = digests.hashed("css/site.css")
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", first)
    assert digests.resolve(first) == ("css/site.css", True)

    style.write_text("a { color: blue; }")
    second = digests.hashed("css/site.css")
    assert second != first
    assert digests.resolve(second) == ("css/site.css", True)
    # A page from before the change still gets the file, though not for a year.
    assert digests.resolve(first) == ("css/site.css", False)
    assert digests.hashed("css/missing.css") == "css/missing.css"


def test_letters_still_read_their_stylesheet_from_static():
    from portal.offers.pdf import LETTER_CSS, StaticOnlyFetcher

    fetched = StaticOnlyFetcher().fetch(LETTER_CSS.as_uri())
    assert fetched.headers["Content-Type"] == "text/css"


# --- Our Bootstrap build (static/src/, `make assets`) has everything the pages use. ---------


def _template_classes() -> dict[str, set[str]]:
    """Return every class named literally in a template's class attribute, with its files."""
    found: dict[str, set[str]] = {}
    attribute = re.compile(r"""\bclass_?\s*=\s*(["'])(.*?)\1""", re.DOTALL)
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for _quote, value in attribute.findall(text):
            # Literals inside Jinja expressions count as well: 'text-success' if ok else ...
            literals = re.findall(r"'([^'{}]*)'", value)
            plain = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", value)
            for token in " ".join([plain, *literals]).split():
                if re.fullmatch(r"-?[a-z][a-z0-9-]*[a-z0-9]", token):
                    found.setdefault(token, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_bootstrap_class_the_templates_use_is_in_our_build():
    every_bootstrap_class = set((STATIC / "src" / "bootstrap-classes.txt").read_text().split())
    built = css_classes((STATIC / "vendor" / "bootstrap.min.css").read_text(encoding="utf-8"))
    used = _template_classes()
    assert {"navbar-toggler", "collapse", "badge", "alert-danger"} <= used.keys()
    missing = {
        name: sorted(files)
        for name, files in used.items()
        if name in every_bootstrap_class and name not in built
    }
    assert not missing, (
        f"these Bootstrap classes are left out of static/vendor/bootstrap.min.css: {missing}; "
        "import their component in static/src/kopir-bootstrap.scss and run `make assets`"
    )


def test_flash_and_state_classes_built_in_templates_exist():
    """Classes put together from a value: every value they can take is styled."""
    built = css_classes((STATIC / "vendor" / "bootstrap.min.css").read_text(encoding="utf-8"))
    ours = css_classes((STATIC / "css" / "app.css").read_text(encoding="utf-8"))
    assert {f"alert-{c}" for c in ("success", "info", "warning", "danger")} <= built
    from portal.applications.states import State

    assert {f"state-{state.value}" for state in State} <= ours


def test_every_bootstrap_script_the_templates_use_is_in_our_build():
    script = (STATIC / "vendor" / "bootstrap.min.js").read_text(encoding="utf-8")
    used: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(
            re.findall(r'data-bs-(?:toggle|dismiss)="(\w+)"', path.read_text(encoding="utf-8"))
        )
    assert "collapse" in used
    missing = {name for name in used if f'"bs.{name}"' not in script}
    assert not missing, (
        f"static/vendor/bootstrap.min.js lacks {sorted(missing)}: export it in "
        "static/src/kopir-bootstrap.js and run `make assets`"
    )


def test_bootstrap_is_ours_and_not_the_packaged_one(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not any(endpoint.startswith("bootstrap.") for endpoint in endpoints)
    header = (STATIC / "vendor" / "bootstrap.min.css").read_text(encoding="utf-8")[:200]
    assert "Bootstrap  v5.3.8" in header
    # Much of Bootstrap is left out; what is built stays well under the complete 232 KB.
    assert (STATIC / "vendor" / "bootstrap.min.css").stat().st_size < 200_000
    assert (STATIC / "vendor" / "bootstrap.min.js").stat().st_size < 20_000
