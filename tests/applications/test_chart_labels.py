"""The dashboard's bar labels: short enough to fit, never the same for two universities."""

from __future__ import annotations

import lxml.html
from hypothesis import given
from hypothesis import strategies as st

from portal.applications.models import Application
from portal.applications.overview import LABEL_CHARS, short_labels
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.programs.models import ProgramStaff
from tests import factories

TECHNICAL = "Kazakh National Research Technical University named after K. I. Satpayev"
AGRARIAN = "Kazakh National Research Agrarian University"


def test_labels_that_fit_stay_whole_and_long_ones_that_share_a_start_differ():
    labels = [TECHNICAL, AGRARIAN, "Osh State University", "—"]
    shorts = short_labels(labels)
    assert shorts[2:] == ["Osh State University", "—"]
    assert len(set(shorts)) == 4
    assert all(len(s) <= LABEL_CHARS for s in shorts)
    assert shorts[0].startswith("K. N. R. Technical") and shorts[1].startswith("K. N. R. Agrarian")


def test_cyrillic_names_with_a_common_start_differ_too():
    shorts = short_labels(
        [
            "Новосибирский государственный технический университет",
            "Новосибирский государственный университет",
        ]
    )
    assert shorts == ["Н. г. технический униве…", "Н. г. университет"]


@given(st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=12, unique=True))
def test_different_labels_always_get_different_short_labels(labels):
    shorts = short_labels(labels)
    assert len(set(shorts)) == len(labels)
    assert all(len(s) <= LABEL_CHARS for s in shorts)


def test_the_dashboard_tells_two_universities_with_one_long_prefix_apart(app, browser):
    with app.app_context():
        technical = factories.institution(names={"en": TECHNICAL})
        agrarian = factories.institution(names={"en": AGRARIAN})
        program = factories.program()
        coordinator = factories.user(Role.COORDINATOR, email="charts@example.kz")
        db.session.add(ProgramStaff(program=program, user=coordinator, role="coordinator"))
        for n, home in enumerate((technical, technical, agrarian)):
            student = factories.user(email=f"chart{n}@example.kz")
            factories.complete_profile(student, home_institution=home)
            db.session.add(
                Application(
                    student=student, program=program, state="submitted", submitted_at=utcnow()
                )
            )
        db.session.commit()
    browser.login("charts@example.kz", factories.PASSWORD)
    response = browser.get("/staff/dashboard")
    assert response.status_code == 200
    page = lxml.html.fromstring(response.get_data(as_text=True))
    [figure] = page.xpath("//figure[@aria-labelledby='home-title']")
    texts = figure.xpath(".//*[local-name()='text'][@class='chart-label']")
    labels = [text.text_content() for text in texts]
    assert len(labels) == 2 and labels[0] != labels[1], labels
    assert all(len(label) <= LABEL_CHARS for label in labels)
    # The full name on hover, beside its count, and in the table of numbers.
    hovers = [t.text_content() for t in figure.xpath(".//*[local-name()='title']")]
    assert hovers == [f"{TECHNICAL}: 2", f"{AGRARIAN}: 1"]
    table = [th.text_content() for th in figure.xpath(".//table//th")]
    assert table == [TECHNICAL, AGRARIAN]
