"""Recognise uploaded documents by their content, never by name or declared type.

Only PDF, JPEG and PNG are accepted.  :func:`sniff` looks at the bytes, parses
them with pypdf or Pillow and returns either a :class:`Sniffed` description or
a :class:`Rejection` reason; it never raises on hostile input.

:func:`safe_download_name` and :func:`clean_original_name` turn a browser
supplied filename into something safe to store, show and put in a
``Content-Disposition`` header (via RFC 5987 ``filename*``).

Pure functions: no Flask, no database.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, WrongPasswordError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "Rejection",
    "Sniffed",
    "clean_original_name",
    "safe_download_name",
    "sniff",
]

DEFAULT_MAX_PIXELS = 40_000_000

PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class Rejection(str, enum.Enum):
    """Why an upload was refused."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNKNOWN_TYPE = "unknown_type"
    CORRUPT = "corrupt"
    ACTIVE_CONTENT = "active_content"
    IMAGE_TOO_BIG = "image_too_big"
    ENCRYPTED = "encrypted"


@dataclass(frozen=True)
class Sniffed:
    """An accepted upload."""

    media_type: str  # "application/pdf" | "image/jpeg" | "image/png"
    extension: str  # ".pdf" | ".jpg" | ".png"
    size: int
    sha256: str  # hex digest
    pages: int | None  # PDFs only
    width: int | None  # images only
    height: int | None  # images only


def sniff(
    data: bytes, *, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Sniffed | Rejection:
    """Identify ``data`` as PDF, JPEG or PNG, or say why it is refused.

    Never raises for any bytes-like input (a non bytes-like argument is a
    programming error and raises ``TypeError``).
    """
    if not isinstance(data, bytes):
        if not isinstance(data, (bytearray, memoryview)):
            raise TypeError(f"sniff() needs bytes, not {type(data).__name__}")
        data = bytes(data)
    if not data:
        return Rejection.EMPTY
    if len(data) > max_bytes:
        return Rejection.TOO_LARGE
    try:
        if data.startswith(PDF_MAGIC):
            return _sniff_pdf(data)
        if data.startswith(PNG_MAGIC):
            return _sniff_image(data, "PNG", max_pixels)
        if data.startswith(JPEG_MAGIC):
            return _sniff_image(data, "JPEG", max_pixels)
    except Exception:
        return Rejection.CORRUPT
    return Rejection.UNKNOWN_TYPE


def _accepted(
    data: bytes,
    media_type: str,
    extension: str,
    *,
    pages: int | None = None,
    width: int | None = None,
    height: int | None = None,
) -> Sniffed:
    return Sniffed(
        media_type=media_type,
        extension=extension,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pages=pages,
        width=width,
        height=height,
    )


# --------------------------------------------------------------------------- PDF

# A PDF name ends at whitespace or a delimiter.
_NAME_END = rb"(?=[\x00\t\n\x0c\r ()<>\[\]{}/%]|$)"
_RAW_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia\w*|XFA)" + _NAME_END)
# Names written with #xx escapes (e.g. /J#61vaScript) are decoded and re-checked.
_RAW_ESCAPED_NAME = re.compile(
    rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*#[0-9A-Fa-f]{2}[^\x00\t\n\x0c\r ()<>\[\]{}/%]*"
)
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")

# Dictionary keys that mean active or embedded content wherever they appear.
_ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/XFA",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/EF",
        "/RichMediaContent",
        "/RichMediaSettings",
    }
)
# Values of /S (action type), /Type or /Subtype that mean active content.
_ACTIVE_VALUES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/SubmitForm",
        "/GoToE",
        "/RichMedia",
        "/RichMediaExecute",
        "/EmbeddedFile",
        "/FileAttachment",
    }
)
_TYPED_KEYS = frozenset({"/S", "/Type", "/Subtype"})
# Objects visited while walking the document; beyond this we give up (CORRUPT).
_MAX_PDF_NODES = 500_000


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's logger and any warnings it emits during a parse."""
    logger = logging.getLogger("pypdf")
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(previous)


def _sniff_pdf(data: bytes) -> Sniffed | Rejection:
    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                return Rejection.ENCRYPTED
            pages = len(reader.pages)
            if pages < 1:
                return Rejection.CORRUPT
            active = _pdf_has_active_content(reader)
        except (DependencyError, FileNotDecryptedError, WrongPasswordError):
            # e.g. AES encryption without a crypto library: we cannot read it.
            return Rejection.ENCRYPTED
        except _TooComplexError:
            return Rejection.CORRUPT
        except Exception:
            return Rejection.CORRUPT
    if active or _raw_pdf_has_active_content(data):
        return Rejection.ACTIVE_CONTENT
    return _accepted(data, "application/pdf", ".pdf", pages=pages)


class _TooComplexError(Exception):
    pass


def _resolve(obj: object) -> object:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _pdf_has_active_content(reader: PdfReader) -> bool:
    """Walk every object reachable from the catalog looking for active content."""
    root = _resolve(reader.trailer["/Root"])
    if not isinstance(root, DictionaryObject):
        raise _TooComplexError("catalog is not a dictionary")
    # additional actions (open/close/print... triggers) on the document or a page
    if "/AA" in root or any("/AA" in page for page in reader.pages):
        return True

    seen: set[tuple[int, int]] = set()
    stack: list[PdfObject | object] = [root]
    budget = _MAX_PDF_NODES
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        budget -= 1
        if budget < 0:
            raise _TooComplexError("too many objects")
        if isinstance(obj, DictionaryObject):  # includes streams (data not decoded)
            for raw_key, value in obj.items():
                key_name = str(raw_key)
                if key_name in _ACTIVE_KEYS:
                    return True
                if key_name in _TYPED_KEYS:
                    value = _resolve(value)
                    if isinstance(value, NameObject) and str(value) in _ACTIVE_VALUES:
                        return True
                    if key_name == "/Type" and str(value) == "/Page" and "/AA" in obj:
                        return True
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return False


def _raw_pdf_has_active_content(data: bytes) -> bool:
    """Cheap second check on the raw bytes (misses compressed object streams)."""
    if _RAW_ACTIVE.search(data):
        return True
    for match in _RAW_ESCAPED_NAME.finditer(data):
        decoded = _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(0))
        if _RAW_ACTIVE.fullmatch(decoded):
            return True
    return False


# ------------------------------------------------------------------------ images

_IMAGE_TYPES = {
    "PNG": ("image/png", ".png", frozenset({"PNG"})),
    "JPEG": ("image/jpeg", ".jpg", frozenset({"JPEG", "MPO"})),
}
_TRAILER_MARKERS = (b"<script", b"<html", b"%pdf")
_TRIVIAL_TRAILER = 16
_MAX_EXTRA_JPEG_STREAMS = 8  # MPO (phone cameras) appends further JPEG streams


def _sniff_image(data: bytes, kind: str, max_pixels: int) -> Sniffed | Rejection:
    media_type, extension, formats = _IMAGE_TYPES[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # Image.open reads only the header: size is known before any decoding.
            with Image.open(io.BytesIO(data), formats=[kind]) as im:
                width, height = im.size
                actual_format = im.format
                if width * height > max_pixels:
                    return Rejection.IMAGE_TOO_BIG
                if width < 1 or height < 1 or actual_format not in formats:
                    return Rejection.CORRUPT
                if _image_has_bad_trailer(data, kind, actual_format):
                    return Rejection.CORRUPT
                im.verify()
            with Image.open(io.BytesIO(data), formats=[kind]) as im:
                if im.size != (width, height):
                    return Rejection.CORRUPT
                im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return Rejection.IMAGE_TOO_BIG
        except Exception:
            return Rejection.CORRUPT
    return _accepted(data, media_type, extension, width=width, height=height)


def _image_has_bad_trailer(data: bytes, kind: str, actual_format: str | None) -> bool:
    if kind == "PNG":
        end = _png_end(data)
    else:
        end = _jpeg_end(data, 0)
        if end is not None and actual_format == "MPO":
            for _ in range(_MAX_EXTRA_JPEG_STREAMS):
                if not data.startswith(JPEG_MAGIC, end):
                    break
                end = _jpeg_end(data, end)
                if end is None:
                    break
    if end is None:
        return True
    return _suspicious_trailer(data[end:])


def _suspicious_trailer(tail: bytes) -> bool:
    lowered = tail.lower()
    if any(marker in lowered for marker in _TRAILER_MARKERS):
        return True
    return len(tail) > _TRIVIAL_TRAILER and tail.strip(b"\x00") != b""


def _png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk, or None if the chunk list is broken."""
    pos = len(PNG_MAGIC)
    size = len(data)
    while pos + 8 <= size:
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk_type = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > size:
            return None
        if chunk_type == b"IEND":
            return end
        pos = end
    return None


# In entropy-coded data, 0xFF is followed by 0x00 (stuffing), RSTn or more 0xFF.
_JPEG_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _jpeg_end(data: bytes, start: int) -> int | None:
    """Offset just past the EOI marker of the JPEG stream at ``start``, or None."""
    size = len(data)
    if data[start : start + 2] != b"\xff\xd8":
        return None
    pos = start + 2
    while pos < size:
        if data[pos] != 0xFF:
            return None
        while pos < size and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= size:
            return None
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos
        if marker in _JPEG_STANDALONE:
            continue
        if pos + 2 > size:
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            return None
        pos += length
        if pos > size:
            return None
        if marker == 0xDA:  # SOS: skip the entropy-coded segment
            found = _JPEG_MARKER_IN_SCAN.search(data, pos)
            if found is None:
                return None
            pos = found.start()
    return None


# ------------------------------------------------------------------------- names

_BIDI_AND_INVISIBLE = frozenset(
    {
        *range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
        *range(0x2066, 0x206A),  # LRI RLI FSI PDI
        0x200E,  # LRM
        0x200F,  # RLM
        0x061C,  # ALM
        0xFEFF,  # BOM / zero width no-break space
    }
)
# Characters Windows refuses in filenames; harmless in filename* but ugly in a save dialog.
_RESERVED = re.compile(r'[<>:"|?*]')
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
)


def _clean(original: object) -> str:
    if not isinstance(original, str):
        return ""
    name = unicodedata.normalize("NFC", original)
    name = re.split(r"[/\\]", name)[-1]  # drop any path part
    chars = []
    for ch in name:
        category = unicodedata.category(ch)
        if ch.isspace() or category in ("Zl", "Zp"):
            chars.append(" ")
        elif ord(ch) in _BIDI_AND_INVISIBLE or category in ("Cc", "Cs"):
            continue
        else:
            chars.append(ch)
    name = " ".join("".join(chars).split())
    return _strip_edges(name)


def _strip_edges(name: str) -> str:
    # leading dots hide files / walk up; trailing dots and spaces confuse Windows
    return name.lstrip(". ").rstrip(". ")


def _split_extension(name: str) -> tuple[str, str]:
    match = _EXTENSION.search(name)
    if match and match.start() > 0:
        return name[: match.start()], match.group(0)
    return name, ""


def _fit(stem: str, extension: str, limit: int) -> str:
    stem = _strip_edges(stem[: max(limit - len(extension), 0)])
    return stem + extension if stem else ""


def safe_download_name(original: str, extension: str) -> str:
    """A filename for ``Content-Disposition`` with the sniffed ``extension``.

    Path parts, control and bidi characters, leading dots are removed, whitespace
    collapsed, non-ASCII letters kept; at most 120 characters.
    """
    extension = "." + re.sub(r"[^A-Za-z0-9]", "", extension or "").lower()
    if extension == ".":
        extension = ""
    stem, _ = _split_extension(_RESERVED.sub("_", _clean(original)))
    stem = _strip_edges(stem)
    if stem.upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    return _fit(stem, extension, 120) or "document" + extension


def clean_original_name(original: str) -> str:
    """The uploaded name, cleaned for storing and showing (at most 255 characters)."""
    name = _clean(original)
    stem, extension = _split_extension(name)
    return _fit(stem, extension, 255) or _fit(name, "", 255) or "document"
