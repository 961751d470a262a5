"""Jobs on the queue: a job is taken by one worker, and an orphaned one is taken again once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import jobs
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import Job
from portal.offers.models import Offer
from portal.tasks import _make_huey, queue_status
from tests.conftest import Browser
from tests.offers.conftest import build_offers


def _job(app, **fields) -> int:
    return _job_of(build_offers(app), app, **fields)


def _job_of(offers, app, **fields) -> int:
    with app.app_context():
        job = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
        for name, value in fields.items():
            setattr(job, name, value)
        db.session.commit()
        return job.id


def test_a_job_another_worker_runs_is_left_alone(app):
    job_id = _job(app, state="running", heartbeat_at=utcnow())
    with app.app_context():
        job = jobs.run(job_id)
        assert job.state == "running" and job.done == 0
        assert db.session.scalar(sa.select(sa.func.count(Offer.id))) == 0


def test_an_orphaned_job_is_claimed_once_and_then_finished(app, monkeypatch):
    monkeypatch.setitem(app.config, "LETTER_WORKERS", 1)
    job_id = _job(app, state="running", heartbeat_at=utcnow() - timedelta(minutes=5))
    with app.app_context():
        assert jobs.claim_stalled() == [job_id]
        # Claimed: the heartbeat is fresh, so a second round (another worker) leaves it.
        assert jobs.claim_stalled() == []
        job = db.session.get(Job, job_id)
        assert job.state == "queued" and job.is_active()
        job = jobs.run(job_id)
        assert job.state == "done" and job.done == 4
        # Run twice (a repeated task): nothing more is issued.
        assert jobs.run(job_id).done == 4
        assert db.session.scalar(sa.select(sa.func.count(Offer.id))) == 4


def test_a_live_job_is_not_claimed(app):
    job_id = _job(app, state="running", heartbeat_at=utcnow() - timedelta(seconds=5))
    with app.app_context():
        assert jobs.claim_stalled() == []
        assert db.session.get(Job, job_id).state == "running"


def test_the_job_page_says_when_no_worker_took_it_and_writes_nothing(app, browser: Browser):
    offers = build_offers(app)
    job_id = _job_of(offers, app, heartbeat_at=utcnow() - timedelta(minutes=5))
    browser.login(offers.coordinator)
    page = browser.get(f"/staff/jobs/{job_id}")
    assert page.status_code == 200
    assert "No worker has taken this batch for a while" in page.get_data(as_text=True)
    assert browser.get(f"/staff/jobs/{job_id}.json").get_json()["state"] == "queued"
    with app.app_context():
        job = db.session.get(Job, job_id)
        # Not marked failed by a page view: the next worker picks it up.
        assert job.state == "queued" and job.error is None


def test_a_queue_address_of_an_unknown_kind_is_refused_with_its_name(app_factory):
    with pytest.raises(ValueError, match="TASK_QUEUE_URL must be"):
        app_factory(TASKS_IMMEDIATE=False, TASK_QUEUE_URL="amqp://guest@localhost/")


def test_an_unreachable_queue_is_reported_not_raised(app_factory):
    web = app_factory(TASKS_IMMEDIATE=False, TASK_QUEUE_URL="redis://127.0.0.1:1/0")
    with web.app_context():
        status = queue_status()
    assert status["reachable"] is False and status["pending"] is None
    body = web.test_client().get("/healthz").get_json()
    assert body["status"] == "degraded" and body["queue"]["reachable"] is False


def test_immediate_mode_keeps_nothing_on_disk(tmp_path):
    huey = _make_huey(f"sqlite:///{tmp_path / 'q' / 'tasks.sqlite3'}", immediate=True)
    assert huey.immediate and not (tmp_path / "q").exists()
