"""The partner's CSV and XLSX name programmes and universities in the reader's language, keep
the codes in their own columns, stay formula-safe and run a fixed number of queries."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from openpyxl import load_workbook

from portal.applications.models import Application
from portal.auth.models import User
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations import services
from portal.nominations.views import COLUMNS
from portal.programs.models import Program
from tests.applications.test_query_counts import counted
from tests.conftest import Browser
from tests.nominations.conftest import copy_nominations

KEYS = [key for key, _label, _width in COLUMNS]
TITLE_KY = "Экология боюнча кош диплом"
FORMULA_NAME = "@SUM(1+1) Öskemen University"


def _setup(app, world, locale: str = "ky") -> Browser:
    with app.app_context():
        program = db.session.get(Program, world.program_id)
        program.titles = {"en": "Double degree in ecology", "ky": TITLE_KY}
        vku = db.session.scalar(sa.select(Institution).where(Institution.schac == "vku.edu.kz"))
        vku.names = {"en": FORMULA_NAME}
        partner = db.session.scalar(sa.select(User).where(User.email == world.partner_host))
        partner.locale = locale
        coordinator = db.session.scalar(sa.select(User).where(User.email == world.coordinator))
        for application_id in world.confirmed.values():
            services.nominate(db.session.get(Application, application_id), actor=coordinator)
        db.session.commit()
    browser = Browser(app.test_client())
    browser.login(world.partner_host)
    return browser


def _by_student(rows: list[list[object]]) -> dict[str, dict[str, object]]:
    return {row[KEYS.index("email")]: dict(zip(KEYS, row, strict=True)) for row in rows}


def test_csv_names_programmes_and_universities_and_keeps_their_codes(app, world):
    host = _setup(app, world)
    text = host.get("/partner/nominations.csv").data.decode("utf-8")
    header, *rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(header) == len(KEYS) and len(rows) == 3
    with app.app_context():
        slug = db.session.get(Program, world.program_id).slug
    aigerim = _by_student(rows)["aigerim@example.kz"]
    assert aigerim["programme"] == TITLE_KY
    assert aigerim["programme_code"] == slug
    assert aigerim["receiving"] == "Кыргыз улуттук университети"
    assert aigerim["receiving_code"] == "knu.kg"
    # A name that a spreadsheet would run gets its apostrophe, in the new columns too.
    assert aigerim["sending"] == "'" + FORMULA_NAME
    assert aigerim["sending_code"] == "vku.edu.kz"
    # A university without a Kyrgyz name is named in English.
    with app.app_context():
        nsu = db.session.scalar(sa.select(Institution).where(Institution.schac == "nsu.ru"))
        assert "ky" not in nsu.names
        nsu_name = nsu.names["en"]
    olga = _by_student(rows)["olga@example.ru"]
    assert (olga["sending"], olga["sending_code"]) == (nsu_name, "nsu.ru")


def test_xlsx_has_a_readable_header_and_the_same_columns(app, world):
    host = _setup(app, world, locale="en")
    book = load_workbook(io.BytesIO(host.get("/partner/nominations.xlsx").data))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    assert header[KEYS.index("programme")] == "Programme"
    assert header[KEYS.index("sending_code")] == "Sending university (SCHAC code)"
    # Bold, wrapped, kept in view while scrolling, filterable; every column wide enough.
    assert all(cell.font.b and cell.alignment.wrap_text for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(KEYS)).column_letter}4"
    for index, (_key, label, width) in enumerate(COLUMNS, start=1):
        letter = sheet.cell(1, index).column_letter
        assert sheet.column_dimensions[letter].width == width, label
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    aigerim = _by_student(rows)["aigerim@example.kz"]
    assert aigerim["programme"] == "Double degree in ecology"
    assert aigerim["receiving"] == "Kyrgyz National University"
    assert aigerim["receiving_code"] == "knu.kg"
    assert aigerim["sending"] == FORMULA_NAME
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_downloads_run_the_same_queries_for_more_rows(app, world):
    host = _setup(app, world)
    urls = ("/partner/nominations.csv", "/partner/nominations.xlsx")
    for url in urls:
        host.get(url)
    few = {}
    for url in urls:
        with counted(app) as statements:
            assert host.get(url).status_code == 200
        few[url] = len(statements)
    with app.app_context():
        copy_nominations(world, 6, new_homes=True)
    for url in urls:
        with counted(app) as statements:
            response = host.get(url)
        assert response.status_code == 200
        assert len(statements) == few[url], (url, few[url], len(statements))
    text = host.get(urls[0]).data.decode("utf-8")
    assert text.count("more") >= 6 and "University" in text
