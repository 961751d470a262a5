"""Issue the letters of every accepted applicant of a programme, on every core.

The main process prepares each letter (HTML, QR code) and stores it; worker processes only turn
HTML into PDF, which is where the time goes. Each letter is committed on its own together with
the job's progress, and only applications still "accepted" are picked up, so a job interrupted
half-way and started again issues no letter twice. The batch runs on the task queue's worker,
which owns the rendering pool; when the worker is asked to stop, the letters already in hand are
finished and the job goes back to the queue with the rest.
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import sqlalchemy as sa
from flask import g

from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import User
from portal.extensions import db
from portal.jobs import Interrupted, Job, config_workers
from portal.offers import pdf
from portal.offers.services import LetterDraft, finish, prepare, verify_prefix
from portal.programs.models import Program
from portal.storage import get_storage
from portal.tasks import stop_requested


def _pending(program_id: int) -> sa.Select[tuple[int]]:
    # Accepted means no standing letter: issuing moves an application on, revoking moves it back.
    return sa.select(Application.id).where(
        Application.program_id == program_id, Application.state == State.ACCEPTED.value
    )


def pending_ids(program_id: int) -> list[int]:
    """Return the applications of a programme that are accepted and have no letter yet."""
    return list(db.session.scalars(_pending(program_id).order_by(Application.id)))


def pending_count(program_id: int) -> int:
    """Count the applications of a programme waiting for their letter."""
    query = sa.select(sa.func.count()).select_from(_pending(program_id).subquery())
    return db.session.scalar(query) or 0


# A letter renders in well under a second; one stuck this long is reported as failed.
RENDER_TIMEOUT = 60
# While waiting for the pool, the job beats this often (seconds), far below JOB_STALE_SECONDS.
BEAT_EVERY = 1.0

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def rendering_pool(workers: int) -> ProcessPoolExecutor:
    """Return this process's pool of rendering processes, made on first use and then kept.

    Kept because a fresh WeasyPrint process spends its first letters loading fonts and filling
    caches; a pool that lives as long as the server renders every later batch at full speed.
    Workers are forked from a clean forkserver process that has WeasyPrint loaded, never from
    this one, whose threads and database connections must not be copied.
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers or getattr(_pool, "_broken", False):
            if _pool is not None:
                # Another batch may still be using it: let it finish what it was given.
                _pool.shutdown(wait=False)
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["portal.offers.pdf"])
            _pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=pdf.pool_process
            )
            _pool_size = workers
        return _pool


def shutdown_pool() -> None:
    """Stop this process's rendering processes (the worker does it as it exits)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


class _Batch:
    """One run over a programme's pending letters, reporting to its job."""

    def __init__(self, job: Job, progress: Callable[[Job], None], actor: User | None) -> None:
        self.job = job
        self.progress = progress
        self.actor = actor
        self.prefix = (job.result or {}).get("verify_prefix") or verify_prefix()
        self.interrupted = False

    def drafts(self, ids: list[int]) -> Iterator[LetterDraft]:
        for application_id in ids:
            if stop_requested():
                # The letters already in hand are finished; the rest wait for the next worker.
                self.interrupted = True
                return
            application = db.session.get(Application, application_id)
            if application is None or application.state != State.ACCEPTED:
                # Someone else issued it, or the student withdrew, since the list was made.
                self.job.total -= 1
                continue
            try:
                yield prepare(application, verify_prefix=self.prefix)
            except Exception as exc:  # reported per application; the batch goes on
                db.session.rollback()
                self.fail(application_id, exc)

    def beat(self) -> None:
        """Record that the batch is alive, between letters."""
        self.job.beat()
        db.session.commit()

    def fail(self, application_id: int, exc: BaseException) -> None:
        job = db.session.get(Job, self.job.id)
        job.failed_one({"application_id": application_id, "error": _describe(exc)})
        db.session.commit()
        self.job = job
        self.progress(job)

    def store(self, draft: LetterDraft, pdf_bytes: bytes) -> None:
        key = None
        try:
            _offer, key = finish(draft, pdf_bytes, actor=self.actor)
            self.job.succeeded_one()
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            if key is not None:
                get_storage().delete(key)
            self.fail(draft.application_id, exc)
            return
        self.progress(self.job)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def run_issue_offers(job: Job, progress: Callable[[Job], None]) -> None:
    """Issue every pending letter of the job's programme, in parallel where cores allow."""
    program = db.session.get(Program, job.program_id)
    if program is None:
        raise LookupError(f"no programme {job.program_id}")
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    # Links in the letters' e-mails go where the coordinator started the batch (mail.external_url).
    g.base_url = (job.result or {}).get("base_url")
    ids = pending_ids(program.id)
    # Started again after an interruption: what was issued stays counted, and the letters that
    # failed before are tried again with the rest.
    job.total = job.done + len(ids)
    job.failed = 0
    job.result = {key: value for key, value in (job.result or {}).items() if key != "failures"}
    job.beat()
    db.session.commit()
    progress(job)
    batch = _Batch(job, progress, actor)
    # The pool always has the configured size (it is shared by concurrent batches); a batch
    # of one letter simply renders it here.
    workers = config_workers() if len(ids) > 1 else 1
    # Each letter commits on its own; without this every commit would make the programme, its
    # host and the job be read again for the next letter. What can change meanwhile (the
    # application) is read fresh per letter and guarded by its version column.
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    # WeasyPrint makes and drops many objects per letter, so the cyclic collector runs often;
    # moving what already lives (the app, its modules and caches) out of its sight keeps each
    # run short. Measured: about a tenth of a letter's time.
    gc.collect()
    gc.freeze()
    try:
        _issue(batch, ids, workers)
    finally:
        gc.unfreeze()
        session.expire_on_commit = expire_on_commit
    if batch.interrupted:
        raise Interrupted


def _issue(batch: _Batch, ids: list[int], workers: int) -> None:
    if workers == 1:
        for draft in batch.drafts(ids):
            try:
                rendered = pdf.render_pdf(draft.html)
            except Exception as exc:
                batch.fail(draft.application_id, exc)
                continue
            batch.store(draft, rendered)
        return
    pool = rendering_pool(workers)
    # A few letters in flight per worker keeps every core busy without holding all of them.
    window: deque[tuple[LetterDraft, Future[bytes]]] = deque()
    try:
        for draft in batch.drafts(ids):
            try:
                future = pool.submit(pdf.render_pdf, draft.html)
            except RuntimeError:  # the pool broke or was replaced: take the current one
                pool = rendering_pool(workers)
                future = pool.submit(pdf.render_pdf, draft.html)
            window.append((draft, future))
            if len(window) >= workers * 3:
                _collect(batch, *window.popleft())
        while window:
            _collect(batch, *window.popleft())
    finally:
        for _draft, future in window:
            future.cancel()


def _collect(batch: _Batch, draft: LetterDraft, future: Future[bytes]) -> None:
    waited = 0.0
    while True:
        try:
            rendered = future.result(timeout=BEAT_EVERY)
            break
        except FutureTimeout:
            waited += BEAT_EVERY
            if waited >= RENDER_TIMEOUT:
                batch.fail(draft.application_id, TimeoutError("the letter took too long"))
                return
            # Still alive while the pool starts or a letter renders: no other worker takes the job.
            batch.beat()
        except Exception as exc:  # a broken pool or a failed render: reported, run again
            batch.fail(draft.application_id, exc)
            return
    batch.store(draft, rendered)
