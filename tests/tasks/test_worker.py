"""The task queue with a real consumer: `flask --app wsgi portal worker` in its own process.

The web app here only queues (TASKS_IMMEDIATE off); a worker process started by the test does
the work, on Huey's SQLite storage with the SQLite database and on Redis with PostgreSQL.
Workers are stopped with SIGTERM (finish the letter in hand, leave the rest queued) and killed
with SIGKILL (the next worker picks the job up), and no process they started may outlive them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.applications.models import Application
from portal.applications.states import State
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import Job
from portal.mail import OutgoingMail
from portal.offers.models import Offer
from portal.programs.models import Program
from tests.auth.test_accounts import outbox_messages
from tests.conftest import Browser
from tests.core.test_mail import SmtpServer
from tests.offers.conftest import Offers, _applicant, build_offers

ROOT = Path(__file__).resolve().parents[2]
EXTRA_APPLICANTS = 10


def _redis_db() -> int:
    # A database of its own per xdist process (gw0 → 8, gw1 → 7 …), so runs never share a queue.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 8 - int(worker.removeprefix("gw") or 0) % 4


@pytest.fixture
def queue_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Yield an empty queue: SQLite storage beside an SQLite database, Redis beside PostgreSQL."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'tasks.sqlite3'}"
        return
    import redis

    url = f"redis://127.0.0.1:6379/{_redis_db()}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def web(app_factory: Callable[..., Flask], queue_url: str) -> Flask:
    """Return an app that queues its tasks for a worker instead of running them inline."""
    # No BASE_URL, as in `make run`: what the worker links to comes from the request that queued.
    return app_factory(TASKS_IMMEDIATE=False, TASK_QUEUE_URL=queue_url)


def _descendants(pid: int) -> set[int]:
    """Return the pids of every process below pid (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class Worker:
    """A `flask portal worker` process on the test's database, queue and folders."""

    def __init__(self, web: Flask, database_url: str, log: Path, **settings: object) -> None:
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOPIR_")}
        env.update(
            FLASK_APP="wsgi",
            KOPIR_SECRET_KEY="test-secret-key",
            KOPIR_DATABASE_URL=database_url,
            KOPIR_TASK_QUEUE_URL=web.config["TASK_QUEUE_URL"],
            KOPIR_STORAGE_DIR=web.config["STORAGE_DIR"],
            KOPIR_OUTBOX_DIR=web.config["OUTBOX_DIR"],
            # Quick enough for a test: periodic work every second, a job silent for 6 s is orphaned
            # (a running batch beats every second, even while its pool starts).
            KOPIR_TASK_PERIODIC_SECONDS="1",
            KOPIR_JOB_STALE_SECONDS="6",
            KOPIR_LETTER_WORKERS="2",
        )
        env.update({f"KOPIR_{k}": str(v) for k, v in settings.items()})
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "portal", "worker", "--threads", "2"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def workers(web: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start workers on demand; stop every one at the end, whatever happened."""
    started: list[Worker] = []

    def start(**settings: object) -> Worker:
        worker = Worker(web, database_url, tmp_path / f"worker-{len(started)}.log", **settings)
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        if worker.process is not None and worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(timeout=30)


def wait_for(check: Callable[[], object], what: str, worker: Worker, timeout: float = 90):
    """Poll until check() is true; fail with the worker's log if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if worker.process is not None and worker.process.poll() is not None:
            pytest.fail(
                f"the worker exited ({worker.process.returncode}) before {what}:\n"
                + worker.output()[-4000:]
            )
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.output()[-4000:]}")


def _batch_world(app: Flask) -> Offers:
    """Return the four accepted applicants of the offers world, with ten more."""
    offers = build_offers(app)
    with app.app_context():
        program = db.session.get(Program, offers.program_id)
        for n in range(EXTRA_APPLICANTS):
            offers.accepted[f"extra{n}"] = _applicant(
                program,
                f"extra{n}@example.kz",
                "kk",
                "Дана",
                f"Әлиева{n}",
                "DANA",
                f"ALIYEVA{n}",
                "kk",
                State.ACCEPTED,
            )
    return offers


def _start_batch(web: Flask, offers: Offers) -> int:
    """Start the batch as the coordinator does; return the job's id."""
    browser = Browser(web.test_client())
    browser.login(offers.coordinator)
    browser.get(f"/staff/programs/{offers.program_id}/offers")
    response = browser.post(
        f"/staff/programs/{offers.program_id}/offers/issue", {"csrf_token": browser.last_token}
    )
    assert response.status_code == 302
    with web.app_context():
        return db.session.scalar(sa.select(Job.id))


def _job(web: Flask, job_id: int) -> Job:
    with web.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


def _letters_per_application(web: Flask) -> dict[int, int]:
    with web.app_context():
        return dict(
            db.session.execute(
                sa.select(Offer.application_id, sa.func.count(Offer.id)).group_by(
                    Offer.application_id
                )
            ).all()
        )


def _assert_gone(pids: set[int], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)], "processes outlived their worker"


def test_a_batch_queued_by_the_web_app_survives_sigterm_and_finishes_on_the_next_worker(
    app, web, workers
):
    offers = _batch_world(app)
    job_id = _start_batch(web, offers)
    # The request only queued it.
    job = _job(web, job_id)
    assert job.state == "queued" and job.done == 0
    assert _letters_per_application(web) == {}

    first = workers()
    wait_for(lambda: _job(web, job_id).done >= 2, "two letters", first)
    rendering = _descendants(first.pid)
    assert rendering, "the batch renders in processes of its own"
    assert first.stop(signal.SIGTERM) == 0
    # It finished the letters in hand and left the rest queued, not failed.
    job = _job(web, job_id)
    assert job.state == "queued", first.output()[-3000:]
    assert 2 <= job.done < job.total == len(offers.accepted)
    letters = _letters_per_application(web)
    assert sum(letters.values()) == job.done and set(letters.values()) == {1}
    _assert_gone(rendering)

    second = workers()
    wait_for(lambda: _job(web, job_id).state == "done", "the batch to finish", second)
    job = _job(web, job_id)
    assert job.done == job.total == len(offers.accepted) and job.failed == 0, job.failures
    letters = _letters_per_application(web)
    assert set(letters) == set(offers.accepted.values())
    assert set(letters.values()) == {1}, "exactly one letter per applicant"
    with web.app_context():
        states = db.session.scalars(
            sa.select(Application.state).where(Application.id.in_(offers.accepted.values()))
        ).all()
        assert set(states) == {State.OFFERED}
    # The worker had no request and no BASE_URL: its e-mails link where the batch was started.
    # Mail goes out in tasks of its own after each letter's commit: wait for the last of them.
    wait_for(
        lambda: len(outbox_messages(web)) == len(offers.accepted), "every letter's e-mail", second
    )
    mails = [m.get_body(("plain",)).get_content() for m in outbox_messages(web)]
    assert all("http://kopir.test/applications/" in text for text in mails), mails[0]


def test_a_killed_worker_leaves_no_process_behind_and_the_next_one_finishes_its_batch(
    app, web, workers
):
    offers = _batch_world(app)
    job_id = _start_batch(web, offers)
    first = workers()
    wait_for(lambda: _job(web, job_id).done >= 2, "two letters", first)
    rendering = _descendants(first.pid)
    first.stop(signal.SIGKILL)
    _assert_gone(rendering)
    job = _job(web, job_id)
    assert job.state == "running" and job.done < job.total

    second = workers()
    wait_for(lambda: _job(web, job_id).state == "done", "the orphaned batch to finish", second)
    job = _job(web, job_id)
    assert job.failed == 0, job.failures
    letters = _letters_per_application(web)
    assert set(letters) == set(offers.accepted.values())
    assert set(letters.values()) == {1}, "exactly one letter per applicant"
    assert "lost its worker" in second.output()
    second.stop()


def test_an_offer_expires_at_its_deadline_with_nobody_looking(app, web, workers):
    from portal import jobs

    offers = build_offers(app)
    with app.app_context():
        job = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
        db.session.commit()
        assert jobs.run(job.id).done == 4  # inline: this test is about what follows
    offer_id_of = {}
    with app.app_context():
        for offer in db.session.scalars(sa.select(Offer)):
            offer_id_of[offer.application_id] = offer.id
        expiring = offers.accepted["ru"]
        offer = db.session.get(Offer, offer_id_of[expiring])
        offer.response_deadline = utcnow() + timedelta(seconds=2)
        db.session.commit()
    worker = workers()

    def expired() -> bool:
        with web.app_context():
            return db.session.get(Application, expiring).state == State.EXPIRED

    wait_for(expired, "the offer to expire", worker, timeout=30)
    with web.app_context():
        # The seat went to the waiting list, and the other offers still stand.
        assert db.session.get(Application, offers.waitlisted_id).state == State.ACCEPTED
        others = [a for k, a in offers.accepted.items() if k != "ru"]
        states = db.session.scalars(
            sa.select(Application.state).where(Application.id.in_(others))
        ).all()
        assert set(states) == {State.OFFERED}
    worker.stop()


def test_mail_queued_by_a_request_reaches_smtp_from_the_worker_once(app, web, workers):
    server = SmtpServer()
    server.start()
    try:
        browser = Browser(web.test_client())
        browser.get("/account/register")
        browser.post(
            "/account/register",
            {
                "email": "bakyt@example.kg",
                "password": "Issyk-Kul-2026",
                "confirm": "Issyk-Kul-2026",
            },
        )
        with web.app_context():
            row = db.session.scalar(sa.select(OutgoingMail))
            assert row is not None and row.sent_at is None
        assert server.handler.messages == []
        worker = workers(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)

        def sent() -> bool:
            with web.app_context():
                return db.session.scalar(sa.select(OutgoingMail.sent_at)) is not None

        wait_for(sent, "the message to be sent", worker, timeout=30)
        # A few more periodic rounds, which must not send it again.
        time.sleep(2.5)
        [(_sender, recipients, content)] = server.handler.messages
        assert recipients == ["bakyt@example.kg"]
        assert b"/account/verify/" in content
        worker.stop()
    finally:
        server.stop()


def test_health_reports_the_queue_and_the_workers_heartbeat(web, workers):
    client = web.test_client()
    before = client.get("/healthz").get_json()
    assert before["queue"]["reachable"] is True
    assert before["queue"]["worker_last_seen"] is None
    worker = workers()

    def seen() -> dict | None:
        queue = client.get("/healthz").get_json()["queue"]
        return queue if queue["worker_last_seen"] else None

    queue = wait_for(seen, "the worker's heartbeat", worker, timeout=30)
    assert queue["pending"] == 0
    worker.stop()


def test_the_worker_refuses_to_start_on_a_wrong_queue_address(web, database_url, tmp_path):
    worker = Worker(web, database_url, tmp_path / "w.log", TASK_QUEUE_URL="amqp://nowhere")
    worker.start()
    assert worker.process is not None and worker.process.wait(timeout=60) != 0
    assert "TASK_QUEUE_URL must be sqlite:///…, redis://… or memory://" in worker.output()
