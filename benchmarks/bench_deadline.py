"""The evening of a deadline: 200 students apply at once, against a floor measured in the same run.

Run with `make bench`, or alone:

    .venv/bin/python benchmarks/bench_deadline.py [--students 200] [--ramp 10] [--strict]

The portal runs as it is deployed: gunicorn with 4 sync workers, PostgreSQL (a throw-away
database kopir_bench_*, dropped at the end), Redis for the rate limits (DB 5) and the task queue
(DB 6). No queue worker runs: the web side only enqueues, which is all a student waits for.
Every student has an account and a complete profile made beforehand, and all come from one
address (a university behind one NAT). Ramped in over 10 seconds, each one opens the login page,
logs in, opens the catalogue and the programme, applies, fills every step of the application
from the forms the pages serve (CSRF tokens, hidden fields, the button pressed; redirects
followed), uploads a 300 KB PDF and submits. Then the same number of students make the same
number of requests, step by step, to the floor (benchmarks/deadline_apps.py: a bare Flask app
under the same gunicorn settings with a page, a login checking one password with the portal's
hash function and parameters, and a 300 KB upload route).

Printed: per step p50/p95/p99, requests per second, server CPU per student (the gunicorn
processes' CPU time from /proc, after minus before, over the students), errors, the applications
the database holds as submitted, the ratios to the floor and the targets. `--strict` exits 1
when a target is missed; without it the run only reports, as the machine is shared.

The client is httpx on asyncio, one AsyncClient (its own cookies and connection) per student, in
this one process: no extra framework (locust would bring gevent and its own statistics, while
this needs per-step percentiles, /proc sampling and a database count around the same run). The
client shares the two cores with the server, so its own CPU per student is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import random
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
RATELIMIT_REDIS = "redis://127.0.0.1:6379/5"
QUEUE_REDIS = "redis://127.0.0.1:6379/6"
WORKERS = 4
PASSWORD = "deadline evening 2026"  # noqa: S105  (the bench accounts' own, made here)
PROGRAM_SLUG = "deadline-summer-school-glaciology"
PDF_BYTES = 300 * 1024
WARMUP_STUDENTS = WORKERS  # one per worker, so none meets its first page in the measurement
# The run keeps the portal's own login limits: successful logins count against nobody, so 200
# students behind one address (a university's NAT) must all get in with the shipped settings.

STEPS = (
    "login page",
    "log in",
    "catalogue",
    "programme page",
    "apply",
    "motivation form",
    "save motivation",
    "save answers",
    "upload 300 KB PDF",
    "review",
    "submit",
)
TARGETS = {"cpu": 1.5, "throughput": 0.6, "p95_ms": 1000.0}

HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) kopir-bench-deadline",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
    "Accept-Encoding": "gzip, deflate, br",
}
MOTIVATION = (
    "I have measured the retreat of the Maliy Almaty glacier with my department for two "
    "seasons, and I want to learn the methods of the field school so that my thesis on the "
    "rivers fed by these glaciers rests on data I gathered myself. I will bring the methods "
    "home and teach them to the students of our geography club next spring. "
)
ANSWER = (
    "Two summers of river sampling below a reservoir: turbidity and heavy metals upstream and "
    "downstream of a mine, mapped in QGIS and written up for the regional water authority."
)


# ----- what the students upload ----------------------------------------------------------------


def scanned_pdf(size: int) -> bytes:
    """Return a one-page A4 PDF of exactly `size` bytes holding a greyscale JPEG, like a scan."""
    from PIL import Image

    from portal.demo import pdf_file

    rng = random.Random(2026)

    def jpeg(side: int) -> bytes:
        pixels = bytes(rng.randrange(90, 256) for _ in range(side * side))
        out = io.BytesIO()
        Image.frombytes("L", (side, side), pixels).save(out, "JPEG", quality=80)
        return out.getvalue()

    def build(image: bytes, side: int, pad: int) -> bytes:
        content = b"q 480 0 0 480 57 300 cm /Im0 Do Q"
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream"
            % (side, side, len(image), image),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        ]
        header = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        if pad:
            header += b"%" + b"0" * (pad - 2) + b"\n"
        return pdf_file(objects, header=header)

    side = 560
    while True:
        image = jpeg(side)
        bare = build(image, side, 0)
        if len(bare) <= size - 2:
            return build(image, side, size - len(bare))
        side -= 10


# ----- the database the portal runs on ------------------------------------------------------------


def iin(born: date, male: bool, serial: int) -> str:
    """Return a valid Kazakh IIN for a person born in the 2000s."""
    from portal.identity.national_ids import _iin_check_digit

    while True:
        first11 = f"{born:%y%m%d}{5 if male else 6}{serial % 10000:04d}"
        check = _iin_check_digit(first11)
        if check is not None:
            return f"{first11}{check}"
        serial += 1


@dataclass
class World:
    """What the students will use: their e-mail addresses and the stored password hash."""

    emails: list[str]
    warmup: list[str]
    password_hash: str


def build_world(app, students: int) -> World:
    """Migrate, seed the demo data, open a programme and make the students with full profiles."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from portal.auth.models import Role, User
    from portal.db import utcnow
    from portal.demo import seed
    from portal.extensions import db
    from portal.institutions.models import Institution
    from portal.profiles.models import LanguageSkill, StudentProfile
    from portal.programs.models import Program, ProgramQuestion
    from portal.reference import normalize_gpa

    with app.app_context():
        logging.disable(logging.INFO)  # Alembic names every migration it runs: noise here
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        list(seed())
        db.session.commit()
        homes = list(db.session.scalars(sa.select(Institution).order_by(Institution.id)))
        host = next(i for i in homes if i.schac == "vku.edu.kz")
        now = utcnow()
        program = Program(
            slug=PROGRAM_SLUG,
            kind="summer_school",
            host=host,
            titles={
                "en": "Summer School in Glaciology",
                "ru": "Летняя школа по гляциологии",
                "kk": "Гляциология бойынша жазғы мектеп",
                "ky": "Гляциология боюнча жайкы мектеп",
            },
            descriptions={"en": "Three weeks on the glaciers of the Zailiysky Alatau."},
            language="en",
            isced_code="052",
            starts_on=now.date() + timedelta(days=120),
            ends_on=now.date() + timedelta(days=141),
            place={"en": "Almaty"},
            fee_amount=Decimal("0"),
            fee_currency="KZT",
            seats=30,
            timezone=host.timezone,
            opens_at=now - timedelta(days=30),
            # The deadline is tonight, whenever the bench runs: a day from now.
            closes_at=now + timedelta(days=1),
            eligible_levels=[6, 7],
            min_gpa=Decimal("60"),
            required_language="en",
            required_cefr="B1",
            citizenships=[],
            required_documents=["transcript"],
            partners=[i for i in homes if i.schac in ("nsu.ru", "knu.kg")],
        )
        yes_no = [
            {"value": "yes", "labels": {"en": "Yes", "ru": "Да"}},
            {"value": "no", "labels": {"en": "No", "ru": "Нет"}},
        ]
        for position, (kind, prompt, choices) in enumerate(
            [
                ("long", "Describe a field or lab project you took part in.", []),
                ("choice", "Can you take part in a four-day mountain hike?", yes_no),
                ("short", "Who supervises your thesis?", []),
            ],
            start=1,
        ):
            program.questions.append(
                ProgramQuestion(
                    position=position, kind=kind, prompts={"en": prompt}, choices=choices
                )
            )
        program.refresh_search_text()
        db.session.add(program)

        # One hash for every account (as tests/factories.py does): made by the portal itself.
        model = User()
        model.set_password(PASSWORD)
        stored = model.password_hash
        emails = [f"applicant{n:03d}@deadline.example.kz" for n in range(students)]
        warmup = [f"warmup{n}@deadline.example.kz" for n in range(WARMUP_STUDENTS)]
        kz = [i for i in homes if i.country == "KZ"]
        for n, email in enumerate(warmup + emails):
            born = date(2003, 1, 1) + timedelta(days=n * 3)
            male = n % 2 == 0
            user = User(
                email=email,
                role=Role.STUDENT,
                locale="en",
                verified_at=now,
                password_hash=stored,
            )
            user.profile = StudentProfile(
                native_given_names="Әлихан" if male else "Айгерім",
                native_family_name=f"Бөкейханов{'' if male else 'а'}",
                native_name_lang="kk",
                latin_given_names="ALIKHAN" if male else "AIGERIM",
                latin_family_name="BOKEIKHANOV" + ("" if male else "A"),
                birth_date=born,
                gender=1 if male else 2,
                citizenship="KZ",
                national_id=iin(born, male, 3000 + n),
                passport_number=f"N{10000000 + n:08d}",
                phone=f"+7701{1000000 + n:07d}",
                home_institution=kz[n % len(kz)],
                faculty="Faculty of Natural Sciences and Geography",
                study_level=6,
                isced_code="052",
                year_of_study=3,
                gpa=Decimal("3.40"),
                gpa_scale="kz4",
                gpa_normalized=normalize_gpa(Decimal("3.40"), "kz4"),
                languages=[
                    LanguageSkill(language="kk", level="native"),
                    LanguageSkill(language="ru", level="C1"),
                    LanguageSkill(language="en", level="B2"),
                ],
            )
            db.session.add(user)
        db.session.commit()
        db.engine.dispose()
    return World(emails=emails, warmup=warmup, password_hash=stored)


def submitted_count(app, emails: list[str]) -> int:
    """Count the students' applications the database holds as submitted."""
    import sqlalchemy as sa

    from portal.applications.models import Application
    from portal.auth.models import User
    from portal.extensions import db

    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Application)
            .join(User, User.id == Application.student_id)
            .where(User.email.in_(emails), Application.state == "submitted")
        )
        db.session.remove()
        db.engine.dispose()
    return int(count or 0)


@contextmanager
def postgres_database():
    """Create a throw-away database kopir_bench_*, and drop it whatever happens."""
    import sqlalchemy as sa

    name = f"kopir_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name, f"{POSTGRES}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def clear_redis(url: str) -> None:
    """Empty one of this benchmark's Redis databases (5: rate limits, 6: the queue)."""
    import redis

    redis.Redis.from_url(url).flushdb()


def queued_tasks(url: str) -> int:
    """Count what waits in the queue's Redis database (the lengths of its lists)."""
    import redis

    client = redis.Redis.from_url(url)
    return sum(client.llen(key) for key in client.scan_iter() if client.type(key) == b"list")


# ----- gunicorn and its CPU time ------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return a process's user + system CPU time so far, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    """Return the pids of a process's children."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def postgres_backends(database: str) -> list[int]:
    """Return the pids of the PostgreSQL backends serving a database (from their titles)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace")
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                found.append(int(entry))
    return found


def free_port() -> int:
    """Return a TCP port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DEPLOY_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


class Gunicorn:
    """A gunicorn master with its workers, serving one of benchmarks/deadline_apps.py's apps."""

    def __init__(self, target: str, env: dict[str, str]) -> None:
        """Start gunicorn as the deployment does: 4 sync workers, deploy/gunicorn.conf.py."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--pythonpath",
            str(ROOT / "benchmarks"),
        ]
        if DEPLOY_CONFIG.exists():
            # The deployment's own settings file (metrics shared between workers), for both.
            command += ["--config", str(DEPLOY_CONFIG)]
        command.append(target)
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(  # noqa: S603  (our own gunicorn, fixed arguments)
            command, cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                raise RuntimeError(f"gunicorn did not start:\n{self.log.read().decode()[-3000:]}")
            if len(children(self.process.pid)) == WORKERS:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        break
                except OSError:
                    pass
            time.sleep(0.2)
        self.workers = children(self.process.pid)

    def cpu(self) -> float:
        """Return the CPU seconds of the master and its workers so far."""
        now = children(self.process.pid)
        if sorted(now) != sorted(self.workers):
            print("  warning: gunicorn replaced a worker during the run; its CPU time is lost")
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *now])

    def settled_cpu(self) -> float:
        """Return the CPU seconds once the workers have finished work left after the answers."""
        last = self.cpu()
        for _ in range(20):
            time.sleep(0.25)
            now = self.cpu()
            if now - last < 0.005:
                return now
            last = now
        return last

    def stop(self) -> None:
        """Stop the master, which stops its workers."""
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# ----- a student's browser ------------------------------------------------------------------------


class StepFailed(Exception):
    """A page that did not answer what a browser would have needed to go on."""


@dataclass
class Run:
    """What one run of students measured."""

    times: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    errors: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    first: float = float("inf")
    last: float = 0.0
    examples: list[str] = field(default_factory=list)

    def fail(self, step: str, message: str) -> None:
        """Count a failed step and keep the first few messages."""
        self.errors[step] = self.errors.get(step, 0) + 1
        if len(self.examples) < 5:
            self.examples.append(f"{step}: {message}")


# Plain HTTP needs none, but httpx makes a TLS context per client unless given one: 34 ms of
# the client's CPU per student, taken from the cores the server needs.
TLS = ssl.create_default_context()


class Browser:
    """One student's browser: cookies, redirects followed, forms sent as the page serves them."""

    def __init__(self, base: str, run: Run | None) -> None:
        """Open a client of its own (cookies, connection) on the server."""
        self.client = httpx.AsyncClient(
            base_url=base,
            headers=HEADERS,
            follow_redirects=True,
            timeout=httpx.Timeout(120.0),
            verify=TLS,
        )
        self.run = run
        self.page: lxml.html.HtmlElement | None = None
        self.url = base
        self.current = STEPS[0]

    async def step(
        self, name: str, request: Callable[[], Awaitable[httpx.Response]], expect: str
    ) -> None:
        """Time one step (its redirects included) and check where it landed."""
        self.current = name
        start = time.perf_counter()
        try:
            response = await request()
        except httpx.HTTPError as exc:
            raise StepFailed(f"{type(exc).__name__}: {exc}") from exc
        end = time.perf_counter()
        hops = len(response.history) + 1
        path = response.url.path
        if response.status_code != 200 or not re.fullmatch(expect, path):
            raise StepFailed(f"HTTP {response.status_code} at {path}, expected {expect}")
        if self.run is not None:
            self.run.times[name].append((end - start) * 1000)
            self.run.requests += hops
            self.run.first = min(self.run.first, start)
            self.run.last = max(self.run.last, end)
        self.url = str(response.url)
        self.page = lxml.html.fromstring(response.content, base_url=self.url)

    async def get(self, name: str, url: str, expect: str) -> None:
        """Open a page, as following a link does."""
        await self.step(name, lambda: self.client.get(urljoin(self.url, url)), expect)

    def link(self, pattern: str) -> str:
        """Return the first link of the page whose address matches the pattern."""
        assert self.page is not None
        for element in self.page.iter("a"):
            href = element.get("href") or ""
            if re.search(pattern, urlsplit(href).path):
                return href
        raise StepFailed(f"no link matching {pattern} on {self.url}")

    def form(self, has: str) -> lxml.html.FormElement:
        """Return the page's POST form with a control (or an action) matching `has`."""
        assert self.page is not None
        for form in self.page.forms:
            if (form.get("method") or "get").lower() != "post":
                continue
            names = [el.get("name") or "" for el in form.iter("input", "textarea", "select")]
            if any(re.fullmatch(has, n) for n in names) or re.search(has, form.get("action") or ""):
                return form
        raise StepFailed(f"no form with {has} on {self.url}")

    async def submit(
        self,
        name: str,
        form: lxml.html.FormElement,
        expect: str,
        typed: dict[str, str] | None = None,
        button: str | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> None:
        """Send a form as the browser does: every control as served, what was typed, the button."""
        typed = typed or {}
        data: list[tuple[str, str]] = []
        radios_done: set[str] = set()
        submits = [
            element
            for element in form.iter("input", "button")
            if (element.get("type") or ("submit" if element.tag == "button" else "")).lower()
            == "submit"
        ]
        # No button named: the person pressed Enter, which sends the form's first button.
        pressed = next((b for b in submits if b.get("name") == button), None) if button else None
        if button is None and submits:
            pressed = submits[0]
        for element in form.iter("input", "textarea", "select", "button"):
            control = element.get("name")
            if not control or element.get("disabled") is not None:
                continue
            kind = (element.get("type") or "").lower()
            if element.tag == "textarea":
                data.append((control, typed.get(control, element.text or "")))
            elif element.tag == "select":
                options = element.findall(".//option")
                chosen = [o for o in options if o.get("selected") is not None] or options[:1]
                value = typed.get(control, chosen[0].get("value", "") if chosen else "")
                data.append((control, value))
            elif element.tag == "button" or kind in ("submit", "image", "reset", "button"):
                if element is pressed:
                    data.append((control, element.get("value", "")))
            elif kind == "file":
                continue  # sent as a file part below
            elif kind == "radio":
                if control in typed:
                    if control not in radios_done and element.get("value") == typed[control]:
                        data.append((control, typed[control]))
                        radios_done.add(control)
                elif element.get("checked") is not None:
                    data.append((control, element.get("value", "on")))
            elif kind == "checkbox":
                if element.get("checked") is not None:
                    data.append((control, element.get("value", "on")))
            else:
                data.append((control, typed.get(control, element.get("value", ""))))
        action = urljoin(self.url, form.get("action") or self.url)
        multipart = (form.get("enctype") or "").lower() == "multipart/form-data"
        if multipart:
            await self.step(
                name, lambda: self.client.post(action, data=dict_list(data), files=files), expect
            )
        else:
            await self.step(name, lambda: self.client.post(action, data=dict_list(data)), expect)

    async def close(self) -> None:
        """Close the client's connection."""
        await self.client.aclose()


def dict_list(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Group repeated names as httpx wants them, keeping every value."""
    grouped: dict[str, Any] = {}
    for key, value in pairs:
        if key in grouped:
            previous = grouped[key]
            grouped[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            grouped[key] = value
    return grouped


def fill_questions(form: lxml.html.FormElement) -> dict[str, str]:
    """Type an answer into every question of the form: a text, a line, the first choice."""
    typed: dict[str, str] = {}
    for element in form.iter("input", "textarea"):
        control = element.get("name") or ""
        if not re.fullmatch(r"q\d+", control):
            continue
        kind = (element.get("type") or "").lower()
        if element.tag == "textarea":
            typed[control] = ANSWER
        elif kind == "radio":
            typed.setdefault(control, element.get("value", ""))
        else:
            typed[control] = "Prof. Dana Seitkali"
    return typed


async def portal_student(browser: Browser, email: str, pdf: bytes) -> None:
    """Apply as a student does, from the login page to the submitted application."""
    await browser.get("login page", "/account/login", r"/account/login")
    await browser.submit(
        "log in",
        browser.form("password"),
        r"/",
        typed={"email": email, "password": PASSWORD},
    )
    await browser.get("catalogue", browser.link(r"^/programs$"), r"/programs")
    await browser.get(
        "programme page", browser.link(rf"/programs/{PROGRAM_SLUG}$"), r"/programs/.+"
    )
    await browser.submit("apply", browser.form(r"/apply$"), r"/applications/\d+/profile")
    await browser.get(
        "motivation form", browser.link(r"/motivation$"), r"/applications/\d+/motivation"
    )
    await browser.submit(
        "save motivation",
        browser.form("motivation"),
        r"/applications/\d+/questions",
        typed={"motivation": MOTIVATION},
        button="next",
    )
    questions = browser.form(r"q\d+")
    await browser.submit(
        "save answers",
        questions,
        r"/applications/\d+/documents",
        typed=fill_questions(questions),
        button="next",
    )
    await browser.submit(
        "upload 300 KB PDF",
        browser.form("file"),
        r"/applications/\d+/documents",
        files={"file": ("transcript.pdf", pdf, "application/pdf")},
    )
    await browser.get("review", browser.link(r"/review$"), r"/applications/\d+/review")
    await browser.submit("submit", browser.form(r"/submit$"), r"/applications/\d+")


async def floor_student(browser: Browser, email: str, pdf: bytes) -> None:
    """Make the same requests, step by step, to the bare app."""
    await browser.get("login page", "/page", "/page")
    login = browser.form("csrf_token")
    login.set("action", "/login")
    await browser.submit("log in", login, "/page", typed={"email": email, "password": PASSWORD})
    await browser.get("catalogue", "/page", "/page")
    await browser.get("programme page", "/page", "/page")
    await browser.submit("apply", browser.form("csrf_token"), "/page")
    await browser.get("motivation form", "/page", "/page")
    await browser.submit(
        "save motivation", browser.form("text"), "/page", typed={"text": MOTIVATION}, button="next"
    )
    await browser.submit(
        "save answers", browser.form("text"), "/page", typed={"text": ANSWER}, button="next"
    )
    upload = browser.form("file")
    upload.set("action", "/upload")
    await browser.submit(
        "upload 300 KB PDF",
        upload,
        "/page",
        files={"file": ("transcript.pdf", pdf, "application/pdf")},
    )
    await browser.get("review", "/page", "/page")
    await browser.submit("submit", browser.form("csrf_token"), "/page")


Student = Callable[[Browser, str, bytes], Awaitable[None]]


async def crowd(
    base: str, student: Student, emails: list[str], pdf: bytes, ramp: float, run: Run | None
) -> None:
    """Let the students arrive evenly over `ramp` seconds, each going through every step."""

    async def one(index: int, email: str) -> None:
        await asyncio.sleep(index * ramp / max(len(emails), 1))
        browser = Browser(base, run)
        try:
            await student(browser, email, pdf)
        except StepFailed as exc:
            if run is None:
                raise
            run.fail(browser.current, str(exc))
        finally:
            await browser.close()

    await asyncio.gather(*(one(i, e) for i, e in enumerate(emails)))


# ----- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of the values fall (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Measured:
    """One app's figures."""

    run: Run
    cpu_s: float
    students: int
    pg_cpu_s: float | None = None
    client_cpu_s: float = 0.0

    @property
    def wall(self) -> float:
        """Return the seconds from the first request to the last answer."""
        return max(self.run.last - self.run.first, 1e-9)

    @property
    def rps(self) -> float:
        """Return the requests answered per second."""
        return self.run.requests / self.wall

    @property
    def cpu_ms(self) -> float:
        """Return the server's CPU time per student, in milliseconds."""
        return self.cpu_s * 1000 / self.students

    @property
    def errors(self) -> int:
        """Return the number of students whose visit failed at some step."""
        return sum(self.run.errors.values())


def measure(
    server: Gunicorn,
    student: Student,
    emails: list[str],
    warmup: list[str],
    pdf: bytes,
    ramp: float,
    database: str | None = None,
) -> Measured:
    """Warm each worker with one student, then time the crowd and sample the CPU around it."""
    asyncio.run(crowd(server.url, student, warmup, pdf, 0.0, None))
    backends = postgres_backends(database) if database else []
    pg_before = {pid: cpu_seconds(pid) for pid in backends}
    before = server.settled_cpu()
    client_before = time.process_time()
    run = Run()
    asyncio.run(crowd(server.url, student, emails, pdf, ramp, run))
    client_cpu = time.process_time() - client_before
    after = server.settled_cpu()
    pg_cpu = None
    if database:
        pg_cpu = sum(
            cpu_seconds(pid) - pg_before.get(pid, 0.0) for pid in postgres_backends(database)
        )
    return Measured(run, after - before, len(emails), pg_cpu, client_cpu)


def ms(value: float) -> str:
    """Write milliseconds for the table."""
    return "—" if value != value else f"{value:,.0f}"


def report(portal: Measured, floor: Measured, submitted: int, queued: int, args) -> bool:
    """Print the figures, the ratios and the targets; return whether every target was met."""
    n = portal.students
    print(
        f"{n} students ramped in over {args.ramp:g} s; gunicorn, {WORKERS} sync workers; "
        f"{portal.run.requests / max(n - portal.errors, 1):.0f} requests per student; "
        f"load average {os.getloadavg()[0]:.1f} at the end (a shared machine slows both runs)"
    )
    print(f"{'step':<20} {'portal p50 / p95 / p99 ms':>28} {'floor p50 / p95 / p99 ms':>27}")
    slowest = 0.0
    for step in STEPS:
        p = [percentile(portal.run.times[step], q) for q in (0.5, 0.95, 0.99)]
        f = [percentile(floor.run.times[step], q) for q in (0.5, 0.95, 0.99)]
        slowest = max(slowest, p[1] if p[1] == p[1] else float("inf"))
        print(f"{step:<20} {' / '.join(ms(v) for v in p):>28} {' / '.join(ms(v) for v in f):>27}")
    cpu_ratio = portal.cpu_ms / floor.cpu_ms
    rps_ratio = portal.rps / floor.rps
    print()
    print(f"{'':<30} {'portal':>10} {'floor':>10} {'ratio':>8}")
    print(f"{'requests per second':<30} {portal.rps:>10.1f} {floor.rps:>10.1f} {rps_ratio:>8.2f}")
    print(f"{'wall time, s':<30} {portal.wall:>10.1f} {floor.wall:>10.1f}")
    print(
        f"{'server CPU per student, ms':<30} {portal.cpu_ms:>10.1f} {floor.cpu_ms:>10.1f} "
        f"{cpu_ratio:>8.2f}"
    )
    if portal.pg_cpu_s is not None:
        print(f"{'  PostgreSQL CPU per student, ms':<30} {portal.pg_cpu_s * 1000 / n:>10.1f}")
    print(
        f"{'client CPU per student, ms':<30} {portal.client_cpu_s * 1000 / n:>10.1f} "
        f"{floor.client_cpu_s * 1000 / n:>10.1f}"
    )
    print(f"{'errors (students)':<30} {portal.errors:>10} {floor.errors:>10}")
    for example in portal.run.examples + floor.run.examples:
        print(f"  {example}")
    print(f"{'applications submitted':<30} {submitted:>10} of {n}")
    print(
        f"Queue (Redis DB 6): {queued} task(s) waiting; no queue worker ran, the web side only "
        "enqueues."
    )
    print("All students behind one address, with the shipped login limits.")
    checks = [
        ("0 errors", portal.errors == 0 and floor.errors == 0),
        ("every application submitted", submitted == n),
        (f"server CPU per student <= {TARGETS['cpu']}x the floor's", cpu_ratio <= TARGETS["cpu"]),
        (
            f"throughput >= {TARGETS['throughput']:.0%} of the floor's",
            rps_ratio >= TARGETS["throughput"],
        ),
        (f"p95 of every step < {TARGETS['p95_ms']:.0f} ms", slowest < TARGETS["p95_ms"]),
    ]
    print()
    for name, ok in checks:
        print(f"  {'met   ' if ok else 'MISSED'} {name}")
    return all(ok for _name, ok in checks)


def main() -> int:
    """Run the portal and the floor under the same crowd and compare them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which they arrive")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    from portal import create_app
    from portal.documents.sniff import Sniffed, sniff

    pdf = scanned_pdf(PDF_BYTES)
    assert isinstance(sniff(pdf, max_bytes=10 * 1024 * 1024), Sniffed), "the PDF is refused"
    secret = secrets.token_hex(32)
    clear_redis(RATELIMIT_REDIS)
    clear_redis(QUEUE_REDIS)
    with postgres_database() as (name, url), tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, Any] = {
            "STORAGE_DIR": f"{tmp}/uploads",
            "OUTBOX_DIR": f"{tmp}/outbox",
        }
        app = create_app({**overrides, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret})
        started = time.monotonic()
        world = build_world(app, args.students)
        print(f"Deadline evening (benchmarks/bench_deadline.py), database {name}: ", end="")
        print(f"set up in {time.monotonic() - started:.1f} s")
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": secret,
            "RATELIMIT_STORAGE_URI": RATELIMIT_REDIS,
            "TASK_QUEUE_URL": QUEUE_REDIS,
            "KOPIR_BENCH_OVERRIDES": json.dumps(overrides),
            "KOPIR_BENCH_PASSWORD_HASH": world.password_hash,
        }
        server = Gunicorn("deadline_apps:portal()", env)
        try:
            portal = measure(
                server, portal_student, world.emails, world.warmup, pdf, args.ramp, name
            )
        finally:
            server.stop()
        submitted = submitted_count(app, world.emails)
        queued = queued_tasks(QUEUE_REDIS)
        server = Gunicorn("deadline_apps:floor()", env)
        try:
            floor = measure(server, floor_student, world.emails, world.warmup, pdf, args.ramp)
        finally:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    clear_redis(RATELIMIT_REDIS)
    clear_redis(QUEUE_REDIS)
    met = report(portal, floor, submitted, queued, args)
    return 1 if args.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
