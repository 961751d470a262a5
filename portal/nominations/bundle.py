"""The nominees' documents as one ZIP, streamed, with an index and names safe on every system."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator

from portal.documents.models import Document
from portal.exports import BOM, safe_text
from portal.nominations.models import Nomination
from portal.storage import get_storage

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_part(text: str, fallback: str) -> str:
    """Return a file-name part of ASCII letters, digits, dot, dash and underscore only.

    No path separators, no "..", no control or bidirectional characters: whatever a student
    typed, the archive unpacks where it is asked to and nowhere else.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_text).strip("._-")[:60]
    return cleaned or fallback


class _Sink:
    """A write-only stream that hands over what was written since the last call."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the chunks are taken by take()."""

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def documents_zip(
    nominations: Iterable[Nomination], documents_of
) -> Iterator[bytes]:
    """Yield a ZIP of each nominee's current documents, one folder each, and index.csv."""
    sink = _Sink()
    storage = get_storage()
    index = io.StringIO()
    writer = csv.writer(index)
    index.write(BOM)
    writer.writerow(["omobility_id", "student", "file", "kind", "original_name", "sha256"])
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for nomination in nominations:
            folder = (
                safe_part(nomination.latin_name.replace(" ", "_"), "student")
                + "_"
                + safe_part(nomination.omobility_id[:8], "id")
            )
            document: Document
            for document in documents_of(nomination):
                name = (
                    f"{folder}/{safe_part(document.kind, 'document')}-{document.id}"
                    f"{document.extension}"
                )
                archive.writestr(name, storage.load(document.storage_key))
                writer.writerow(
                    [
                        nomination.omobility_id,
                        safe_text(nomination.latin_name),
                        name,
                        document.kind,
                        safe_text(document.original_name),
                        document.sha256,
                    ]
                )
                yield sink.take()
        archive.writestr("index.csv", index.getvalue().encode("utf-8"))
    yield sink.take()
