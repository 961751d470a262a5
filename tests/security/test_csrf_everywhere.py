"""Every route that changes something refuses a form without its CSRF token, for everyone."""

from __future__ import annotations

import pytest

from portal.extensions import csrf
from tests.security.security_world import (
    browser_for,
    build_world,
    changed,
    fill,
    snapshot,
)

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Who has rights somewhere: the owner, each kind of staff, the receiving partner, the admin.
ACTORS = ("anonymous", "student", "reviewer_assigned", "coordinator", "partner_receiving", "admin")
# A form as a forged page would send it: plausible fields, no token.
FORM = {
    "confirm": "y",
    "reason": "forged",
    "verdict": "verified",
    "target": "rejected",
    "answer": "verified",
    "lang": "ru",
    "name": "forged",
}


def _exempt(app, rule) -> bool:
    """Tell whether Flask-WTF skips the CSRF check for the rule's view."""
    blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
    view = app.view_functions[rule.endpoint]
    return (
        blueprint in csrf._exempt_blueprints
        or f"{view.__module__}.{view.__name__}" in csrf._exempt_views
    )


def write_rules(app):
    """Return every rule that takes a method which changes something, with those methods."""
    return [
        (rule, sorted(rule.methods & WRITES))
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        if rule.methods & WRITES
    ]


def test_csrf_is_on_and_only_the_token_api_is_exempt(app):
    assert app.config["WTF_CSRF_ENABLED"] is not False
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True)
    assert WRITES <= set(app.config["WTF_CSRF_METHODS"])
    exempt = [rule.rule for rule, _methods in write_rules(app) if _exempt(app, rule)]
    assert exempt, "the API's answer endpoint should be found here"
    # A route without the check must authenticate by a bearer token, as /api/v1 does.
    assert all(path.startswith("/api/v1/") for path in exempt), exempt
    assert len(write_rules(app)) >= 30


@pytest.mark.parametrize("state", ["draft", "nominated"])
def test_every_form_without_a_token_is_refused(app, state):
    world = build_world(app, state)
    before = snapshot(app)
    problems = []
    cases = 0
    for role in ACTORS:
        browser = browser_for(app, world, role)
        browser.get("/")  # the session exists and holds a CSRF secret; the form omits the token
        for rule, methods in write_rules(app):
            if _exempt(app, rule):
                continue
            url = fill(rule.rule, world)
            for method in methods:
                for token in (None, "", "forged-token", world.values["token"]):
                    data = dict(FORM) if token is None else {**FORM, "csrf_token": token}
                    response = browser.client.open(url, method=method, data=data)
                    cases += 1
                    what = f"{state} {role} {method} {url} token={token!r:.12}"
                    body = response.get_data(as_text=True)
                    if response.status_code != 400 or "Your session expired" not in body:
                        problems.append(f"{what}: {response.status_code}")
    after = snapshot(app)
    assert not changed(before, after), changed(before, after)
    assert not problems, "\n".join(problems)
    assert cases >= 30 * len(ACTORS) * 4


def test_another_sessions_token_is_refused(app):
    world = build_world(app, "draft")
    victim = browser_for(app, world, "student")
    attacker = browser_for(app, world, "other_student")
    stolen = attacker.token("/")  # valid, but bound to the attacker's session
    before = snapshot(app)
    url = f"/applications/{world['application_id']}/motivation"
    response = victim.client.post(
        url, data={"motivation": "forged " * 40, "save": "1", "csrf_token": stolen}
    )
    assert response.status_code == 400
    assert not changed(before, snapshot(app))


def test_a_cookie_session_cannot_use_the_api(app):
    world = build_world(app, "nominated")
    partner = browser_for(app, world, "partner_receiving")
    assert partner.get("/partner/nominations").status_code == 200  # the session works
    before = snapshot(app)
    omobility = world["omobility_id"]
    for rule, methods in write_rules(app):
        if not _exempt(app, rule):
            continue
        url = fill(rule.rule, world)
        for method in methods:
            for body in ({"json": {"answer": "verified"}}, {"data": {"answer": "verified"}}):
                response = partner.client.open(url, method=method, **body)
                assert response.status_code == 401, (url, response.status_code)
                assert response.get_json()["error"] == "unauthorized"
    for path in ("/api/v1/nominations", f"/api/v1/nominations/{omobility}"):
        assert partner.client.get(path).status_code == 401, path
    assert partner.client.get("/ewp/omobilities/index").status_code == 401
    assert not changed(before, snapshot(app))
    # The same call with the partner's bearer token goes through: the token is what counts.
    answered = partner.client.post(
        f"/api/v1/nominations/{omobility}/answer",
        json={"answer": "verified"},
        headers={"Authorization": f"Bearer {world.api_token}"},
    )
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["answer"] == "verified"
