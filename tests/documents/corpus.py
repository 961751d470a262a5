"""Builders for benign and hostile upload samples, generated in memory.

Plain functions so any test (sniffing, upload views...) can reuse them::

    from tests.documents.corpus import make_pdf, make_pdf_with_js
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript, PageTrigger
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    StreamObject,
    TextStringObject,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------- valid files


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _blank_writer(pages: int = 1) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)  # A4 in points
    return writer


def make_pdf(pages: int = 1) -> bytes:
    """A valid, harmless PDF with ``pages`` blank A4 pages."""
    return _write(_blank_writer(pages))


def make_png(width: int = 32, height: int = 24, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "teal" if mode == "RGB" else 128).save(out, "PNG")
    return out.getvalue()


def make_jpeg(width: int = 32, height: int = 24) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(out, "JPEG", quality=85)
    return out.getvalue()


def make_encrypted_pdf_empty_user_password() -> bytes:
    """Encrypted with an owner password only: every reader opens it without asking."""
    writer = _blank_writer()
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="RC4-128")
    return _write(writer)


# ---------------------------------------------------------------- hostile PDFs


def make_pdf_with_js() -> bytes:
    """Document-level JavaScript (/Names /JavaScript name tree)."""
    writer = _blank_writer()
    writer.add_open_action(JavaScript("app.alert('pwned');"))
    return _write(writer)


def make_pdf_with_page_js() -> bytes:
    """JavaScript run when the first page opens (/AA on the page)."""
    writer = _blank_writer()
    writer.pages[0].add_action(PageTrigger("open"), JavaScript("app.alert(1);"))
    return _write(writer)


def make_pdf_with_launch() -> bytes:
    """/OpenAction launching an executable."""
    writer = _blank_writer()
    action = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Action"),
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("cmd.exe"),
        }
    )
    writer.root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return _write(writer)


def make_pdf_with_embedded_file() -> bytes:
    writer = _blank_writer()
    writer.add_attachment("invoice.exe", b"MZ\x90\x00 not really an executable")
    return _write(writer)


def make_pdf_with_xfa() -> bytes:
    writer = _blank_writer()
    xfa = StreamObject()
    xfa.set_data(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject(
        {
            NameObject("/Fields"): ArrayObject(),
            NameObject("/XFA"): writer._add_object(xfa),
        }
    )
    return _write(writer)


def make_pdf_with_hidden_js() -> bytes:
    """JavaScript whose names are #-escaped so a naive byte scan misses them.

    The escapes lengthen the file, so the xref offsets are wrong; lenient readers
    (and pypdf with strict=False) rebuild them.
    """
    data = make_pdf_with_js()
    return data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


def make_encrypted_pdf(password: str = "secret") -> bytes:
    """Needs a password to open: cannot be checked, so must be refused."""
    writer = _blank_writer()
    writer.encrypt(user_password=password, algorithm="RC4-128")
    return _write(writer)


def make_garbage_pdf() -> bytes:
    """Starts like a PDF, then nonsense."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"\nthis is not a pdf\n"


def make_pdf_without_pages() -> bytes:
    return _write(PdfWriter())


def make_html_as_pdf() -> bytes:
    """HTML (with script) that carries a real PDF further down: a polyglot."""
    return (
        b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script>\n"
        + make_pdf()
        + b"\n</body></html>\n"
    )


# -------------------------------------------------------------- hostile images


def make_polyglot_png() -> bytes:
    """A valid PNG with an HTML payload after IEND."""
    return make_png() + b"<html><script>alert(document.cookie)</script></html>"


def make_polyglot_jpeg() -> bytes:
    return make_jpeg() + b"%PDF-1.7\n" + make_pdf()


def make_jpeg_with_zero_padding() -> bytes:
    """Some scanners pad after EOI with zeros: harmless."""
    return make_jpeg() + b"\x00" * 64


def make_truncated_jpeg() -> bytes:
    data = make_jpeg(64, 64)
    return data[: len(data) // 2]


def make_truncated_png() -> bytes:
    data = make_png(64, 64)
    return data[: len(data) - 20]


def _png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(chunk_type + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", crc)


def make_png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A header claiming ``width`` x ``height`` pixels in a file of a few dozen bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 64)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


# --------------------------------------------------------------- other types


def make_html() -> bytes:
    return b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>"


def make_svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
        b'height="10"><script>alert(document.domain)</script></svg>'
    )


def make_gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8), 1).save(out, "GIF")
    return out.getvalue()


def make_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()
