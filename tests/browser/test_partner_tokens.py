"""A partner in a browser makes a token for 30 days and is warned on the nominations page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.api.models import ApiToken
from portal.db import utcnow
from portal.extensions import db
from tests.api.test_api import _nominate
from tests.browser.test_offers import _login
from tests.browser.test_student_journey import DEVICES, Page
from tests.nominations.conftest import build_world

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device", DEVICES)
def test_partner_makes_a_token_and_is_warned_before_it_ends(
    app, live_server, chromium, screenshots, device
):
    world = build_world(app)
    _nominate(app, world)
    context = chromium.new_context(locale="en-GB", **DEVICES[device])
    tab = Page(context, live_server, screenshots, f"partner-tokens-{device}", device == "phone")
    page = tab.page
    _login(tab, lambda text: text, world.partner_host)
    tab.goto("/partner/tokens")
    page.get_by_label("What will use the token?").fill("MoveON sync")
    page.get_by_label("Valid for").select_option("30")
    page.get_by_role("button", name="Make a token").click()
    tab.shot("made")
    assert page.locator("#new-token").inner_text().startswith("kop_")
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
        token.expires_at = utcnow() + timedelta(days=5, hours=1)
        db.session.commit()
    tab.goto("/partner/nominations")
    tab.shot("warned")
    warning = page.locator("#token-expiry-warning")
    assert warning.is_visible() and "MoveON sync" in warning.inner_text()
    warning.get_by_role("link", name="API tokens").click()
    tab.shot("tokens-ending")
    assert page.get_by_text("in 5 days").is_visible()
    context.close()
    assert not tab.problems, tab.problems
