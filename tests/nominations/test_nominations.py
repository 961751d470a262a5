"""Coordinators nominate; partners see only their own, download lists and EWP XML, answer."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from lxml import etree
from openpyxl import load_workbook

from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import User
from portal.extensions import db
from portal.nominations import ewp, services
from portal.nominations.models import Nomination
from tests.conftest import Browser
from tests.nominations.conftest import add_document, copy_nominations, nominate_through_preview


def _nominate_all(app, browser: Browser, world) -> None:
    browser.login(world.coordinator)
    response, _preview = nominate_through_preview(browser, world.program_id)
    assert response.status_code == 302


def _as(app, email: str) -> Browser:
    browser = Browser(app.test_client())
    browser.login(email)
    return browser


def test_coordinator_nominates_many_at_once(app, browser, world):
    _nominate_all(app, browser, world)
    with app.app_context():
        nominations = db.session.scalars(sa.select(Nomination)).all()
        assert len(nominations) == 3
        assert len({n.omobility_id for n in nominations}) == 3
        by_email = {n.student["email"]: n for n in nominations}
        aigerim = by_email["aigerim@example.kz"]
        assert aigerim.sending_hei.schac == "vku.edu.kz"
        assert aigerim.receiving_hei.schac == "knu.kg"
        assert aigerim.student["given_native"] == "Әйгерім"
        assert aigerim.student["native_lang"] == "kk-Cyrl"
        assert aigerim.status == "nomination" and aigerim.answer == "pending"
        assert {"language": "kk", "cefr": "NS"} in aigerim.language_skills
    # Nominating again changes nothing and says so, on the preview and on confirming.
    olga = str(world.confirmed["olga@example.ru"])
    again = browser.post(
        f"/staff/programs/{world.program_id}/nominations",
        {"csrf_token": browser.last_token, "application": [olga]},
    )
    assert again.status_code == 200
    assert "This student is already nominated." in again.get_data(as_text=True)
    forced = browser.post(
        f"/staff/programs/{world.program_id}/nominations",
        {"csrf_token": browser.last_token, "application": [olga], "confirm": "1"},
    )
    assert forced.status_code == 200
    assert "This student is already nominated." in forced.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Nomination.id))) == 3


def test_only_confirmed_students_are_nominated(app, ctx, world):
    waiting = db.session.get(Application, world.waitlisted_id)
    coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
    with pytest.raises(services.NominationError):
        services.nominate(waiting, actor=coordinator)


def test_every_ewp_document_validates(app, browser, world):
    _nominate_all(app, browser, world)
    host = _as(app, world.partner_host)
    response = host.get("/partner/nominations.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    ewp.validate(response.data, "get")
    root = etree.fromstring(response.data)
    ns = {"m": ewp.GET_NS}
    assert len(root.findall("m:student-mobility", ns)) == 3
    natives = root.xpath(
        "//m:given-names[@xml:lang='kk-Cyrl']/text()",
        namespaces={**ns, "xml": "http://www.w3.org/XML/1998/namespace"},
    )
    assert "Әйгерім" in natives
    with app.app_context():
        ids = db.session.scalars(sa.select(Nomination.omobility_id)).all()
        ewp.validate(ewp.index_response(ids), "index")
        ewp.validate(ewp.get_response([]), "get")


def test_partners_see_only_what_concerns_their_university(app, browser, world):
    _nominate_all(app, browser, world)
    with app.app_context():
        ids = {n.student["email"]: n.id for n in db.session.scalars(sa.select(Nomination))}
        olga = db.session.scalar(
            sa.select(Nomination).where(Nomination.id == ids["olga@example.ru"])
        )
        olga_document = olga.application.id
    sender = _as(app, world.partner_sender)  # vku: Aigerim and Daniyar only
    listing = sender.get("/partner/nominations").get_data(as_text=True)
    assert "AIGERIM" in listing and "DANIYAR" in listing and "OLGA" not in listing
    assert sender.get(f"/partner/nominations/{ids['olga@example.ru']}").status_code == 404
    rows = list(csv.reader(io.StringIO(sender.get("/partner/nominations.csv").data.decode())))
    assert len(rows) == 3  # header + two
    other = _as(app, world.partner_other)  # nsu: Olga only
    assert "OLGA" in other.get("/partner/nominations").get_data(as_text=True)
    assert other.get(f"/partner/nominations/{ids['aigerim@example.kz']}").status_code == 404
    # Only the receiving university answers.
    refused = other.post(
        f"/partner/nominations/{ids['olga@example.ru']}/answer",
        {"verdict": "verified"},
    )
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.get(Nomination, ids["olga@example.ru"]).answer == "pending"
    assert olga_document  # documents are covered by test_documents_follow_the_nomination


def test_the_host_verifies_one_and_rejects_another(app, browser, world):
    _nominate_all(app, browser, world)
    with app.app_context():
        ids = {n.student["email"]: n.id for n in db.session.scalars(sa.select(Nomination))}
    host = _as(app, world.partner_host)
    page = host.get(f"/partner/nominations/{ids['aigerim@example.kz']}?lang=en")
    assert page.status_code == 200
    # The date of birth is written for the reader, not as the stored ISO string.
    assert "2003-05-17" not in page.get_data(as_text=True)
    assert "May 17, 2003" in page.get_data(as_text=True)
    verified = host.post(
        f"/partner/nominations/{ids['aigerim@example.kz']}/answer",
        {"csrf_token": host.last_token, "verdict": "verified", "comment": "Welcome"},
    )
    assert verified.status_code == 302
    host.get(f"/partner/nominations/{ids['daniyar@example.kz']}")
    no_reason = host.post(
        f"/partner/nominations/{ids['daniyar@example.kz']}/answer",
        {"csrf_token": host.last_token, "verdict": "rejected"},
    )
    assert no_reason.status_code == 302
    with app.app_context():
        assert db.session.get(Nomination, ids["daniyar@example.kz"]).answer == "pending"
    rejected = host.post(
        f"/partner/nominations/{ids['daniyar@example.kz']}/answer",
        {"csrf_token": host.last_token, "verdict": "rejected", "comment": "No room in the lab"},
    )
    assert rejected.status_code == 302
    with app.app_context():
        aigerim = db.session.get(Nomination, ids["aigerim@example.kz"])
        daniyar = db.session.get(Nomination, ids["daniyar@example.kz"])
        assert (aigerim.answer, aigerim.status) == ("verified", "live")
        assert (daniyar.answer, daniyar.status) == ("rejected", "cancelled")
        assert daniyar.answer_comment == "No room in the lab"
        assert daniyar.application.state == State.CANCELLED
        # The freed seat goes to the waiting list.
        assert db.session.get(Application, world.waitlisted_id).state == State.ACCEPTED
    # The coordinator and the student see the answers.
    coordinator_page = browser.get(f"/staff/programs/{world.program_id}/nominations")
    assert "No room in the lab" in coordinator_page.get_data(as_text=True)
    student = _as(app, "aigerim@example.kz")
    detail = student.get(f"/applications/{world.confirmed['aigerim@example.kz']}")
    assert "Kyrgyz National University" in detail.get_data(as_text=True) or "Кыргыз" in (
        detail.get_data(as_text=True)
    )
    # The XLSX carries both answers.
    book = load_workbook(io.BytesIO(host.get("/partner/nominations.xlsx").data), read_only=True)
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert "verified" in cells and "rejected" in cells and "No room in the lab" in cells


def test_documents_follow_the_nomination(app, browser, world):
    with app.app_context():
        document_id = add_document(world.confirmed["olga@example.ru"])
    host = _as(app, world.partner_host)
    assert host.get(f"/documents/{document_id}").status_code == 404  # not nominated yet
    _nominate_all(app, browser, world)
    assert host.get(f"/documents/{document_id}").status_code == 200
    assert _as(app, world.partner_sender).get(f"/documents/{document_id}").status_code == 404
    assert _as(app, world.partner_other).get(f"/documents/{document_id}").status_code == 200


def test_exports_are_formula_safe(app, browser, world):
    formula = '=HYPERLINK("http://evil.example","x")'
    with app.app_context():
        application = db.session.get(Application, world.confirmed["olga@example.ru"])
        application.profile_snapshot = {
            **application.profile_snapshot,
            "latin_given_names": formula,
        }
        db.session.commit()
    _nominate_all(app, browser, world)
    host = _as(app, world.partner_host)
    text = host.get("/partner/nominations.csv").data.decode("utf-8")
    assert text.startswith("\ufeff")
    cells = [field for row in csv.reader(io.StringIO(text)) for field in row]
    assert "'" + formula + " KIM" in cells
    book = load_workbook(io.BytesIO(host.get("/partner/nominations.xlsx").data))
    values = []
    for row in book.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            values.append(cell.value)
    assert formula + " KIM" in values


def test_filters_and_bad_filters(app, browser, world):
    _nominate_all(app, browser, world)
    host = _as(app, world.partner_host)
    assert host.get("/partner/nominations?status=nomination").status_code == 200
    assert host.get("/partner/nominations?answer=verified").get_data(as_text=True).count(
        "/partner/nominations/"
    ) == 0
    for bad in ("?status=%3Cscript%3E", "?program=abc", "?year=9999/1", "?page=-5", "?page=x"):
        assert host.get("/partner/nominations" + bad).status_code == 200, bad
        assert host.get("/partner/nominations.xml" + bad).status_code == 200, bad


def _listed(browser: Browser, query: str) -> set[str]:
    """Return the nominees' Latin family names the partner list shows for a query."""
    text = browser.get("/partner/nominations" + query).get_data(as_text=True)
    return {name for name in ("SEITKALIYEVA", "OSPANOV", "KIM") if name in text}


def test_partners_filter_by_direction_and_by_how_recent_the_answer_is(app, browser, world):
    from datetime import timedelta

    from portal.db import utcnow

    _nominate_all(app, browser, world)
    host, sender = _as(app, world.partner_host), _as(app, world.partner_sender)
    # The filter form offers both, as served.
    form = host.get("/partner/nominations").get_data(as_text=True)
    assert 'name="direction"' in form and 'value="received"' in form and 'name="answered"' in form
    assert _listed(host, "?direction=received") == {"SEITKALIYEVA", "OSPANOV", "KIM"}
    assert _listed(host, "?direction=sent") == set()
    assert _listed(sender, "?direction=sent") == {"SEITKALIYEVA", "OSPANOV"}
    assert _listed(sender, "?direction=received&answer=pending") == set()
    with app.app_context():
        by_id = {
            n.application_id: n for n in db.session.scalars(sa.select(Nomination)).all()
        }
        now = utcnow()
        recent = by_id[world.confirmed["aigerim@example.kz"]]
        recent.answer, recent.answered_at = "verified", now - timedelta(days=3)
        old = by_id[world.confirmed["olga@example.ru"]]
        old.answer, old.answered_at = "verified", now - timedelta(days=20)
        db.session.commit()
    assert _listed(host, "?answered=14") == {"SEITKALIYEVA"}
    assert _listed(host, "?answered=30&answer=verified") == {"SEITKALIYEVA", "KIM"}
    # A value the form does not offer narrows nothing silently: the list is empty and says so.
    assert _listed(host, "?answered=99999") == set()
    # Coordinators see both directions of their programmes; the filter is a partner's.
    coordinator = _as(app, world.coordinator)
    assert _listed(coordinator, "?direction=sent") == {"SEITKALIYEVA", "OSPANOV", "KIM"}


def test_students_and_reviewers_have_no_partner_pages(app, world):
    for email in ("aigerim@example.kz",):
        other = _as(app, email)
        for url in ("/partner/nominations", "/partner/nominations.csv", "/partner/nominations.xml"):
            assert other.get(url).status_code in (403, 404)


def test_partner_list_query_count_does_not_grow_with_rows(app, browser, world):
    from tests.applications.test_query_counts import counted

    _nominate_all(app, browser, world)
    host = _as(app, world.partner_host)
    host.get("/partner/nominations")
    with counted(app) as few:
        assert host.get("/partner/nominations").status_code == 200
    with app.app_context():
        # Copy the three nominations six more times (other applications of the programme).
        copy_nominations(world, 6)
    with counted(app) as many:
        assert host.get("/partner/nominations").status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_pdf_summary_and_documents_zip(app, browser, world, tmp_path):
    import subprocess
    import zipfile

    with app.app_context():
        for email, kind, name in (
            ("aigerim@example.kz", "passport", "../../паспорт\u202etxt.pdf"),
            ("olga@example.ru", "transcript", "ведомость\t/..\\x.pdf"),
        ):
            add_document(world.confirmed[email], kind, name, b"%PDF-1.4\n% " + email.encode())
    _nominate_all(app, browser, world)
    host = _as(app, world.partner_host)
    pdf = host.get("/partner/nominations.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    (tmp_path / "summary.pdf").write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "summary.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "AIGERIM SEITKALIYEVA" in text and "Сейітқалиева" in text
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "summary.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "Noto-Serif" in fonts
    archive = host.get("/partner/nominations.zip")
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        names = bundle.namelist()
        assert "index.csv" in names and len(names) == 3
        for name in names:
            assert ".." not in name and "\\" not in name and "\t" not in name
            assert "\u202e" not in name
            assert not name.startswith("/")
        index = bundle.read("index.csv").decode("utf-8")
        assert "паспорт" in index  # the original name is kept in the index, as text
    # The sending university's partner gets only its own students' documents.
    sender = _as(app, world.partner_sender)
    with zipfile.ZipFile(io.BytesIO(sender.get("/partner/nominations.zip").data)) as bundle:
        assert [n for n in bundle.namelist() if n != "index.csv"] == [
            n for n in names if n.startswith("AIGERIM")
        ]
