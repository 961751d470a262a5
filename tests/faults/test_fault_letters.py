"""Letters fail in the middle of a batch: nothing half-issued, the job says why, a re-run finishes.

Both faults are real. (a) The operator's copy of the letter template breaks for one language (a
salutation per language that forgot Russian): Jinja raises while the main process prepares that
letter. (b) The letter's typeface is not installed where letters are rendered: the batch runs as
`flask … portal issue-offers --workers 2` in a process whose fontconfig (FONTCONFIG_FILE) knows
only DejaVu, so its worker processes would quietly set the letters in DejaVu Sans.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from jinja2 import ChoiceLoader, FileSystemLoader

from portal import jobs
from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import User
from portal.extensions import db
from portal.jobs import Job
from portal.offers import pdf, services
from portal.offers.models import Offer
from portal.storage import get_storage
from tests.faults.conftest import assert_no_orphans, page_text
from tests.offers.conftest import build_offers

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "letters" / "offer.html"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@pytest.fixture
def offers(app):
    """Make four accepted applicants (kk, ru, ky, en), in that order, and one waitlisted."""
    return build_offers(app)


def _issued(app) -> dict[int, tuple[int, int, str]]:
    """Return each application's letters as (offer id, version, SHA-256 of the stored file)."""
    with app.app_context():
        storage = get_storage()
        return {
            offer.application_id: (
                offer.id,
                offer.version,
                hashlib.sha256(storage.load(offer.storage_key)).hexdigest(),
            )
            for offer in db.session.scalars(sa.select(Offer))
        }


def _states(app, offers) -> dict[str, str]:
    with app.app_context():
        return {
            locale: db.session.get(Application, app_id).state
            for locale, app_id in offers.accepted.items()
        }


def _run_batch(app, offers, workers: int) -> SimpleNamespace:
    """Run a batch of the programme's letters here; return how its job ended."""
    with app.app_context():
        app.config["LETTER_WORKERS"] = workers
        try:
            job = jobs.create("issue_offers", program_id=offers.program_id, created_by_id=None)
            db.session.commit()
            job = jobs.run(job.id)
            return SimpleNamespace(
                id=job.id,
                state=job.state,
                total=job.total,
                done=job.done,
                failed=job.failed,
                failures=job.failures,
            )
        finally:
            app.config["LETTER_WORKERS"] = None


def _finish_exactly(app, offers, failed: set[int], before: dict) -> None:
    """Run the batch again once the fault is gone; check it issues the failed letters only."""
    job = _run_batch(app, offers, workers=2)
    assert (job.state, job.total, job.done, job.failed) == ("done", len(failed), len(failed), 0)
    after = _issued(app)
    assert set(after) == set(offers.accepted.values())
    assert {k: v for k, v in after.items() if k not in failed} == before  # untouched
    assert all(version == 1 for _, version, _ in after.values())
    assert set(_states(app, offers).values()) == {State.OFFERED}
    assert_no_orphans(app)


@pytest.fixture
def broken_template(app, tmp_path, monkeypatch):
    """Serve an operator's letter template whose salutations forgot Russian."""
    folder = tmp_path / "templates"
    (folder / "letters").mkdir(parents=True)
    original = TEMPLATE.read_text(encoding="utf-8")
    salutations = (
        '{%- set salutation = {"en": "Dear", "kk": "Құрметті", "ky": "Урматтуу"} -%}\n'
        '<p class="salutation">{{ salutation[main.lang].upper() }}</p>\n'
    )
    marker = '<div class="addressee">'
    assert marker in original
    (folder / "letters" / "offer.html").write_text(
        original.replace(marker, salutations + marker, 1), encoding="utf-8"
    )
    monkeypatch.setattr(
        app.jinja_env, "loader", ChoiceLoader([FileSystemLoader(folder), app.jinja_env.loader])
    )
    return folder


def test_a_template_failing_for_one_letter_mid_batch(
    app, offers, browser, broken_template, monkeypatch
):
    job = _run_batch(app, offers, workers=2)
    russian = offers.accepted["ru"]
    assert (job.state, job.total, job.done, job.failed) == ("done", 4, 3, 1)
    [failure] = job.failures
    assert failure["application_id"] == russian
    assert "UndefinedError" in failure["error"] and "'ru'" in failure["error"]
    # The others are issued; the Russian one is not, not even partly.
    assert _states(app, offers) == {
        "kk": "offered", "ru": "accepted", "ky": "offered", "en": "offered"
    }
    before = _issued(app)
    assert russian not in before and len(before) == 3
    assert_no_orphans(app)
    # The coordinator sees who failed and why on the job's page.
    browser.login(offers.coordinator)
    page = browser.get(f"/staff/jobs/{job.id}").get_data(as_text=True)
    assert "UndefinedError" in page and "SHCHUKIN" in page.upper()
    monkeypatch.undo()  # the operator fixes the template
    _finish_exactly(app, offers, {russian}, before)


def _fonts_without_noto(folder: Path) -> Path:
    """Write a fontconfig configuration that knows only the DejaVu fonts."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{DEJAVU}</dir><cachedir>{folder / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def no_letter_font(tmp_path) -> Path:
    """Return a fontconfig file under which Noto Serif is not installed."""
    if not DEJAVU.is_dir():
        pytest.skip(f"needs the DejaVu fonts in {DEJAVU} (fonts-dejavu-core) to fall back to")
    return _fonts_without_noto(tmp_path / "fontconfig")


def test_the_renderer_refuses_a_letter_in_another_typeface(no_letter_font, monkeypatch):
    html = "<p>Құрметті Әйгерім Сейітқалиева, Иван Щукин, Нурзат Өмүрбекова</p>"
    assert pdf.Renderer().render(html).startswith(b"%PDF-")  # the font is there
    monkeypatch.setattr(pdf, "_renderer", None)  # this process's renderer, put back afterwards
    monkeypatch.setenv("FONTCONFIG_FILE", str(no_letter_font))
    with pytest.raises(pdf.LetterFontMissing, match=r"DejaVu.* instead of Noto Serif"):
        pdf.render_pdf(html)
    # The font comes back (installed): the same long-lived process renders the next letter.
    monkeypatch.delenv("FONTCONFIG_FILE")
    assert pdf.render_pdf(html).startswith(b"%PDF-")


def test_a_missing_font_in_the_workers_issues_nothing_and_the_rerun_finishes(
    app, database_url, offers, no_letter_font, tmp_path
):
    # One letter was issued before the font went missing; the batch must leave it alone.
    with app.test_request_context("/"):
        kazakh = db.session.get(Application, offers.accepted["kk"])
        coordinator = db.session.scalar(sa.select(User).where(User.email == offers.coordinator))
        services.issue_offer(kazakh, actor=coordinator)
        db.session.commit()
        slug = kazakh.program.slug
        db.session.remove()
    before = _issued(app)
    env = {
        **os.environ,
        "FONTCONFIG_FILE": str(no_letter_font),
        "FAULT_DATABASE_URL": database_url,
        "FAULT_TMP": str(tmp_path / "command"),
        "FAULT_STORAGE_DIR": app.config["STORAGE_DIR"],
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "tests.faults.conftest:command_app"]
        + ["portal", "issue-offers", slug, "--workers", "2"]
        + ["--base-url", "https://kopir.example.edu"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    failed = {offers.accepted[locale] for locale in ("ru", "ky", "en")}
    assert "Issued 0, failed 3" in result.stdout
    for application_id in failed:
        assert f"application {application_id}: LetterFontMissing" in result.stdout
    assert "Run the command again" in result.stderr
    with app.app_context():
        job = db.session.scalar(sa.select(Job).order_by(Job.id.desc()))
        assert (job.state, job.done, job.failed) == ("done", 0, 3)
        assert {f["application_id"] for f in job.failures} == failed
        assert all("DejaVu" in f["error"] and "Noto Serif" in f["error"] for f in job.failures)
    assert _issued(app) == before
    assert _states(app, offers) == {
        "kk": "offered", "ru": "accepted", "ky": "accepted", "en": "accepted"
    }
    assert_no_orphans(app)
    # The font is back (this process's fontconfig has it): the next run does the three.
    _finish_exactly(app, offers, failed, before)


def test_staff_pages_say_the_font_is_missing_and_issue_nothing(
    app, offers, browser, no_letter_font, monkeypatch
):
    # This process renders single letters and previews itself: give it a renderer without the
    # font (the original one comes back after the test).
    monkeypatch.setenv("FONTCONFIG_FILE", str(no_letter_font))
    monkeypatch.setattr(pdf, "_renderer", None)
    browser.login(offers.coordinator)
    russian = offers.accepted["ru"]
    browser.get(f"/staff/applications/{russian}")
    response = browser.post(
        f"/staff/applications/{russian}/offer", {"language": "ru", "csrf_token": browser.token()}
    )
    assert response.status_code == 302
    page = page_text(browser.get(response.headers["Location"]))
    assert "Noto Serif" in page and "Nothing was issued" in page
    assert _issued(app) == {} and _states(app, offers)["ru"] == "accepted"
    url = f"/staff/programs/{offers.program_id}/letter?locale=kk"
    browser.get(url)
    typed = "Құрметті {student_name}! Бағдарламаға қабылдандыңыз."
    preview = browser.post(
        url,
        {
            "csrf_token": browser.last_token,
            "locale": "kk",
            "response_days": "10",
            "body": typed,
            "preview": "1",
        },
    )
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    text = page_text(preview)
    assert "Noto Serif" in text and typed in text  # the wording typed is still in the form
    assert_no_orphans(app)


def test_a_name_the_typeface_cannot_print_is_reported_as_such(app, offers, browser):
    """A profile saved before names were checked: the letter is refused, and staff told why."""
    from portal.offers.typeface import letter_font_characters

    if letter_font_characters() is None:
        pytest.skip("the letter's typeface is not installed here (`make test` installs it)")
    russian = offers.accepted["ru"]
    with app.app_context():
        application = db.session.get(Application, russian)
        application.profile_snapshot = {**application.profile_snapshot, "native_family_name": "王"}
        db.session.commit()
    browser.login(offers.coordinator)
    browser.get(f"/staff/applications/{russian}")
    response = browser.post(
        f"/staff/applications/{russian}/offer", {"language": "ru", "csrf_token": browser.token()}
    )
    page = page_text(browser.get(response.headers["Location"]))
    assert "holds characters its typeface (Noto Serif) cannot print" in page
    assert "not installed" not in page
    assert _issued(app) == {} and _states(app, offers)["ru"] == "accepted"
    assert_no_orphans(app)
