"""What users see of background work: progress, failures, who started it.

A job is a row: what to do, how far it got, what failed. The task queue runs it (portal.tasks:
the worker, or the foreground of a CLI command); either way it commits its progress as it goes,
so any page can show it. A running job writes a heartbeat. A job whose heartbeat is older than
JOB_STALE_SECONDS lost its worker: the next worker's periodic work claims it and runs it again,
and the job's own work is idempotent (a letter is issued only to an application still accepted),
so it finishes the rest and repeats nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g, has_app_context
from flask_babel import lazy_gettext as _l

from portal.db import utcnow
from portal.extensions import db

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)  # when no app is at hand to say (JOB_STALE_SECONDS)
MAX_FAILURES_KEPT = 200


class JobState(StrEnum):
    """Where a job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


JOB_STATE_LABELS = {
    JobState.QUEUED: _l("Waiting to start"),
    JobState.RUNNING: _l("Running"),
    JobState.DONE: _l("Finished"),
    JobState.FAILED: _l("Stopped"),
}


class Job(db.Model):
    """One piece of background work and its progress."""

    __tablename__ = "jobs"
    __table_args__ = (
        # One live job of a kind per programme, even when two people start one at once.
        sa.Index(
            "uq_jobs_one_live_per_program",
            "kind",
            "program_id",
            unique=True,
            sqlite_where=sa.text("state IN ('queued', 'running')"),
            postgresql_where=sa.text("state IN ('queued', 'running')"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    program_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=JobState.QUEUED)
    total: so.Mapped[int] = so.mapped_column(default=0)
    done: so.Mapped[int] = so.mapped_column(default=0)
    failed: so.Mapped[int] = so.mapped_column(default=0)
    # {"failures": [{"application_id": 1, "error": "..."}]}
    result: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[datetime | None]
    finished_at: so.Mapped[datetime | None]
    heartbeat_at: so.Mapped[datetime | None]

    @property
    def processed(self) -> int:
        """Return how many items were dealt with, well or not."""
        return self.done + self.failed

    @property
    def percent(self) -> int:
        """Return progress as a whole percentage."""
        if self.state == JobState.DONE:
            return 100
        return 100 * self.processed // self.total if self.total else 0

    @property
    def finished(self) -> bool:
        """Tell whether the job will make no more progress."""
        return self.state in (JobState.DONE, JobState.FAILED)

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Return the items that failed, with why."""
        return list((self.result or {}).get("failures", []))

    def is_active(self, now: datetime | None = None) -> bool:
        """Tell whether the job is queued or running and has given a sign of life lately."""
        if self.finished:
            return False
        last = self.heartbeat_at or self.created_at
        return (now or utcnow()) - last < stale_after()

    def beat(self) -> None:
        """Record a sign of life."""
        self.heartbeat_at = utcnow()

    def succeeded_one(self) -> None:
        """Count one item done."""
        self.done += 1
        self.beat()

    def failed_one(self, item: dict[str, Any]) -> None:
        """Count one item failed and keep why (the first few hundred)."""
        self.failed += 1
        failures = self.failures
        if len(failures) < MAX_FAILURES_KEPT:
            failures.append(item)
        # A new dict, so the JSON column sees the change.
        self.result = {**(self.result or {}), "failures": failures}
        self.beat()

    def as_dict(self) -> dict[str, Any]:
        """Return the job's progress for the progress bar."""
        return {
            "id": self.id,
            "state": self.state,
            "state_label": str(JOB_STATE_LABELS[JobState(self.state)]),
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "percent": self.percent,
            "finished": self.finished,
            "error": self.error,
        }


class JobBusy(Exception):
    """A job of this kind is already running for the same programme."""

    def __init__(self, job: Job) -> None:
        """Keep the job that is in the way."""
        super().__init__(f"job {job.id} is still running")
        self.job = job


Progress = Callable[[Job], None]


def _handlers() -> dict[str, Callable[[Job, Progress], None]]:
    from portal.offers.batch import run_issue_offers

    return {"issue_offers": run_issue_offers}


class Interrupted(Exception):
    """The worker is stopping: the job goes back to the queue with the rest of its work."""


def stale_after() -> timedelta:
    """Return how long a job may give no sign of life before it is taken as orphaned."""
    seconds = current_app.config.get("JOB_STALE_SECONDS") if has_app_context() else None
    return timedelta(seconds=int(seconds)) if seconds else STALE_AFTER


def active_job(kind: str, program_id: int | None) -> Job | None:
    """Return the queued or running job of this kind for the programme, if there is one."""
    return db.session.scalar(
        sa.select(Job).where(
            Job.kind == kind,
            Job.program_id == program_id,
            Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)),
        )
    )


def create(kind: str, *, program_id: int | None, created_by_id: int | None) -> Job:
    """Add a queued job (refused while the same kind runs for the same programme)."""
    if kind not in _handlers():
        raise ValueError(f"unknown job kind {kind!r}")
    busy = active_job(kind, program_id)
    if busy is not None:
        raise JobBusy(busy)
    job = Job(kind=kind, program_id=program_id, created_by_id=created_by_id, heartbeat_at=utcnow())
    db.session.add(job)
    db.session.flush()
    return job


def start_after_commit(job: Job) -> None:
    """Queue the job once the request that created it has committed."""
    g.setdefault("jobs_queued", []).append(job.id)


def launch_queued(app: Flask) -> None:
    """Put the jobs the request created on the task queue (run inline in immediate mode)."""
    from portal.tasks import get_queue

    queue = get_queue(app)
    for job_id in g.pop("jobs_queued", []):
        queue.run_job(job_id)


def claim_stalled() -> list[int]:
    """Take the live jobs that gave no sign of life for a while; return their ids to run again."""
    now = utcnow()
    cutoff = now - stale_after()
    candidates = db.session.execute(
        sa.select(Job.id, Job.heartbeat_at).where(
            Job.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)),
            sa.func.coalesce(Job.heartbeat_at, Job.created_at) < cutoff,
        )
    ).all()
    claimed = []
    for job_id, seen in candidates:
        # Only if nobody beat or claimed it since we looked: two workers never both take it.
        beat = Job.heartbeat_at.is_(None) if seen is None else Job.heartbeat_at == seen
        result = db.session.execute(
            sa.update(Job)
            .where(Job.id == job_id, beat)
            .values(state=JobState.QUEUED.value, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(job_id)
    db.session.commit()
    return claimed


def _take(job_id: int) -> bool:
    """Mark a queued job as running by us; False if another worker has it or it is over."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
        .values(
            state=JobState.RUNNING.value,
            heartbeat_at=now,
            started_at=sa.func.coalesce(Job.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def run(job_id: int, progress: Progress | None = None) -> Job:
    """Run a queued job to its end, committing progress as it goes; never raise for its failures.

    A job another worker is running, or one already over, is left alone. When the worker is
    asked to stop, the job goes back to the queue after the item in hand.
    """
    job = db.session.get(Job, job_id)
    if job is None:
        raise LookupError(f"no job {job_id}")
    if not _take(job_id):
        db.session.refresh(job)
        return job
    db.session.refresh(job)
    try:
        _handlers()[job.kind](job, progress or _quiet)
    except Interrupted:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        job.state = JobState.QUEUED.value
        job.beat()
        db.session.commit()
        send_queued_mail()
        from portal.tasks import get_queue

        # Back on the queue: the next worker (or this one, restarted) finishes the rest.
        get_queue().run_job(job_id)
        log.info("Job %s goes back to the queue: the worker is stopping", job_id)
        return job
    except BaseException as exc:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        job.state = JobState.FAILED.value
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = utcnow()
        db.session.commit()
        send_queued_mail()
        if isinstance(exc, Exception):
            log.exception("Job %s failed", job_id)
            return job
        raise
    job.state = JobState.DONE.value
    job.finished_at = utcnow()
    db.session.commit()
    send_queued_mail()
    return job


def send_queued_mail() -> None:
    """Queue the sending of the mail the work queued (it is committed; failures are retried)."""
    if g.pop("mail_queued", False):
        from portal.mail import send_after_commit

        send_after_commit(current_app._get_current_object())  # type: ignore[attr-defined]


def _quiet(job: Job) -> None:
    """Report progress to nobody (a job on the queue is watched through its row)."""


def config_workers() -> int:
    """Return how many processes render letters in a batch (LETTER_WORKERS, default: cores)."""
    import os

    configured = current_app.config.get("LETTER_WORKERS")
    return max(1, int(configured or os.cpu_count() or 1))
