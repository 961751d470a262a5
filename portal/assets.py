"""Static files under names that carry a digest of their content, so browsers keep them a year.

`url_for("static", filename="css/app.css")` gives `/static/css/app.<digest>.css`, and that URL is
answered with `Cache-Control: public, max-age=31536000, immutable`: a changed file gets a new
name, so a browser never has to ask again. The plain name keeps working with a short cache
(`STATIC_MAX_AGE`), for links from outside the portal. A digest is computed on first use and
again whenever the file's size or modification time changes, so an edited file gets a new name
without a restart, and every process of every machine names the same content alike. Text
files go out in Brotli or gzip at their tightest setting, compressed once per content and
process rather than on every request.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import stat
from typing import Any

from flask import Flask, Response, abort, current_app, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.security import safe_join

from portal.compression import best_encoding, encode_whole

DIGEST_LENGTH = 12
YEAR = 365 * 24 * 3600
_HASHED = re.compile(
    rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.[^./]+)?$"
)
# static/src/ holds what the stylesheet is built from (Sass, package.json): not for browsers.
BUILD_INPUTS = "src/"


class Digests:
    """Content digests of the files under one folder, recomputed when a file changes."""

    def __init__(self, root: str) -> None:
        """Serve names for the files below root."""
        self.root = root
        self._known: dict[str, tuple[int, int, str]] = {}
        self._encoded: dict[tuple[str, str], tuple[str, bytes]] = {}

    def digest(self, filename: str) -> str | None:
        """Return the digest of a file under the root, or None when there is no such file."""
        path = safe_join(self.root, filename)
        if path is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        known = self._known.get(filename)
        if known is not None and known[:2] == (info.st_mtime_ns, info.st_size):
            return known[2]
        with open(path, "rb") as file:
            digest = hashlib.file_digest(file, "sha256").hexdigest()[:DIGEST_LENGTH]
        self._known[filename] = (info.st_mtime_ns, info.st_size, digest)
        return digest

    def hashed(self, filename: str) -> str:
        """Return the name with the content's digest before the extension, if the file exists."""
        digest = None if filename.startswith(BUILD_INPUTS) else self.digest(filename)
        if digest is None:
            return filename
        folder, _, name = filename.rpartition("/")
        stem, _, suffix = name.rpartition(".")
        name = f"{stem}.{digest}.{suffix}" if stem else f"{name}.{digest}"
        return f"{folder}/{name}" if folder else name

    def encoded(self, filename: str, algorithm: str) -> tuple[str, bytes]:
        """Return the file's digest and its compressed bytes, compressed once per content."""
        known = self._encoded.get((filename, algorithm))
        if known is None or known[0] != self.digest(filename):
            with open(os.path.join(self.root, filename), "rb") as file:
                data = file.read()
            digest = hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH]
            known = digest, encode_whole(data, algorithm)
            self._encoded[(filename, algorithm)] = known
        return known

    def resolve(self, requested: str) -> tuple[str, bool] | None:
        """Return the file a URL names and whether its digest is current, or None if none."""
        if self.digest(requested) is not None:
            return requested, False
        match = _HASHED.match(requested)
        if match is None:
            return None
        filename = match["stem"] + (match["suffix"] or "")
        current = self.digest(filename)
        if current is None:
            return None
        # An older digest (a page from before a deploy) still gets the file, but not for a year.
        return filename, current == match["digest"]


def serve(filename: str) -> Response:
    """Send a static file: a year and `immutable` under its current digest, briefly otherwise."""
    digests: Digests = current_app.extensions["static_digests"]
    # One name per file: "./src/x" and "css/../src/x" are "src/x", which is not served.
    filename = posixpath.normpath(filename)
    found = digests.resolve(filename)
    if found is None or found[0].startswith(BUILD_INPUTS):
        abort(404)
    real, current = found
    max_age = YEAR if current else current_app.config["STATIC_MAX_AGE"]
    response = send_from_directory(current_app.static_folder or "", real, max_age=max_age)
    if current:
        response.cache_control.immutable = True
    response.vary.add("Accept-Encoding")
    algorithm = best_encoding()
    if (
        algorithm is not None
        and response.status_code == 200
        and response.mimetype in current_app.config["COMPRESS_MIMETYPES"]
        and (response.content_length or 0) >= current_app.config["COMPRESS_MIN_SIZE"]
    ):
        digest, body = digests.encoded(real, algorithm)
        response.close()
        response.direct_passthrough = False
        response.set_data(body)
        response.headers["Content-Encoding"] = algorithm
        response.set_etag(f"{digest}-{algorithm}")
        response.make_conditional(request)
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, kept out of the answers that carry static files.

    Flask-Login looks into the session after every request, upon which Flask adds `Vary: Cookie`:
    browsers and proxies would then keep a stylesheet once per cookie value, and fetch it again
    after every login or change of language. A static file never reads or changes the session
    (an error page for a missing one may, and is saved as any page).
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save the session, except on an answer that carries a static file."""
        if request.endpoint == "static" and response.status_code < 400:
            return
        super().save_session(app, session, response)


_SELECTOR = re.compile(r"([^{};]+)\{")
_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")


def css_classes(css: str) -> set[str]:
    """Return the class names a stylesheet's selectors mention."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    return {
        name
        for selector in _SELECTOR.findall(css)
        if not selector.lstrip().startswith("@")
        for name in _CLASS.findall(selector)
    }


def init_app(app: Flask) -> None:
    """Name static files by digest in url_for() and serve both kinds of name."""
    digests = Digests(app.static_folder or "")
    app.extensions["static_digests"] = digests
    app.view_functions["static"] = serve
    app.session_interface = SessionInterface()

    @app.url_defaults
    def hashed_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = digests.hashed(values["filename"])
