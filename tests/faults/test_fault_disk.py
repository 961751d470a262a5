"""The disk fills up while a student uploads: a clear message, no half-written file, no row.

The real fault: the storage folder is on a tmpfs of 256 KiB, mounted for the test (we run as
root; without the right to mount, that variant is skipped) and filled with ballast, so the
upload's write stops half-way with ENOSPC. The simulated variant runs everywhere: the data is
written, then flushing it to disk fails with ENOSPC, as a full disk reports on some file systems.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.applications.models import Application
from portal.extensions import db
from portal.storage import LocalStorage
from tests import factories
from tests.applications.test_journey import start, upload
from tests.documents import corpus
from tests.faults.conftest import assert_no_orphans, says, stored_files
from tests.offers.conftest import build_offers

NOT_STORED = (
    "The file could not be stored (the server's disk may be full). Nothing was saved; please "
    "try again later."
)


class Disk:
    """The disk uploads are stored on, which a test fills up and frees again."""

    def __init__(self, root: Path, ballast: Path) -> None:
        self.root = root
        self.ballast = ballast

    def fill(self, leave: int) -> None:
        """Take all the space but about `leave` bytes."""
        chunk = b"\0" * 4096
        with open(self.ballast, "ab", buffering=0) as handle:  # unbuffered: close has nothing left
            try:
                while True:
                    handle.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        os.truncate(self.ballast, max(0, self.ballast.stat().st_size - leave))

    def free(self) -> None:
        """Give the space back."""
        self.ballast.unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Disk]:
    """Mount a 256 KiB tmpfs for the test's storage; skip where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN): {exc}")
    try:
        yield Disk(mount / "uploads", mount / "ballast")
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


@pytest.fixture
def student(app, browser, applicant) -> int:
    """Log the student in and start a draft; return its id."""
    browser.login(applicant.student_email, factories.PASSWORD)
    return start(browser)


def _documents(app, app_id: int) -> list[str]:
    with app.app_context():
        return sorted(d.kind for d in db.session.get(Application, app_id).current_documents())


def _refused_and_clean(app, response, app_id: int, kinds: list[str]) -> None:
    assert response.status_code == 422
    assert says(response, app, NOT_STORED)  # in Russian, beside the field
    assert _documents(app, app_id) == kinds  # no row for the file that was not stored
    assert_no_orphans(app)  # and no file, whole or partial, without its row


def test_disk_full_while_storing_an_upload(app, browser, student, small_disk, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(small_disk.root))
    assert upload(browser, student, "passport", corpus.make_jpeg(), "p.jpg").status_code == 302
    small_disk.fill(leave=8192)
    transcript = corpus.make_pdf(pages=320)  # about 40 KB: its write stops part of the way
    assert len(transcript) > 4 * 8192
    errors: list[int] = []
    real_save = LocalStorage.save

    def watched(self, key: str, data: bytes) -> None:
        try:
            real_save(self, key, data)
        except OSError as exc:
            errors.append(exc.errno)
            raise

    monkeypatch.setattr(LocalStorage, "save", watched)
    response = upload(browser, student, "transcript", transcript, "transcript.pdf")
    assert errors == [errno.ENOSPC]  # the kernel's own answer, not ours
    _refused_and_clean(app, response, student, ["passport"])
    with app.app_context():  # the database did its part: the draft is there as it was
        assert db.session.scalar(sa.select(Application.state)) == "draft"
    small_disk.free()
    response = upload(browser, student, "transcript", transcript, "transcript.pdf")
    assert response.status_code == 302
    assert _documents(app, student) == ["passport", "transcript"]
    assert_no_orphans(app)


def test_failing_flush_removes_the_partial_file(app, browser, student, monkeypatch):
    from portal import storage

    real_fsync = os.fsync
    partial: list[Path] = []

    def disk_full(fd: int) -> None:
        # What was written so far is on disk, unfinished, when the flush fails.
        partial.extend(p for p in stored_files(app) if p.name.endswith(".part"))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    assert upload(browser, student, "passport", corpus.make_jpeg(), "p.jpg").status_code == 302
    monkeypatch.setattr(storage.os, "fsync", disk_full)
    response = upload(browser, student, "transcript", corpus.make_pdf(), "t.pdf")
    monkeypatch.setattr(storage.os, "fsync", real_fsync)
    assert len(partial) == 1 and not partial[0].exists()
    _refused_and_clean(app, response, student, ["passport"])
    response = upload(browser, student, "transcript", corpus.make_pdf(), "t.pdf")
    assert response.status_code == 302
    assert _documents(app, student) == ["passport", "transcript"]
    assert_no_orphans(app)


def test_disk_full_during_a_batch_of_letters(app, small_disk, monkeypatch):
    from tests.faults.test_fault_letters import _finish_exactly, _issued, _run_batch, _states

    offers = build_offers(app)
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(small_disk.root))
    small_disk.root.mkdir()
    small_disk.fill(leave=45 * 1024)  # room for a letter or two (each is about 20 KB)
    job = _run_batch(app, offers, workers=1)
    assert job.state == "done" and job.done + job.failed == 4 and 1 <= job.done <= 3, job
    assert all("No space left on device" in f["error"] for f in job.failures)
    failed = {f["application_id"] for f in job.failures}
    states = _states(app, offers)
    assert {offers.accepted[k] for k, v in states.items() if v == "accepted"} == failed
    before = _issued(app)
    assert len(before) == job.done
    assert_no_orphans(app)  # neither a letter without its row nor a row without its letter
    small_disk.free()
    _finish_exactly(app, offers, failed, before)
