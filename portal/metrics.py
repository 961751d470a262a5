"""Prometheus metrics at /metrics, readable from the addresses in METRICS_ALLOWED only.

Two kinds of figures. What a process sees (requests by endpoint and status code, and how long
they took) is counted in the process; under gunicorn with several workers, prometheus-client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set up by deploy/gunicorn.conf.py) keeps each
worker's counts in a file and the scrape adds them up, whichever worker answers it. What the
deployment holds (the task queue's depth, the worker's last heartbeat, letters issued, mail
that failed) is read from the queue and the database at each scrape, so every process on every
machine gives the same answer.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, g, request, request_started
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError

from portal.extensions import db, limiter

log = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

# Labelled by the Flask endpoint, never the path: one series per route, however many objects.
REQUESTS = Counter(
    "kopir_http_requests",
    "Requests answered, by Flask endpoint ('none' when no route matched) and status code.",
    ("endpoint", "status"),
)
LATENCY = Histogram(
    "kopir_http_request_duration_seconds",
    "Time from a request's start to its answer (a streamed body's first bytes), by endpoint.",
    ("endpoint",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

_NETWORKS = "kopir.metrics_allowed"


class _Collector(Protocol):
    def collect(self) -> Iterable[Metric]: ...


def init_app(app: Flask) -> None:
    """Count every request and serve /metrics to the allowed addresses."""
    app.extensions[_NETWORKS] = allowed_networks(app.config["METRICS_ALLOWED"])
    request_started.connect(_start_clock, app)
    # Registered before portal.requests' hooks, so it runs after them (after_request runs in
    # reverse): a commit that fails turns the answer into a 500, and that is what is counted.
    app.after_request(_count)
    app.register_blueprint(bp)


def allowed_networks(
    entries: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parse METRICS_ALLOWED: addresses and networks (CIDR)."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"METRICS_ALLOWED: {entry!r} is not an IP address or network (CIDR)"
            ) from None
    return tuple(networks)


def _start_clock(_sender: Flask, **_extra: Any) -> None:
    g.metrics_started = time.perf_counter()


def _count(response: Response) -> Response:
    endpoint = request.endpoint or "none"
    REQUESTS.labels(endpoint, str(response.status_code)).inc()
    started = g.pop("metrics_started", None)
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def _client_allowed() -> bool:
    """Tell whether the client's address (after ProxyFix) is one METRICS_ALLOWED names."""
    if not current_app.config["PROXY_COUNT"] and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        # A proxy we were not told about: the address we see is the proxy's (often 127.0.0.1),
        # not the client's. Prometheus scrapes directly and sends neither header.
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        # A server listening on [::] sees IPv4 clients as ::ffff:a.b.c.d.
        address = address.ipv4_mapped
    return any(address in network for network in current_app.extensions[_NETWORKS])


@bp.get("/metrics")
@limiter.exempt
def metrics() -> Response:
    """Answer Prometheus' scrape; any other client gets the ordinary 404."""
    if not _client_allowed():
        abort(404)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sources: list[_Collector] = [DeploymentCollector(app)]
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        # Every worker's counts, from their files; per-process figures (memory, CPU) would
        # describe only the worker that happens to answer, so they are left out.
        sources.insert(0, MultiProcessCollector(None))
    else:
        sources.insert(0, REGISTRY)
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    response = Response(encode(_Together(sources)), content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


class _Together:
    """Several collectors seen as one, for the encoder."""

    def __init__(self, sources: list[_Collector]) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


class DeploymentCollector:
    """Figures read at scrape time from the task queue and the database."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """Yield the queue's and the database's figures."""
        yield from self._queue()
        yield from self._database()

    def _queue(self) -> Iterator[Metric]:
        from portal.tasks import queue_status

        try:
            status = queue_status(self.app)
        except Exception:  # a scrape must still report everything else
            log.exception("Could not read the task queue's status")
            status = {"reachable": False, "pending": None, "worker_beat": None}
        reachable = bool(status["reachable"])
        yield GaugeMetricFamily(
            "kopir_task_queue_up",
            "1 if the task queue's storage answers, 0 if not.",
            value=1 if reachable else 0,
        )
        pending = GaugeMetricFamily("kopir_task_queue_pending", "Tasks waiting in the task queue.")
        if status["pending"] is not None:
            pending.add_metric([], status["pending"])
        yield pending
        age = GaugeMetricFamily(
            "kopir_worker_beat_age_seconds",
            "Seconds since a worker last beat (+Inf if none ever did); absent while the queue "
            "is unreachable.",
        )
        if reachable:
            age.add_metric([], beat_age(status["worker_beat"]))
        yield age

    def _database(self) -> Iterator[Metric]:
        from portal.mail import OutgoingMail
        from portal.offers.models import Offer

        up = GaugeMetricFamily(
            "kopir_database_up", "1 if the database answered the scrape's queries."
        )
        letters = GaugeMetricFamily(
            "kopir_offer_letters",
            "Offer letters issued: every version, whatever its status now.",
        )
        mail = GaugeMetricFamily(
            "kopir_mail_failed",
            "Unsent e-mail whose delivery failed: 'retrying' (more attempts to come) or "
            "'given_up' (MAIL_MAX_ATTEMPTS reached).",
            labels=("state",),
        )
        given_up = OutgoingMail.attempts >= self.app.config["MAIL_MAX_ATTEMPTS"]
        try:
            issued = db.session.scalar(sa.select(sa.func.count()).select_from(Offer))
            retrying, gave_up = db.session.execute(
                sa.select(
                    sa.func.count(
                        sa.case((sa.and_(OutgoingMail.last_error.is_not(None), ~given_up), 1))
                    ),
                    sa.func.count(sa.case((given_up, 1))),
                ).where(OutgoingMail.sent_at.is_(None))
            ).one()
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("Could not read the metrics' figures from the database")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        letters.add_metric([], issued or 0)
        mail.add_metric(["retrying"], retrying)
        mail.add_metric(["given_up"], gave_up)
        yield from (up, letters, mail)


def beat_age(beat: datetime | None, now: datetime | None = None) -> float:
    """Return the seconds since a heartbeat, +Inf for none; never negative (clocks differ)."""
    if beat is None:
        return math.inf
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return max(0.0, ((now or datetime.now(UTC)) - beat).total_seconds())
