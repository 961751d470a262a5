"""Compressed answers: pages and data in Brotli or gzip; compressed formats as they are."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from tests.security.security_world import browser_for, build_world

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


@pytest.fixture
def nominated(app):
    """A world whose student is nominated: the receiving partner may download everything."""
    return build_world(app, "nominated")


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_are_compressed_as_the_browser_asks(app, encoding):
    client = app.test_client()
    plain = client.get("/")
    assert "Content-Encoding" not in plain.headers
    response = client.get("/", headers={"Accept-Encoding": f"{encoding}, identity;q=0.5"})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    html = DECODE[encoding](response.get_data()).decode()
    assert html.startswith("<!doctype html>") and "</html>" in html
    assert len(response.get_data()) * 2 < len(html.encode())


def test_json_is_compressed(app):
    response = app.test_client().get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data()).startswith(b"{")


@pytest.mark.parametrize(
    ("path", "magic"),
    [
        ("/partner/nominations.pdf", b"%PDF-"),
        ("/partner/nominations.zip", b"PK"),
        ("/partner/nominations.xlsx", b"PK"),
        ("/documents/{document_id}", b"%PDF-"),
    ],
)
def test_compressed_formats_go_out_as_they_are(app, nominated, path, magic):
    browser = browser_for(app, nominated, "partner_receiving")
    response = browser.get(
        path.format(**nominated.values), headers={"Accept-Encoding": "gzip, deflate, br, zstd"}
    )
    assert response.status_code == 200, path
    assert "Content-Encoding" not in response.headers, path
    assert response.get_data().startswith(magic), path


def _stream_decoder(encoding: str):
    if encoding == "br":
        return brotli.Decompressor().process
    return zlib.decompressobj(wbits=zlib.MAX_WBITS | 16).decompress


@pytest.mark.parametrize("encoding", ["br", "gzip"])
@pytest.mark.parametrize(
    ("path", "start"),
    [
        ("/partner/nominations.csv", "\ufeffMobility ID,".encode()),
        ("/partner/nominations.xml", b"<?xml version='1.0' encoding='utf-8'?>\n<omobilities"),
    ],
)
def test_streamed_exports_still_stream_when_compressed(app, nominated, encoding, path, start):
    browser = browser_for(app, nominated, "partner_receiving")
    whole = browser.get(path).get_data()
    assert whole.lower().startswith(start.lower())

    response = browser.client.get(path, headers={"Accept-Encoding": encoding}, buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Encoding"] == encoding
    assert "Content-Length" not in response.headers
    chunks = iter(response.response)
    decode = _stream_decoder(encoding)
    # The first piece on the wire already reads as the start of the document: nothing waits
    # for the rest to be produced (a compressor that is not flushed sends only its header).
    first = decode(next(chunks))
    assert first.lower().startswith(start.lower()), first[:80]
    rest = b"".join(decode(chunk) for chunk in chunks)
    response.close()
    assert first + rest == whole
