"""The read cache: right at once in the process that changed, after its TTL elsewhere."""

from __future__ import annotations

import lxml.html
import sqlalchemy as sa

from portal import readcache
from portal.extensions import db
from portal.institutions.models import Institution
from portal.programs.queries import FACETS
from tests import factories
from tests.applications.test_query_counts import counted


def countries_offered(browser) -> list[str]:
    page = lxml.html.fromstring(browser.get("/programs").get_data(as_text=True))
    options = page.xpath("//select[@name='country']/option")
    return [o.get("value") for o in options if o.get("value")]


def test_catalogue_filter_choices_are_read_once_then_served_from_the_cache(app, browser):
    with app.app_context():
        factories.program(factories.institution(country="KZ"))
    with counted(app) as statements:
        assert countries_offered(browser) == ["KZ"]
        first = len(statements)
        statements.clear()
        assert countries_offered(browser) == ["KZ"]
        second = len(statements)
    assert first - second == 2  # the host countries and the languages of instruction


def test_a_change_committed_here_shows_at_once(app, browser):
    with app.app_context():
        factories.program(factories.institution(country="KZ"))
    assert countries_offered(browser) == ["KZ"]
    with app.app_context():
        factories.program(factories.institution(country="KG"))  # a commit in this process
    assert countries_offered(browser) == ["KG", "KZ"]
    with app.app_context():
        host = db.session.scalar(sa.select(Institution).where(Institution.country == "KG"))
        host.country = "RU"  # an edit, not only a new row
        db.session.commit()
    assert countries_offered(browser) == ["KZ", "RU"]


def test_a_change_made_by_another_process_shows_once_the_ttl_has_passed(
    app, browser, monkeypatch
):
    with app.app_context():
        factories.program(factories.institution(country="KZ"))
    assert countries_offered(browser) == ["KZ"]
    with app.app_context(), db.engine.begin() as conn:
        # Another gunicorn worker's commit: no event of this process sees it.
        conn.execute(sa.update(Institution).values(country="KG"))
    assert countries_offered(browser) == ["KZ"]
    now = readcache.time.monotonic()
    monkeypatch.setattr(readcache.time, "monotonic", lambda: now + FACETS.ttl + 1)
    assert countries_offered(browser) == ["KG"]


def test_a_rolled_back_change_keeps_the_cache(app):
    with app.app_context():
        factories.program(factories.institution(country="KZ"))
        loads = []
        FACETS.get("probe", lambda: loads.append(1) or "kept")
        host = db.session.scalar(sa.select(Institution))
        host.country = "KG"
        db.session.flush()
        db.session.rollback()
        assert FACETS.get("probe", lambda: loads.append(1) or "reloaded") == "kept"
        assert loads == [1]
