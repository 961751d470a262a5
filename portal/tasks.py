"""The task queue (Huey): what runs in the background, and the worker that runs it.

The web side only queues: a request that starts a batch of letters or queues e-mail commits its
rows, then puts a task on the queue (`TASK_QUEUE_URL`: Huey's SQLite storage under `instance/` on
one machine, Redis when several machines share the work). `flask --app wsgi portal worker` runs a
Huey consumer with the app's configuration; it also runs the periodic work that used to wait for
cron or for a page view: expiring unanswered offers (and promoting from waiting lists), sending
mail that is due again after a failure, and picking up jobs whose worker died.

Every task is safe to run twice: what it does is guarded by the rows it reads (an application
still "accepted" gets its letter, a message not yet sent is claimed before it is sent), so a task
that is repeated or restarted after a crash finishes the rest and repeats nothing.

In tests `TASKS_IMMEDIATE` runs each task inline when it is queued, in an application context of
its own, as the worker would.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.api import TaskWrapper
from huey.consumer import Consumer, Scheduler

log = logging.getLogger(__name__)

_WORKER_BEAT_KEY = "kopir.worker-beat"


@dataclass
class TaskQueue:
    """One app's Huey instance and the tasks registered on it."""

    huey: Huey
    run_job: TaskWrapper
    send_mail: TaskWrapper
    tick: TaskWrapper


def queue_url(app: Flask) -> str:
    """Return where the app's task queue lives (TASK_QUEUE_URL, default a file in instance/)."""
    url = app.config.get("TASK_QUEUE_URL")
    return url or f"sqlite:///{Path(app.instance_path) / 'tasks.sqlite3'}"


def _make_huey(url: str, *, immediate: bool) -> Huey:
    """Return a Huey instance on the storage the URL names."""
    # One name for every process of a deployment: it is the queue's key in the storage.
    options: dict[str, Any] = {"name": "kopir", "results": False, "immediate": immediate}
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not immediate:
            path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(filename=str(path), **options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(url=url, **options)
    if url.startswith("memory://"):
        return MemoryHuey(**options)
    scheme = url.split(":")[0]
    raise ValueError(f"TASK_QUEUE_URL must be sqlite:///…, redis://… or memory://, not {scheme!r}")


def init_app(app: Flask) -> None:
    """Give the app its task queue and register the tasks on it."""
    huey = _make_huey(queue_url(app), immediate=bool(app.config.get("TASKS_IMMEDIATE")))

    # Each task runs in an application context of its own (a session of its own), whether the
    # worker runs it or, in immediate mode, the request that queued it.
    @huey.task(name="run_job")
    def run_job(job_id: int) -> None:
        from portal import jobs

        with app.app_context():
            jobs.run(job_id)

    @huey.task(name="send_mail")
    def send_mail() -> None:
        from portal.mail import send_pending

        with app.app_context():
            while True:
                sent, failed = send_pending()
                if sent + failed == 0:
                    break

    @huey.periodic_task(_every_tick, name="tick")
    def tick() -> None:
        with app.app_context():
            periodic_work(huey)

    app.extensions["kopir.tasks"] = TaskQueue(huey, run_job, send_mail, tick)


def _every_tick(_now: datetime) -> bool:
    """Run at every check of the periodic tasks (the worker sets how often, in seconds)."""
    return True


def get_queue(app: Flask | None = None) -> TaskQueue:
    """Return the app's task queue."""
    return (app or current_app).extensions["kopir.tasks"]


def periodic_work(huey: Huey) -> None:
    """Expire offers and promote from waiting lists, send due mail, resume stalled jobs."""
    from portal import jobs
    from portal.extensions import db
    from portal.mail import send_pending
    from portal.offers.services import expire_due

    _beat(huey)
    try:
        expired = expire_due()
        db.session.commit()
        if expired:
            log.info("Expired %s offer(s)", expired)
    except Exception:  # the next tick tries again; the rest of the work goes on
        db.session.rollback()
        log.exception("Expiring offers failed")
    for job_id in jobs.claim_stalled():
        log.warning("Job %s lost its worker; running it again", job_id)
        get_queue().run_job(job_id)
    try:
        send_pending()
    except Exception:
        db.session.rollback()
        log.exception("Sending due mail failed")


def _beat(huey: Huey) -> None:
    """Record that a worker is alive, where the web side can read it."""
    try:
        huey.storage.put_data(_WORKER_BEAT_KEY, datetime.now(UTC).isoformat().encode())
    except Exception:
        log.exception("Could not record the worker's heartbeat")


def queue_status(app: Flask | None = None) -> dict[str, Any]:
    """Say whether the queue answers, how many tasks wait, and when a worker last beat."""
    huey = get_queue(app).huey
    try:
        pending = huey.pending_count()
        raw = huey.storage.peek_data(_WORKER_BEAT_KEY)
    except Exception as exc:
        reason = type(exc).__name__
        return {"reachable": False, "pending": None, "worker_beat": None, "reason": reason}
    beat = None
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            beat = datetime.fromisoformat(bytes(raw).decode())
        except ValueError:
            beat = None
    return {"reachable": True, "pending": pending, "worker_beat": beat}


# The worker ----------------------------------------------------------------------------------

_stopping = threading.Event()


def stop_requested() -> bool:
    """Tell whether the worker has been asked to stop (long tasks end after the item in hand)."""
    return _stopping.is_set()


def _scheduler_every(seconds: int) -> type[Scheduler]:
    class KopirScheduler(Scheduler):
        periodic_task_seconds = seconds

    return KopirScheduler


def make_consumer(app: Flask, *, workers: int) -> Consumer:
    """Return a Huey consumer for the app: thread workers, SIGTERM stops it gracefully."""
    queue = get_queue(app)
    if queue.huey.immediate:
        raise RuntimeError("TASKS_IMMEDIATE is set: tasks run inline, a worker has nothing to do")

    class KopirConsumer(Consumer):
        scheduler_class = _scheduler_every(int(app.config.get("TASK_PERIODIC_SECONDS") or 60))

        def stop(self, graceful: bool = False) -> None:
            # Tasks see the stop at once and finish only the item in hand (a letter, a message).
            _stopping.set()
            super().stop(graceful=graceful)

    _stopping.clear()
    consumer = KopirConsumer(
        queue.huey,
        workers=workers,
        worker_type="thread",
        periodic=True,
        # The scheduler wakes every second, so that a short TASK_PERIODIC_SECONDS is honoured.
        scheduler_interval=1,
        # SIGTERM (systemd, honcho, docker) finishes the task in hand and leaves the rest queued.
        graceful_signal="TERM",
        max_delay=2.0,
    )
    # Ctrl-C in a terminal (SIGINT to the whole group, honcho included) stops as gently as SIGTERM;
    # a second one stops at once.
    consumer._signal_actions[signal.SIGINT] = (False, True)
    return consumer


def run_worker(app: Flask, *, workers: int) -> None:
    """Run a consumer until it is stopped; resume stalled work first."""
    from portal.offers import batch

    # Huey logs each task it runs at INFO: the periodic round alone would fill the log.
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)
    logging.getLogger("huey.consumer.Scheduler").setLevel(logging.WARNING)
    consumer = make_consumer(app, workers=workers)
    log.info(
        "Kopir worker %s:%s on %s, %s thread(s)",
        socket.gethostname(),
        os.getpid(),
        _redacted(queue_url(app)),
        workers,
    )
    with app.app_context():
        # Whatever a dead worker left behind starts now, not at the first tick.
        periodic_work(consumer.huey)
    try:
        consumer.run()
    finally:
        batch.shutdown_pool()


def _redacted(url: str) -> str:
    """Return a queue URL without its password, for the log."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return url
