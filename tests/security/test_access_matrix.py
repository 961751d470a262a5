"""Every route × every role × the states that matter: who gets what, and nobody gets more."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from tests.security.security_world import (
    LETTER_STATES,
    ROLES,
    STATES,
    World,
    browser_for,
    build_world,
    changed,
    fill,
    leaked,
    snapshot,
    watching_writes,
)

# Endpoints that serve files of the framework, not of the portal.
NOT_OURS = {"static"}


@dataclass(frozen=True)
class Go:
    """A redirect to a path of this site; the path may name the world's values."""

    path: str


LOGIN = Go("/account/login")
HOME = Go("/")
STAFF_HOME = Go("/home")
Who = Callable[[str], frozenset[str]]
Expect = int | Go | Callable[[str, str], "int | Go"]


def always(*roles: str) -> Who:
    """Let the roles in, whatever the state."""
    return lambda _state: frozenset(roles)


def unless_draft(*roles: str) -> Who:
    """Let the roles in once the student has submitted (nobody but the student sees a draft)."""
    return lambda state: frozenset(roles) if state != "draft" else frozenset()


def with_letter(*roles: str) -> Who:
    """Let the roles in when the application has an issued letter."""
    return lambda state: frozenset(roles) if state in LETTER_STATES else frozenset()


def nominated(*roles: str) -> Who:
    """Let the roles in when the student is nominated."""
    return lambda state: frozenset(roles) if state == "nominated" else frozenset()


def union(*whos: Who) -> Who:
    """Let in whoever any of the rules lets in."""
    return lambda state: frozenset().union(*(who(state) for who in whos))


NOBODY: Who = always()
EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {"anonymous"}
STUDENTS = ("student", "other_student")
PARTNERS = ("partner_other", "partner_sending", "partner_receiving")
COORDINATORS = ("coordinator_other", "coordinator")
REVIEWERS = ("reviewer_unassigned", "reviewer_assigned")
RUNS_IT = ("coordinator", "admin")  # who runs the student's programme


def _anonymous_only(role: str, _state: str) -> int | Go:
    return 200 if role == "anonymous" else HOME


def _login_form(role: str, _state: str) -> int | Go:
    # Someone already logged in goes where a login lands them: staff to what waits for them.
    if role == "anonymous":
        return 200
    return HOME if role in STUDENTS else STAFF_HOME


def _draft_or_detail(_role: str, state: str) -> int | Go:
    # A submitted application's steps send the student to its read-only page.
    return 200 if state == "draft" else Go("/applications/{application_id}")


@dataclass(frozen=True)
class Rule:
    """Who may GET and who may POST an endpoint, and what everyone else gets."""

    get: Who | None = None  # None: the endpoint takes no GET
    post: Who | None = None  # everyone else's POST is refused and changes nothing
    ok: Expect = 200  # what an allowed GET answers
    denied: int | Go = 404  # another user's object, or a page of another role
    anonymous: int | Go = LOGIN  # unless anonymous is let in
    post_denied: Callable[[str, str], int | Go | None] | None = None  # exceptions to the above
    payload: Callable[[World], dict[str, object]] = lambda _w: {}
    rename: dict[str, str] = field(default_factory=dict)  # URL variable -> world value
    discloses: bool = False  # shows the student to anyone holding a code (the letter check)


PUBLIC = Rule(get=always(*EVERYONE))
PUBLIC_FORM = Rule(get=always(*EVERYONE), post=always(*EVERYONE))
API = Rule(get=NOBODY, denied=401, anonymous=401)  # a cookie session is not a token
OWNER = always("student")
PROGRAMME_PAGE = Rule(get=always(*RUNS_IT))
PROGRAMME_FORM = Rule(get=always(*RUNS_IT), post=always(*RUNS_IT))
PROGRAMME_ACTION = Rule(post=always(*RUNS_IT))
LIST_FOR_COORDINATORS = Rule(get=always(*COORDINATORS, "admin"))
NOMINATION_READERS = Rule(get=always(*PARTNERS, *COORDINATORS, "admin"))
DOCUMENT_READERS = union(
    always("student", "admin"),
    unless_draft("coordinator", "reviewer_assigned"),
    nominated("partner_sending", "partner_receiving"),
)


def _upload(_w: World) -> dict[str, object]:
    return {"kind": "passport", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "forged.pdf")}


def _sending_partner_is_told_no(role: str, state: str) -> int | Go | None:
    # The sending university reads the nomination but only the receiving one answers it.
    if role == "partner_sending" and state == "nominated":
        return Go("/partner/nominations/{nomination_id}")
    return None


TABLE: dict[str, Rule] = {
    # Public pages and the account forms: nothing of anyone's is behind them.
    "main.index": PUBLIC,
    # What waits for each member of staff: counts of their own lists, nobody's names.
    "main.home": Rule(get=always(*REVIEWERS, *PARTNERS, *COORDINATORS, "admin")),
    "health.healthz": PUBLIC,
    # Guarded by the caller's address, not a role (METRICS_ALLOWED, tests/core/test_metrics.py);
    # the test client calls from 127.0.0.1, which is allowed. It carries no personal data.
    "metrics.metrics": PUBLIC,
    "programs.catalogue": PUBLIC,
    "programs.detail": PUBLIC,
    "auth.check_mail": PUBLIC,
    "auth.forgot": PUBLIC_FORM,
    "auth.resend": PUBLIC_FORM,
    "auth.reset": PUBLIC_FORM,  # the link is the key; the page shows no address
    "auth.register": Rule(get=always(*EVERYONE), post=always(*EVERYONE), ok=_anonymous_only),
    "auth.login": Rule(get=always(*EVERYONE), post=always(*EVERYONE), ok=_login_form),
    "auth.verify": Rule(
        get=always(*EVERYONE),
        ok=lambda role, _s: LOGIN if role == "anonymous" else HOME,
        rename={"token": "verify_token"},
    ),
    "auth.language": Rule(post=always(*EVERYONE)),
    "auth.logout": Rule(post=always(*LOGGED_IN)),
    "auth.password": Rule(get=always(*LOGGED_IN), post=always(*LOGGED_IN)),  # one's own
    "offers.verify_form": PUBLIC_FORM,
    "offers.verify": Rule(get=with_letter(*EVERYONE), anonymous=404, denied=404, discloses=True),
    # The partner API takes tokens only.
    "api.openapi": PUBLIC,
    "api.list_nominations": API,
    "api.get_nomination": API,
    "api.list_documents": API,
    "api.download_document": API,
    "api.post_answer": Rule(
        post=NOBODY, denied=401, anonymous=401, payload=lambda _w: {"answer": "verified"}
    ),
    "ewp.ewp_index": API,
    "ewp.ewp_get": API,
    # A student's own pages.
    "applications.dashboard": Rule(get=always(*STUDENTS)),
    "profiles.edit": Rule(
        get=always(*STUDENTS),
        post=always(*STUDENTS),
        payload=lambda _w: {"native_given_names": "Forged"},
    ),
    "profiles.transliterate": Rule(get=always(*STUDENTS)),
    "applications.apply": Rule(post=always(*STUDENTS)),
    # The student's application: theirs alone.
    "applications.detail": Rule(get=OWNER),
    "applications.step_profile": Rule(get=OWNER, ok=_draft_or_detail),
    "applications.review": Rule(get=OWNER, ok=_draft_or_detail),
    "applications.motivation": Rule(
        get=OWNER,
        post=OWNER,
        ok=_draft_or_detail,
        payload=lambda _w: {"motivation": "Forged motivation. " * 20, "save": "1"},
    ),
    "applications.questions": Rule(
        get=OWNER, post=OWNER, ok=_draft_or_detail, payload=lambda _w: {"save": "1"}
    ),
    "applications.submit": Rule(post=OWNER),
    "applications.withdraw": Rule(post=OWNER, payload=lambda _w: {"reason": "forged"}),
    "documents.manage": Rule(get=OWNER, post=OWNER, payload=_upload),
    "documents.remove": Rule(post=OWNER),
    "documents.download": Rule(get=DOCUMENT_READERS),
    "documents.view": Rule(get=DOCUMENT_READERS),
    "offers.download": Rule(get=with_letter("student", *RUNS_IT)),
    "offers.respond": Rule(
        post=OWNER, payload=lambda w: {"offer_id": w["offer_id"], "accept": "1"}
    ),
    # Staff at work on the application.
    "staff.application": Rule(
        get=union(always("admin"), unless_draft("coordinator", "reviewer_assigned"))
    ),
    "staff.decide": Rule(
        post=unless_draft(*RUNS_IT),
        payload=lambda w: {"target": "rejected", "version": w["version"], "reason": "forged"},
    ),
    "staff.assign": Rule(post=unless_draft(*RUNS_IT), payload=lambda w: {"reviewer": "1"}),
    "staff.review": Rule(
        post=unless_draft("reviewer_assigned"),
        payload=lambda w: {f"c{w['criterion_id']}": "9", "comment_text": "forged"},
    ),
    "offer_staff.issue_one": Rule(
        post=unless_draft(*RUNS_IT), payload=lambda _w: {"language": "en"}
    ),
    "offer_staff.revoke": Rule(post=with_letter(*RUNS_IT), payload=lambda _w: {"reason": "forged"}),
    # The programme's pages: its coordinator and the admin.
    "staff.best": Rule(
        get=always(*RUNS_IT),
        post=always(*RUNS_IT),
        payload=lambda _w: {"accept": "1", "waitlist": "0", "confirm": "y"},
    ),
    "staff.emails": Rule(
        get=always(*RUNS_IT),
        post=always(*RUNS_IT),
        payload=lambda _w: {
            "state": "accepted",
            "locale": "en",
            "subject": "Forged",
            "body": "Forged",
            "save": "1",
        },
    ),
    "staff.auto_assign": Rule(post=always(*RUNS_IT), payload=lambda _w: {"per_application": "1"}),
    "staff.bulk": Rule(
        post=always(*RUNS_IT),
        payload=lambda w: {
            "target": "rejected",
            "ids": str(w["application_id"]),
            "confirm": "y",
            "reason": "forged",
        },
    ),
    "offer_staff.letter_settings": Rule(
        get=always(*RUNS_IT),
        post=always(*RUNS_IT),
        payload=lambda _w: {"locale": "en", "response_days": "14", "body": "Forged", "save": "1"},
    ),
    "offer_staff.program_offers": PROGRAMME_PAGE,
    "offer_staff.start_batch": PROGRAMME_ACTION,
    "offer_staff.job": PROGRAMME_PAGE,
    "offer_staff.job_status": PROGRAMME_PAGE,
    "program_admin.edit": Rule(
        get=always(*RUNS_IT), post=always(*RUNS_IT), payload=lambda _w: {"slug": "forged"}
    ),
    "program_admin.log": PROGRAMME_PAGE,
    "nominations.program_nominations": Rule(
        get=always(*RUNS_IT),
        post=always(*RUNS_IT),
        payload=lambda w: {"application": str(w["application_id"])},
    ),
    "queue.program": PROGRAMME_PAGE,
    "queue.program_csv": PROGRAMME_PAGE,
    "queue.program_xlsx": PROGRAMME_PAGE,
    # Lists of what the user may see: each role sees its own.
    "queue.index": LIST_FOR_COORDINATORS,
    "queue.index_csv": LIST_FOR_COORDINATORS,
    "queue.index_xlsx": LIST_FOR_COORDINATORS,
    "staff.dashboard": LIST_FOR_COORDINATORS,
    "program_admin.index": LIST_FOR_COORDINATORS,
    "program_admin.create": Rule(
        get=always(*COORDINATORS, "admin"),
        post=always(*COORDINATORS, "admin"),
        payload=lambda _w: {"slug": "forged"},
    ),
    "staff.my_reviews": Rule(get=always(*REVIEWERS, *COORDINATORS, "admin")),
    # Nominations and the partner portal.
    "nominations.partner_list": NOMINATION_READERS,
    "nominations.export_csv": NOMINATION_READERS,
    "nominations.export_xlsx": NOMINATION_READERS,
    "nominations.export_xml": NOMINATION_READERS,
    "nominations.export_pdf": NOMINATION_READERS,
    "nominations.export_zip": NOMINATION_READERS,
    "nominations.partner_detail": Rule(
        get=nominated("partner_sending", "partner_receiving", *RUNS_IT)
    ),
    "nominations.answer": Rule(
        post=nominated("partner_receiving"),
        post_denied=_sending_partner_is_told_no,
        payload=lambda _w: {"verdict": "verified"},
    ),
    "tokens.index": Rule(get=always(*PARTNERS)),
    "tokens.create": Rule(post=always(*PARTNERS), payload=lambda _w: {"name": "Forged"}),
    "tokens.revoke": Rule(post=always("partner_receiving")),
    # The operator.
    "admin.users": Rule(
        get=always("admin"),
        post=always("admin"),
        payload=lambda _w: {"email": "forged@example.kz", "role": "admin", "institution": "0"},
    ),
}


def knows_the_student(role: str, state: str) -> bool:
    """Tell whether the role may see the student's name and address anywhere in this state."""
    if role in ("student", "admin"):
        return True
    if role in ("coordinator", "reviewer_assigned"):
        return state != "draft"
    if role in ("partner_sending", "partner_receiving"):
        return state == "nominated"
    return False


def expected_get(rule: Rule, role: str, state: str) -> int | Go:
    """Return what a GET of the endpoint answers the role in the state."""
    assert rule.get is not None
    if role in rule.get(state):
        return rule.ok(role, state) if callable(rule.ok) else rule.ok
    return rule.anonymous if role == "anonymous" else rule.denied


def expected_refusal(rule: Rule, role: str, state: str) -> int | Go:
    """Return what a POST of a role that may not write answers."""
    special = rule.post_denied(role, state) if rule.post_denied else None
    if special is not None:
        return special
    return rule.anonymous if role == "anonymous" else rule.denied


def check(response, expected: int | Go, world: World, what: str) -> str | None:
    """Compare a response with what the table says; return the problem, if any."""
    if isinstance(expected, Go):
        location = response.headers.get("Location", "")
        parts = urlsplit(location)
        want = expected.path.format(**world.values)
        if response.status_code not in (302, 303) or parts.path != want:
            return f"{what}: {response.status_code} {location!r}, expected a redirect to {want}"
        if parts.netloc not in ("", "kopir.test"):
            return f"{what}: redirected off the site to {location!r}"
        return None
    if response.status_code != expected:
        return f"{what}: {response.status_code}, expected {expected}"
    return None


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint not in NOT_OURS:
            yield rule


def test_the_table_classifies_every_endpoint(app):
    endpoints = {rule.endpoint for rule in _rules(app)}
    unclassified = endpoints - TABLE.keys()
    assert not unclassified, f"say who may use {sorted(unclassified)} in TABLE"
    assert not TABLE.keys() - endpoints, "TABLE names endpoints that are gone"
    for rule in _rules(app):
        entry = TABLE[rule.endpoint]
        assert (entry.get is not None) == ("GET" in rule.methods), rule.endpoint
        writes = bool(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
        assert (entry.post is not None) == writes, rule.endpoint


@pytest.mark.parametrize("state", STATES)
def test_every_page_for_every_role(app, state, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_VERIFY", "100000 per minute")
    world = build_world(app, state)
    problems: list[str] = []
    cases = 0
    for role in ROLES:
        browser = browser_for(app, world, role)
        for rule in _rules(app):
            entry = TABLE[rule.endpoint]
            if entry.get is None:
                continue
            url = fill(rule.rule, world, entry.rename)
            response = browser.get(url)
            cases += 1
            what = f"{state} {role} GET {url}"
            expected = expected_get(entry, role, state)
            problem = check(response, expected, world, what)
            if problem:
                problems.append(problem)
            allowed = role in entry.get(state)
            # The student's own name and address are on every page they see (the menu).
            refused = not allowed and role != "student"
            if refused or (not knows_the_student(role, state) and not entry.discloses):
                found = leaked(response)
                if found:
                    problems.append(f"{what}: shows {found}")
    assert not problems, "\n".join(problems)
    assert cases >= 60 * len(ROLES)


@pytest.mark.parametrize("state", STATES)
def test_nobody_writes_what_is_not_theirs(app, state, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_VERIFY", "100000 per minute")
    world = build_world(app, state)
    before = snapshot(app)
    problems: list[str] = []
    cases = 0
    for role in ROLES:
        browser = browser_for(app, world, role)
        # A valid token, read from a page this role sees, as a forged form would carry.
        token = browser.token("/")
        for rule in _rules(app):
            entry = TABLE[rule.endpoint]
            if entry.post is None or role in entry.post(state):
                continue
            url = fill(rule.rule, world, entry.rename)
            with watching_writes(app) as writes:
                response = browser.post(url, {**entry.payload(world), "csrf_token": token})
            cases += 1
            what = f"{state} {role} POST {url}"
            problem = check(response, expected_refusal(entry, role, state), world, what)
            if problem:
                problems.append(problem)
            if writes:
                # A refusal decides before it writes, even what a rollback would undo.
                problems.append(f"{what}: tried {writes}")
            found = leaked(response)
            if found and not knows_the_student(role, state):
                problems.append(f"{what}: shows {found}")
        # Every table and the file store, compared once per role (the statements above
        # already name the request that tried to write).
        after = snapshot(app)
        if changed(before, after):
            problems.append(f"{state} {role}: POSTs changed {changed(before, after)}")
            before = after
    assert not problems, "\n".join(problems)
    assert cases >= 100


def test_ids_that_do_not_belong_together_answer_404(app):
    from portal.applications.models import Application
    from portal.db import utcnow
    from portal.documents.models import Document
    from portal.extensions import db
    from portal.offers.models import Offer

    world = build_world(app, "nominated")
    with app.app_context():
        # Another student's offered application with a letter, and a replaced document.
        other = Application(
            student_id=world.users["other_student"],
            program_id=world["program_id"],
            state="offered",
            submitted_at=utcnow(),
        )
        db.session.add(other)
        db.session.flush()
        letter = Offer(
            application_id=other.id,
            version=1,
            reference="KOP-2026-999999",
            language="en",
            storage_key="none.pdf",
            size=0,
            sha256="0" * 64,
            code_hash="1" * 64,
            response_deadline=utcnow(),
            printed={},
        )
        mine = db.session.get(Document, world["document_id"])
        replaced = Document(
            application_id=mine.application_id,
            kind=mine.kind,
            original_name="old-passport.pdf",
            media_type=mine.media_type,
            size=mine.size,
            sha256=mine.sha256,
            storage_key="replaced.pdf",
            superseded_at=utcnow(),
        )
        db.session.add_all([letter, replaced])
        db.session.commit()
        other_id, letter_id, replaced_id = other.id, letter.id, replaced.id
    mine_app, mine_letter = world["application_id"], world["offer_id"]
    cases = [
        ("student", f"/applications/{mine_app}/letters/{letter_id}.pdf"),
        ("admin", f"/applications/{mine_app}/letters/{letter_id}.pdf"),
        ("coordinator", f"/applications/{other_id}/letters/{mine_letter}.pdf"),
        ("admin", f"/applications/{other_id}/letters/{mine_letter}.pdf"),
        ("partner_receiving", f"/documents/{replaced_id}"),
        ("partner_sending", f"/documents/{replaced_id}/view"),
    ]
    for role, url in cases:
        assert browser_for(app, world, role).get(url).status_code == 404, (role, url)
    # The API gives partners the documents the student stands by, not replaced ones.
    api = app.test_client()
    omobility = world["omobility_id"]
    response = api.get(
        f"/api/v1/nominations/{omobility}/documents/{replaced_id}",
        headers={"Authorization": f"Bearer {world.api_token}"},
    )
    assert response.status_code == 404
    # The student answers only the letter of their own application.
    before = snapshot(app)
    student = browser_for(app, world, "student")
    response = student.post(
        f"/applications/{other_id}/offer", {"offer_id": letter_id, "accept": "1"}
    )
    assert response.status_code == 404
    assert not changed(before, snapshot(app))
