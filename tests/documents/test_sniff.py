"""Content sniffing of uploads and cleaning of uploaded filenames."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from portal.documents import sniff as sniff_module
from portal.documents.sniff import (
    Rejection,
    Sniffed,
    clean_original_name,
    safe_download_name,
    sniff,
)
from tests.documents.corpus import (
    make_encrypted_pdf,
    make_encrypted_pdf_empty_user_password,
    make_garbage_pdf,
    make_gif,
    make_html,
    make_html_as_pdf,
    make_jpeg,
    make_jpeg_with_zero_padding,
    make_pdf,
    make_pdf_with_embedded_file,
    make_pdf_with_hidden_js,
    make_pdf_with_js,
    make_pdf_with_launch,
    make_pdf_with_page_js,
    make_pdf_with_xfa,
    make_pdf_without_pages,
    make_png,
    make_png_bomb,
    make_polyglot_jpeg,
    make_polyglot_png,
    make_svg_with_script,
    make_truncated_jpeg,
    make_truncated_png,
    make_zip,
)

MB = 1024 * 1024


def check(data: bytes, **kwargs: int) -> Sniffed | Rejection:
    kwargs.setdefault("max_bytes", 10 * MB)
    return sniff(data, **kwargs)


# ------------------------------------------------------------------- accepted


def test_valid_pdf() -> None:
    data = make_pdf(pages=3)
    result = check(data)
    assert result == Sniffed(
        media_type="application/pdf",
        extension=".pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        pages=3,
        width=None,
        height=None,
    )


def test_valid_png() -> None:
    data = make_png(32, 24)
    result = check(data)
    assert isinstance(result, Sniffed)
    assert (result.media_type, result.extension) == ("image/png", ".png")
    assert (result.width, result.height, result.pages) == (32, 24, None)
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("mode", ["L", "RGBA", "P"])
def test_png_modes(mode: str) -> None:
    assert isinstance(check(make_png(10, 10, mode=mode)), Sniffed)


def test_valid_jpeg() -> None:
    data = make_jpeg(40, 30)
    result = check(data)
    assert isinstance(result, Sniffed)
    assert (result.media_type, result.extension) == ("image/jpeg", ".jpg")
    assert (result.width, result.height, result.pages) == (40, 30, None)


def test_jpeg_with_zero_padding_after_eoi_is_fine() -> None:
    assert isinstance(check(make_jpeg_with_zero_padding()), Sniffed)


def test_multi_picture_jpeg_from_phone_is_fine() -> None:
    from PIL import Image

    out = io.BytesIO()
    first, second = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (40, 30), "blue")
    first.save(out, "MPO", save_all=True, append_images=[second])
    result = check(out.getvalue())
    assert isinstance(result, Sniffed)
    assert result.media_type == "image/jpeg"


def test_pdf_with_owner_password_only_is_readable() -> None:
    result = check(make_encrypted_pdf_empty_user_password())
    assert isinstance(result, Sniffed)
    assert result.pages == 1


def test_bytearray_and_memoryview_accepted() -> None:
    data = make_png()
    assert isinstance(check(bytearray(data)), Sniffed)
    assert isinstance(check(memoryview(data)), Sniffed)


def test_not_bytes_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        sniff("%PDF-1.7", max_bytes=100)  # type: ignore[arg-type]


def test_sniffed_is_frozen() -> None:
    result = check(make_png())
    assert isinstance(result, Sniffed)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.size = 1  # type: ignore[misc]


def test_rejection_is_a_string() -> None:
    assert Rejection.TOO_LARGE == "too_large"
    assert isinstance(Rejection.CORRUPT, str)


# ------------------------------------------------------------------- size


def test_empty() -> None:
    assert check(b"") is Rejection.EMPTY


@pytest.mark.parametrize("maker", [make_pdf, make_png, make_jpeg])
def test_size_limit_is_inclusive(maker: Callable[[], bytes]) -> None:
    data = maker()
    assert isinstance(sniff(data, max_bytes=len(data)), Sniffed)
    assert sniff(data, max_bytes=len(data) - 1) is Rejection.TOO_LARGE
    assert sniff(data + b"\x00", max_bytes=len(data)) is Rejection.TOO_LARGE


def test_size_checked_before_type() -> None:
    assert sniff(b"x" * 11, max_bytes=10) is Rejection.TOO_LARGE


# ------------------------------------------------------------------- types


@pytest.mark.parametrize(
    "maker", [make_html, make_svg_with_script, make_gif, make_zip], ids=lambda f: f.__name__
)
def test_other_types_are_unknown(maker: Callable[[], bytes]) -> None:
    assert check(maker()) is Rejection.UNKNOWN_TYPE


def test_name_and_declared_type_do_not_matter() -> None:
    # there is no name/type parameter at all: HTML "renamed" to .pdf is just HTML
    assert check(make_html()) is Rejection.UNKNOWN_TYPE
    assert isinstance(check(make_png()), Sniffed)


def test_html_with_pdf_inside_is_unknown() -> None:
    data = make_html_as_pdf()
    assert b"%PDF-" in data[:1024]  # a lenient reader would open it as a PDF
    assert check(data) is Rejection.UNKNOWN_TYPE


def test_pdf_magic_must_be_at_offset_zero() -> None:
    assert check(b" " + make_pdf()) is Rejection.UNKNOWN_TYPE
    assert check(b"\xef\xbb\xbf" + make_png()) is Rejection.UNKNOWN_TYPE


@pytest.mark.parametrize(
    "data",
    [b"%PDF", b"\x89PNG\r\n\x1a", b"\xff\xd8", b"GIF89a", b"PK\x03\x04", b"\x00" * 100],
    ids=["pdf-prefix", "png-prefix", "jpeg-prefix", "gif", "zip", "zeros"],
)
def test_short_or_partial_magic_is_unknown(data: bytes) -> None:
    assert check(data) is Rejection.UNKNOWN_TYPE


# ------------------------------------------------------------------- corrupt


@pytest.mark.parametrize(
    "data",
    [
        make_garbage_pdf(),
        b"%PDF-1.7\n",
        b"%PDF-",
        make_pdf()[:200],
        make_pdf_without_pages(),
        b"\x89PNG\r\n\x1a\n",
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 20,
        b"\xff\xd8\xff",
        b"\xff\xd8\xff\xe0" + b"garbage" * 20,
        make_truncated_jpeg(),
        make_truncated_png(),
    ],
    ids=[
        "pdf-garbage",
        "pdf-header-only",
        "pdf-magic-only",
        "pdf-truncated",
        "pdf-no-pages",
        "png-signature-only",
        "png-garbage",
        "jpeg-magic-only",
        "jpeg-garbage",
        "jpeg-truncated",
        "png-truncated",
    ],
)
def test_corrupt(data: bytes) -> None:
    assert check(data) is Rejection.CORRUPT


def test_png_with_bad_crc_is_corrupt() -> None:
    data = bytearray(make_png())
    data[29] ^= 0xFF  # inside the IHDR CRC
    assert check(bytes(data)) is Rejection.CORRUPT


@pytest.mark.parametrize(
    "payload",
    [
        b"<script>alert(1)</script>",
        b"<html>",
        b"<SCRIPT src=//evil>",
        b"%PDF-1.4",
        b"A" * 17,  # anything non-trivial
    ],
)
def test_png_with_trailing_payload_is_corrupt(payload: bytes) -> None:
    assert check(make_png() + payload) is Rejection.CORRUPT


def test_polyglot_png() -> None:
    assert check(make_polyglot_png()) is Rejection.CORRUPT


def test_polyglot_jpeg() -> None:
    assert check(make_polyglot_jpeg()) is Rejection.CORRUPT


def test_jpeg_payload_hidden_before_a_fake_final_eoi() -> None:
    data = make_jpeg() + b"<script>alert(1)</script>\xff\xd9"
    assert check(data) is Rejection.CORRUPT


def test_small_trailing_padding_is_tolerated() -> None:
    assert isinstance(check(make_png() + b"\x00" * 100), Sniffed)
    assert isinstance(check(make_png() + b"\r\n"), Sniffed)


# ------------------------------------------------------------------- bombs


def test_png_bomb_header_is_refused_without_decoding() -> None:
    data = make_png_bomb(20_000, 20_000)
    assert len(data) < 200
    assert check(data) is Rejection.IMAGE_TOO_BIG


def test_pillow_decompression_bomb_warning_is_not_raised() -> None:
    # 100 Mpx is past Pillow's own warning threshold; with our limit raised, the
    # DecompressionBombWarning (an error under filterwarnings=error) must be mapped.
    assert check(make_png_bomb(10_000, 10_000), max_pixels=10**9) is Rejection.IMAGE_TOO_BIG


def test_image_over_our_limit_but_under_pillows() -> None:
    assert check(make_png_bomb(8_000, 6_000)) is Rejection.IMAGE_TOO_BIG  # 48 Mpx > 40 Mpx


def test_max_pixels_parameter() -> None:
    data = make_jpeg(40, 30)
    assert isinstance(check(data, max_pixels=1200), Sniffed)
    assert check(data, max_pixels=1199) is Rejection.IMAGE_TOO_BIG


# ------------------------------------------------------------------- active PDFs


@pytest.mark.parametrize(
    "maker",
    [
        make_pdf_with_js,
        make_pdf_with_page_js,
        make_pdf_with_launch,
        make_pdf_with_embedded_file,
        make_pdf_with_xfa,
        make_pdf_with_hidden_js,
    ],
    ids=lambda f: f.__name__,
)
def test_active_content(maker: Callable[[], bytes]) -> None:
    assert check(maker()) is Rejection.ACTIVE_CONTENT


@pytest.mark.parametrize(
    "maker",
    [
        make_pdf_with_js,
        make_pdf_with_page_js,
        make_pdf_with_launch,
        make_pdf_with_embedded_file,
        make_pdf_with_xfa,
        make_pdf_with_hidden_js,
    ],
    ids=lambda f: f.__name__,
)
def test_each_active_content_check_works_alone(maker: Callable[[], bytes]) -> None:
    data = maker()
    with sniff_module._quiet_pypdf():
        reader = PdfReader(io.BytesIO(data), strict=False)
        assert sniff_module._pdf_has_active_content(reader)
    assert sniff_module._raw_pdf_has_active_content(data)


def test_hidden_js_has_no_plain_js_names() -> None:
    data = make_pdf_with_hidden_js()
    assert b"/JavaScript" not in data
    assert b"/JS " not in data


def test_clean_pdf_passes_both_checks() -> None:
    data = make_pdf()
    reader = PdfReader(io.BytesIO(data))
    assert not sniff_module._pdf_has_active_content(reader)
    assert not sniff_module._raw_pdf_has_active_content(data)


def test_name_that_merely_starts_with_js_is_not_flagged() -> None:
    assert not sniff_module._raw_pdf_has_active_content(b"<< /JSON 1 /JavaScripts 2 >>")
    assert sniff_module._raw_pdf_has_active_content(b"<</S/JavaScript/JS(x)>>")


def test_encrypted_pdf() -> None:
    assert check(make_encrypted_pdf()) is Rejection.ENCRYPTED


# ------------------------------------------------------------------- never raises


_MAGICS = [b"", b"%PDF-", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0"]
_SAMPLES = [make_pdf(), make_png(), make_jpeg(), make_pdf_with_js(), make_encrypted_pdf()]


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SAMPLES)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(data)))
    return bytes(data[:cut])


hostile_bytes = st.one_of(
    st.binary(max_size=2048),
    st.tuples(st.sampled_from(_MAGICS), st.binary(max_size=2048)).map(b"".join),
    mutated_sample(),
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=hostile_bytes)
def test_sniff_never_raises(data: bytes) -> None:
    result = sniff(data, max_bytes=4096)
    assert isinstance(result, (Sniffed, Rejection))
    if isinstance(result, Sniffed):
        assert result.size == len(data)
        assert result.media_type in {"application/pdf", "image/jpeg", "image/png"}


# ------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\windows\\win.ini", "win.pdf"),
        ("C:\\Users\\ana\\transcript.pdf", "transcript.pdf"),
        ("evil\x00.exe", "evil.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.pdf"),
        ("a\u2066b\u2069c\u200e\u200f.pdf", "abc.pdf"),
        ("Справка об обучении.pdf", "Справка об обучении.pdf"),
        (".htaccess", "htaccess.pdf"),
        ("  many   spaces\tand\nnewlines .pdf", "many spaces and newlines.pdf"),
        ("scan.JPG", "scan.pdf"),
        ("Mr. Smith letter", "Mr. Smith letter.pdf"),
        ('quote".pdf', "quote_.pdf"),
        ("", "document.pdf"),
        ("...", "document.pdf"),
        ("\u202e\x00/", "document.pdf"),
    ],
)
def test_safe_download_name(original: str, expected: str) -> None:
    assert safe_download_name(original, ".pdf") == expected


def test_safe_download_name_uses_sniffed_extension() -> None:
    assert safe_download_name("photo.pdf", ".jpg") == "photo.jpg"
    assert safe_download_name("photo", ".png") == "photo.png"


def test_safe_download_name_is_nfc() -> None:
    decomposed = "e\u0301tude.pdf"  # e + combining acute
    name = safe_download_name(decomposed, ".pdf")
    assert name == "\u00e9tude.pdf"
    assert unicodedata.is_normalized("NFC", name)


def test_safe_download_name_length() -> None:
    name = safe_download_name("ж" * 500 + ".pdf", ".pdf")
    assert len(name) == 120
    assert name.endswith(".pdf")


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("Справка об обучении.pdf", "Справка об обучении.pdf"),
        ("dir/sub\\file.tar.gz", "file.tar.gz"),
        ("\x07bell\x1b[31m.pdf", "bell[31m.pdf"),
        ("", "document"),
    ],
)
def test_clean_original_name(original: str, expected: str) -> None:
    assert clean_original_name(original) == expected


def test_clean_original_name_length_keeps_extension() -> None:
    name = clean_original_name("a" * 400 + ".docx")
    assert len(name) == 255
    assert name.endswith(".docx")


@settings(max_examples=200, deadline=None, database=None)
@given(original=st.text(max_size=300))
def test_names_are_always_safe(original: str) -> None:
    for name in (safe_download_name(original, ".png"), clean_original_name(original)):
        assert name
        assert "/" not in name and "\\" not in name
        assert not name.startswith(".")
        assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name)
        assert not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in name)
        assert name == " ".join(name.split())
    assert len(safe_download_name(original, ".png")) <= 120
    assert safe_download_name(original, ".png").endswith(".png")
    assert len(clean_original_name(original)) <= 255
