"""Offer letters as PDF: WeasyPrint with one named typeface and a fetcher that reads only static/.

The renderer is built once per process and reused for every letter: one `CSS` object and one
`FontConfiguration`, which is what keeps a letter close to the cost of a bare WeasyPrint render.
It needs no application context, so worker processes of a batch use it as they are.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import sys
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import qrcode
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal import STATIC_FOLDER

# One family for every letter of every language: Noto Serif (Debian's fonts-noto-core) has all
# of Kazakh (ә ғ қ ң ө ұ ү һ і), Kyrgyz (ң ө ү) and Russian. Naming it, and nothing after it,
# means no glyph can fall back to another font.
LETTER_FONT = "Noto Serif"
FONT_PACKAGE = "fonts-noto-core"

STATIC_ROOT = STATIC_FOLDER  # static/ of the checkout, or of the installed package
LETTER_CSS = STATIC_ROOT / "css" / "letter.css"

_QR_PREFIX = "data:image/png;base64,"
_ALLOWED_TYPES = frozenset({"image/png", "image/jpeg", "image/svg+xml", "text/css"})


class FetchRefused(ValueError):
    """A letter asked for something outside the project's static files."""


class StaticOnlyFetcher(URLFetcher):
    """Fetch files under static/ and the letter's inline QR PNG; no network, no other file."""

    def __init__(self, root: Path = STATIC_ROOT) -> None:
        """Serve only files below root."""
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.root = root.resolve()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Return a static file's bytes, or refuse."""
        if url.startswith(_QR_PREFIX):
            # The letter's own QR code (qr_png): a small PNG inline, nothing fetched.
            try:
                data = base64.b64decode(url[len(_QR_PREFIX) :], validate=True)
            except binascii.Error as exc:
                raise FetchRefused("malformed inline image") from exc
            if len(data) > 20_000:
                raise FetchRefused("inline image too large")
            return URLFetcherResponse(url, data, headers={"Content-Type": "image/png"})
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"letters may not load {url[:80]!r}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise FetchRefused(f"letters may not load {url[:80]!r}")
        media_type = mimetypes.guess_type(path.name)[0]
        if media_type not in _ALLOWED_TYPES:
            raise FetchRefused(f"letters may not load {path.name!r}")
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), headers={"Content-Type": media_type}
        )


class LetterFontMissing(RuntimeError):
    """A letter would be set, wholly or in part, in another typeface than the letter font."""


class Renderer:
    """Turn letter HTML into PDF bytes with a shared stylesheet and font configuration."""

    def __init__(self, stylesheet: Path = LETTER_CSS, root: Path = STATIC_ROOT) -> None:
        """Load the stylesheet and fonts once."""
        self.fetcher = StaticOnlyFetcher(root)
        self.fonts = FontConfiguration()
        self.css = CSS(
            filename=str(stylesheet), font_config=self.fonts, url_fetcher=self.fetcher
        )
        self.base_url = self.fetcher.root.as_uri() + "/"

    def render(self, html: str) -> bytes:
        """Return the PDF of one letter, or refuse one not set wholly in the letter font."""
        from portal.offers.typeface import unprintable

        # A character no installed font has would print as an empty box, in the letter font:
        # the embedded fonts below cannot tell, so the text is compared with the typeface.
        missing = unprintable(lxml.html.fromstring(html).text_content())
        if missing:
            raise LetterFontMissing(
                f"{LETTER_FONT} has no glyph for {' '.join(missing[:10])}: nothing was issued"
            )
        document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
            stylesheets=[self.css], font_config=self.fonts
        )
        pdf = document.write_pdf()
        # WeasyPrint quietly takes another font when the named one is not installed, or lacks a
        # glyph: a letter issued so would be in the wrong typeface for good. The fonts it
        # embedded say what was used.
        others = sorted({font.family for font in document.fonts.values()} - {LETTER_FONT})
        if others:
            raise LetterFontMissing(
                f"the letter would be set in {', '.join(others)} instead of {LETTER_FONT}: "
                f"install {FONT_PACKAGE} where letters are rendered; nothing was issued"
            )
        return pdf


_renderer: Renderer | None = None
_renderer_pid: int | None = None


def renderer() -> Renderer:
    """Return this process's renderer, building it on first use (and again after a fork)."""
    global _renderer, _renderer_pid
    if _renderer is None or _renderer_pid != os.getpid():
        _renderer, _renderer_pid = Renderer(), os.getpid()
    return _renderer


def pool_process() -> None:
    """Prepare a rendering process of a batch's pool: die with its parent, load the fonts."""
    # The pool's processes are children of the forkserver, which exits when every process that
    # holds its "alive" pipe has gone. Each child is handed that pipe too (so that it could start
    # processes itself, which a renderer never does): let go of it, so that the forkserver exits
    # with the worker that started it, and die with the forkserver. Without this a killed worker
    # leaves its rendering processes behind, a quarter of a gigabyte rendering nothing.
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    alive = getattr(server, "_forkserver_alive_fd", None)
    if alive is not None:
        os.close(alive)
        server._forkserver_alive_fd = None
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the forkserver died before the line above took effect
            os._exit(1)
    renderer()


def render_pdf(html: str) -> bytes:
    """Render one letter in this process (also the entry point of batch worker processes)."""
    global _renderer
    try:
        return renderer().render(html)
    except LetterFontMissing:
        # Fonts are read when a renderer is made: make a new one for the next letter, so that
        # installing the font fixes the next run without restarting the server's workers.
        _renderer = None
        raise


def qr_png(data: str) -> str:
    """Return a QR code for data as a data: URI of a one-bit PNG, one pixel per module.

    The mask is fixed rather than chosen by scoring all eight (any mask is valid to readers),
    and the letter scales the image up with `image-rendering: pixelated`: a tiny bitmap is far
    cheaper for WeasyPrint to draw than an SVG with a path per module.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=2
    )
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
