"""Compressed answers: whole bodies through Flask-Compress, streams chunk by chunk.

Flask-Compress compresses a body it holds whole (pages, JSON) in Brotli or gzip, as the browser
asks. Static files are compressed once per content, as tightly as possible, by portal.assets.
A streamed download (the CSV and EWP XML exports) is left to the hook below, which compresses
each chunk and flushes it at once: a compressor left to itself keeps hundreds of kilobytes back,
and the first bytes of a long export would wait for it. Only the types in COMPRESS_MIMETYPES are
compressed: PDF, XLSX, ZIP and images are compressed already and go out as they are.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator

import brotli
from flask import Flask, Response, current_app, request
from flask_compress import Compress

compress = Compress()

ALGORITHMS = ("br", "gzip")


def best_encoding() -> str | None:
    """Return the encoding the request accepts that we prefer, or None for the body as it is."""
    return request.accept_encodings.best_match(ALGORITHMS)


def encode_whole(data: bytes, algorithm: str) -> bytes:
    """Compress a file as tightly as the encoding allows: done once per file and process."""
    if algorithm == "br":
        return brotli.compress(data, quality=11)
    return gzip.compress(data, compresslevel=9, mtime=0)


def _flushed(chunks: Iterable[bytes], algorithm: str) -> Iterator[bytes]:
    """Compress a stream, handing on every chunk as soon as it arrives."""
    if algorithm == "br":
        brotli_stream = brotli.Compressor(quality=4)
        for chunk in chunks:
            out = brotli_stream.process(chunk) + brotli_stream.flush()
            if out:
                yield out
        yield brotli_stream.finish()
        return
    gzip_stream = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for chunk in chunks:
        out = gzip_stream.compress(chunk) + gzip_stream.flush(zlib.Z_SYNC_FLUSH)
        if out:
            yield out
    yield gzip_stream.flush()


def compress_stream(response: Response) -> Response:
    """Compress a streamed text answer chunk by chunk, if the client accepts it."""
    if (
        not response.is_streamed
        # A file (send_file): portal.assets compresses static files whole; the rest are binary.
        or response.direct_passthrough
        or not 200 <= response.status_code < 300
        or "Content-Encoding" in response.headers
        or response.mimetype not in current_app.config["COMPRESS_MIMETYPES"]
        or request.method == "HEAD"
    ):
        return response
    algorithm = best_encoding()
    if algorithm is None:
        return response
    original = response.response
    response.response = _flushed(response.iter_encoded(), algorithm)
    if hasattr(original, "close"):
        # The export's generator ends its database cursor and request context when closed.
        response.call_on_close(original.close)
    response.direct_passthrough = False
    response.headers["Content-Encoding"] = algorithm
    response.headers.pop("Content-Length", None)
    return response


def init_app(app: Flask) -> None:
    """Compress whole answers with Flask-Compress and streamed ones here."""
    compress.init_app(app)
    app.after_request(compress_stream)
