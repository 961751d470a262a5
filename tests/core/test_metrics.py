"""/metrics: who may read it, what it counts, what it reads from the queue and the database."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portal import tasks
from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db, limiter
from portal.mail import OutgoingMail
from portal.metrics import beat_age
from portal.offers import services as offers
from portal.programs.models import ProgramStaff
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def keep_limiter():
    # The extension object is shared by every app of the process: put the session app's back.
    saved = (limiter._storage, limiter._limiter, limiter.enabled)
    yield
    limiter._storage, limiter._limiter, limiter.enabled = saved


def parse(text: str) -> dict[str, list]:
    """Return each family's samples, by family name."""
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def scrape(client, **kwargs) -> dict[str, list]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def value(families: dict[str, list], sample: str, **labels: str) -> float | None:
    """Return one sample's value, or None if it is absent."""
    family = sample.removesuffix("_total").removesuffix("_count").removesuffix("_sum")
    for found in families.get(family, []):
        if found.name == sample and all(found.labels.get(k) == v for k, v in labels.items()):
            return found.value
    return None


def test_metrics_answer_an_allowed_address_without_login_or_cookies(app):
    client = app.test_client()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    families = parse(response.get_data(as_text=True))
    for name in (
        "kopir_http_requests",
        "kopir_http_request_duration_seconds",
        "kopir_task_queue_up",
        "kopir_task_queue_pending",
        "kopir_worker_beat_age_seconds",
        "kopir_offer_letters",
        "kopir_mail_failed",
        "kopir_database_up",
    ):
        assert name in families, name
    assert value(families, "kopir_database_up") == 1
    # Also over IPv6, and from an IPv4 client seen by a server listening on [::].
    for address in ("::1", "::ffff:127.0.0.1"):
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": address}).status_code == 200


def test_other_addresses_get_the_ordinary_not_found_page(app):
    client = app.test_client()
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 404
    unknown = client.get("/no-such-page", environ_base=OUTSIDE)
    # The same page as for any unknown address (which names the path asked for).
    assert refused.get_data().replace(b"/metrics", b"/x") == unknown.get_data().replace(
        b"/no-such-page", b"/x"
    )
    assert b"kopir_" not in refused.get_data()


def test_a_proxy_nobody_declared_is_refused(app):
    # Without PROXY_COUNT, a proxy on the same machine would make every visitor look local.
    client = app.test_client()
    response = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})
    assert response.status_code == 404
    assert client.get("/metrics", headers={"Forwarded": "for=198.51.100.4"}).status_code == 404


def test_networks_in_cidr_notation_and_only_those(app_factory, keep_limiter):
    client = app_factory(METRICS_ALLOWED=["10.0.0.0/8", "2001:db8::/32"]).test_client()
    for address, status in [
        ("10.20.30.40", 200),
        ("2001:db8::5", 200),
        ("11.0.0.1", 404),
        ("127.0.0.1", 404),
    ]:
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == status, address


def test_behind_a_declared_proxy_the_client_address_counts(app_factory, keep_limiter):
    client = app_factory(PROXY_COUNT=1, METRICS_ALLOWED=["10.0.0.0/8"]).test_client()

    def status(forwarded_for: str) -> int:
        return client.get(
            "/metrics",
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code

    assert status("10.1.1.1") == 200
    assert status("203.0.113.5") == 404
    # A client cannot pass for an allowed address by sending the header itself.
    assert status("10.1.1.1, 203.0.113.5") == 404


def test_scrapes_are_not_rate_limited(app_factory, keep_limiter):
    # Default limits live on the shared extension object: give the session app its own back.
    saved = list(limiter.limit_manager._default_limits)
    try:
        limited = app_factory(RATELIMIT_DEFAULT="2 per minute")
        client = limited.test_client()
        assert [client.get("/programs").status_code for _ in range(3)] == [200, 200, 429]
        assert [client.get("/metrics").status_code for _ in range(5)] == [200] * 5
    finally:
        limiter.limit_manager.set_default_limits(saved)


def test_a_bad_allowed_entry_stops_the_portal(app_factory, keep_limiter):
    with pytest.raises(ValueError, match=r"METRICS_ALLOWED: '10\.0\.0\.300'"):
        app_factory(METRICS_ALLOWED=["10.0.0.300"])


def test_a_request_counts_for_its_endpoint_and_status(app):
    client = app.test_client()
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/no-such-page").status_code == 404
    after = scrape(client)

    def grew(sample: str, **labels: str) -> float:
        return (value(after, sample, **labels) or 0) - (value(before, sample, **labels) or 0)

    assert grew("kopir_http_requests_total", endpoint="health.healthz", status="200") == 1
    assert grew("kopir_http_requests_total", endpoint="none", status="404") == 2
    assert grew("kopir_http_requests_total", endpoint="health.healthz", status="404") == 0
    assert grew("kopir_http_request_duration_seconds_count", endpoint="health.healthz") == 1
    assert grew("kopir_http_request_duration_seconds_sum", endpoint="health.healthz") > 0
    # The scrape before this one was counted too, under the endpoint's name.
    assert grew("kopir_http_requests_total", endpoint="metrics.metrics", status="200") == 1


def _accepted_application():
    host = factories.institution()
    program = factories.program(host)
    coordinator = factories.user(Role.COORDINATOR, institution=host)
    db.session.add(ProgramStaff(program=program, user=coordinator, role="coordinator"))
    student = factories.user()
    profile = factories.complete_profile(student)
    application = Application(
        student=student,
        program=program,
        state=State.ACCEPTED.value,
        motivation="I want to study glaciers in the Altai. " * 8,
        submitted_at=utcnow(),
        profile_snapshot=snapshot_profile(profile),
    )
    db.session.add(application)
    db.session.commit()
    return application, coordinator


def _mail(**values: object) -> OutgoingMail:
    return OutgoingMail(recipient="a@example.kz", subject="s", body_text="b", **values)


def test_letters_and_failed_mail_are_counted_from_the_database(app):
    client = app.test_client()
    figures = scrape(client)
    assert value(figures, "kopir_offer_letters") == 0
    assert value(figures, "kopir_mail_failed", state="retrying") == 0
    assert value(figures, "kopir_mail_failed", state="given_up") == 0
    most = app.config["MAIL_MAX_ATTEMPTS"]
    with app.test_request_context("/"):
        application, coordinator = _accepted_application()
        offers.issue_offer(application, actor=coordinator)
        db.session.commit()
        # A new version supersedes the first; both were issued.
        offers.issue_offer(application, actor=coordinator)
        db.session.commit()
        db.session.add_all(
            [
                _mail(),  # waiting for its first attempt
                _mail(attempts=1, last_error="timeout", sent_at=utcnow()),  # failed, then sent
                _mail(attempts=2, last_error="421 try later"),
                _mail(attempts=most, last_error="550 no such user"),
                _mail(attempts=most + 1, last_error="550 no such user"),
            ]
        )
        db.session.commit()
        db.session.remove()
    figures = scrape(client)
    assert value(figures, "kopir_offer_letters") == 2
    assert value(figures, "kopir_mail_failed", state="retrying") == 1
    assert value(figures, "kopir_mail_failed", state="given_up") == 2


def test_queue_figures_are_the_queues_own_answer(app):
    figures = scrape(app.test_client())
    with app.app_context():
        status = tasks.queue_status()
    assert status["reachable"] and status["worker_beat"] is None
    assert value(figures, "kopir_task_queue_up") == 1
    assert value(figures, "kopir_task_queue_pending") == status["pending"]
    assert value(figures, "kopir_worker_beat_age_seconds") == math.inf


def test_queue_depth_and_worker_heartbeat_on_redis(app_factory, keep_limiter):
    queued = app_factory(TASKS_IMMEDIATE=False, TASK_QUEUE_URL="redis://127.0.0.1:6379/9")
    huey = tasks.get_queue(queued).huey
    huey.flush()
    try:
        client = queued.test_client()
        figures = scrape(client)
        assert value(figures, "kopir_task_queue_pending") == 0
        assert value(figures, "kopir_worker_beat_age_seconds") == math.inf
        tasks.get_queue(queued).send_mail()
        tasks.get_queue(queued).send_mail()
        with queued.app_context():
            tasks.periodic_work(huey)  # what the worker does at every tick, heartbeat first
        figures = scrape(client)
        assert value(figures, "kopir_task_queue_up") == 1
        assert value(figures, "kopir_task_queue_pending") == 2
        assert 0 <= value(figures, "kopir_worker_beat_age_seconds") < 30
    finally:
        huey.flush()


def test_an_unreachable_queue_is_reported_and_the_rest_still_answers(app_factory, keep_limiter):
    down = app_factory(TASKS_IMMEDIATE=False, TASK_QUEUE_URL="redis://127.0.0.1:1/9")
    figures = scrape(down.test_client())
    assert value(figures, "kopir_task_queue_up") == 0
    assert value(figures, "kopir_task_queue_pending") is None
    assert value(figures, "kopir_worker_beat_age_seconds") is None
    assert value(figures, "kopir_database_up") == 1


def test_heartbeat_age_is_never_negative_and_reads_naive_times_as_utc():
    now = utcnow()
    assert beat_age(now - timedelta(seconds=90), now) == 90
    assert beat_age(now + timedelta(seconds=5), now) == 0  # another machine's clock runs ahead
    assert beat_age((now - timedelta(seconds=3)).replace(tzinfo=None), now) == 3
    assert beat_age(None, now) == math.inf


# Several gunicorn workers, one total ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        # Generous: the first requests wait for the workers to load the app on a busy machine.
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (our own server)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_gunicorn_workers_counts_add_up_in_every_scrape(app, database_url, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    # Left by an earlier run: deploy/gunicorn.conf.py must start from zero.
    (metrics_dir / "counter_1.db").write_bytes(b"stale")
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "KOPIR_SECRET_KEY": "metrics-tests",
        "KOPIR_DATABASE_URL": database_url,
        "KOPIR_TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'tasks.sqlite3'}",
        "KOPIR_STORAGE_DIR": str(tmp_path / "uploads"),
        "KOPIR_OUTBOX_DIR": str(tmp_path / "outbox"),
        "KOPIR_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
    command += ["--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app"]
    with log.open("wb") as stderr:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert not (metrics_dir / "counter_1.db").exists()
        assert _get(base + "/healthz")[0] == 200, log.read_text()
        sent = 1
        # Concurrent requests, so that both workers answer some; until each has its file.
        with ThreadPoolExecutor(max_workers=8) as pool:
            while sent < 400:
                codes = list(pool.map(lambda _: _get(base + "/healthz")[0], range(40)))
                assert codes == [200] * 40
                sent += 40
                if len(list(metrics_dir.glob("counter_*.db"))) >= 2:
                    break
        assert len(list(metrics_dir.glob("counter_*.db"))) >= 2, "one worker answered everything"
        for _ in range(3):  # whichever worker answers the scrape gives the same total
            status, body = _get(base + "/metrics")
            assert status == 200
            figures = parse(body.decode())
            assert (
                value(figures, "kopir_http_requests_total", endpoint="health.healthz", status="200")
                == sent
            )
            assert value(figures, "kopir_database_up") == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
