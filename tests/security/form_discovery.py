"""A world with an object in every state that shows a form, and the forms its pages serve.

Shared by the tests that post every form of the portal, fuzzed (tests/security/test_fuzz_forms.py)
and exactly as served (tests/core/test_forms_as_served.py): each role opens every GET page it can
(the url_map filled with the world's ids) and each ``<form method=post>`` found is described with
the values a browser would send untouched.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes, urlencode, urljoin, urlsplit

import lxml.html
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from portal.api.models import ApiToken
from portal.applications.models import Application
from portal.applications.services import snapshot_profile
from portal.applications.states import State
from portal.auth.models import Role
from portal.db import utcnow
from portal.extensions import db
from portal.jobs import Job
from portal.nominations import services as nominations
from portal.offers import services as offers
from portal.programs.models import ProgramStaff, RubricCriterion
from portal.reviews.models import Review
from tests import factories
from tests.conftest import Browser
from tests.nominations.conftest import add_document

# The roles in the order their pages are walked: a form several roles see is kept for the
# first (anonymous sees the language switcher, the student the logout button, and so on).
ROLES = ("anonymous", "student", "reviewer", "partner", "coordinator", "admin")

# Address prefixes and suffixes that serve no HTML form (files, JSON, XML, the token API).
SKIP_PREFIXES = ("/static", "/api/", "/ewp/")
SKIP_SUFFIXES = (".csv", ".xlsx", ".pdf", ".zip", ".xml", ".json")
# POST endpoints no HTML form leads to: the JSON API (fuzzed by tests/api/test_openapi.py).
NO_FORM_ENDPOINTS = {"api.post_answer"}

# ----- the world --------------------------------------------------------------------------------


@dataclass
class World:
    emails: dict[str, str]
    values: dict[str, list[Any]] = field(default_factory=dict)


def build_world(app) -> World:
    """Make an object in every state that shows a form, and one user per role."""
    from portal.auth.services import RESET_SALT, _password_fingerprint, _serializer

    with app.test_request_context("/"):
        host = factories.institution(schac="vku.edu.kz")
        sending = factories.institution(schac="knu.kg", country="KG", timezone="Asia/Bishkek")
        users = {
            "student": factories.user(email="aru@example.kz"),
            "reviewer": factories.user(Role.REVIEWER, email="rev@vku.edu.kz", institution=host),
            "partner": factories.user(Role.PARTNER, email="partner@vku.edu.kz", institution=host),
            "coordinator": factories.user(
                Role.COORDINATOR, email="coord@vku.edu.kz", institution=host
            ),
            "admin": factories.user(Role.ADMIN, email="admin@vku.edu.kz"),
        }
        forgetful = factories.user(email="forgetful@example.kz")
        # A valid IIN for the factory's birth date and sex: the profile form checks it again.
        factories.complete_profile(
            users["student"], home_institution=sending, national_id="030517500009"
        )
        questions = [("short", "Your favourite mountain"), ("long", "Tell us more")]
        programs = [
            factories.program(host, questions=questions, partners=[sending]) for _ in range(3)
        ]
        unapplied = factories.program(host, slug="still-open")
        for program in programs:
            for role in ("coordinator", "reviewer"):
                db.session.add(ProgramStaff(program=program, user=users[role], role=role))
            program.criteria.append(
                RubricCriterion(position=1, names={"en": "Motivation"}, max_score=10)
            )
        db.session.commit()
        draft_program, submitted_program, offered_program = programs
        choice = draft_program.questions[0]
        choice.kind = "choice"
        choice.choices = [{"value": v, "labels": {"en": v.upper()}} for v in ("a", "b")]
        db.session.commit()

        def application(student, program, state, **values):
            obj = Application(
                student=student,
                program=program,
                state=state.value,
                motivation="I want to study glaciers in the Altai. " * 8,
                submitted_at=None if state == State.DRAFT else utcnow(),
                profile_snapshot=snapshot_profile(student.profile),
                **values,
            )
            db.session.add(obj)
            db.session.commit()
            return obj

        student = users["student"]
        draft = application(student, draft_program, State.DRAFT)
        submitted = application(student, submitted_program, State.SUBMITTED)
        offered = application(student, offered_program, State.ACCEPTED)
        db.session.add(Review(application=submitted, reviewer=users["reviewer"]))
        draft_letter = offers.prepare(offered, verify_prefix=offers.verify_prefix())
        # The letter's PDF is never opened here, so WeasyPrint need not render it.
        offer, _key = offers.finish(draft_letter, b"%PDF-1.4\n%%EOF\n", actor=users["coordinator"])
        code = draft_letter.facts.code
        db.session.commit()
        confirmed = {}
        for name in ("ready", "nominated"):
            other = factories.user(email=f"{name}@example.kg")
            factories.complete_profile(other, home_institution=sending)
            confirmed[name] = application(other, submitted_program, State.CONFIRMED)
        waiting = factories.user(email="accepted@example.kg")
        factories.complete_profile(waiting, home_institution=sending)
        application(waiting, offered_program, State.ACCEPTED)
        nomination = nominations.nominate(confirmed["nominated"], actor=users["coordinator"])
        job = Job(kind="issue_offers", program_id=offered_program.id, state="done")
        db.session.add(job)
        _row, _secret = ApiToken.issue(host.id, "Mobility-Online", users["partner"].id)
        db.session.commit()
        reset = _serializer(RESET_SALT).dumps(
            {"u": forgetful.id, "h": _password_fingerprint(forgetful)}
        )
        return World(
            emails={role: u.email for role, u in users.items()},
            values={
                "application_id": [
                    draft.id, submitted.id, offered.id,
                    confirmed["ready"].id, confirmed["nominated"].id,
                ],
                "program_id": [p.id for p in programs],
                "slug": [unapplied.slug, draft_program.slug],
                "offer_id": [offer.id],
                "document_id": [add_document(draft.id)],
                "nomination_id": [nomination.id],
                "token_id": [_row.id],
                "job_id": [job.id],
                "token": [reset],
                "code": [code],
            },
        )


# ----- discovery --------------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, multiple, checkbox, radio, hidden, file, submit, ...
    options: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # what a browser sends untouched


@dataclass
class Form:
    key: str  # endpoint and field names, ids masked: the same form on other objects is one
    role: str
    page: str
    action: str
    multipart: bool
    fields: list[Field]


def _controls(form: lxml.html.FormElement) -> list[Any]:
    """Return the form's controls, with those outside it that name it (form="id")."""
    inside = list(form.iter("input", "select", "textarea", "button"))
    owner = form.get("id")
    if owner:
        root = form.getroottree().getroot()
        inside += [el for el in root.xpath("//*[@form=$id]", id=owner) if el not in inside]
    return inside


def textarea_value(element: lxml.html.HtmlElement) -> str:
    """Return what a browser sends for a textarea left as served.

    HTML drops one line break right after ``<textarea>`` (WTForms writes one), and a browser
    sends every line break as CRLF.
    """
    text = element.text or ""
    if text.startswith("\n"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _field_list(form: lxml.html.FormElement) -> list[Field]:
    found: dict[str, Field] = {}
    for element in _controls(form):
        name = element.get("name")
        if not name or element.get("disabled") is not None:
            continue
        if element.tag == "select":
            options = [o.get("value", o.text_content()) for o in element.iter("option")]
            chosen = [
                o.get("value", o.text_content())
                for o in element.iter("option")
                if o.get("selected") is not None
            ]
            kind = "multiple" if element.get("multiple") is not None else "select"
            if not chosen and options and kind == "select":
                chosen = options[:1]
            found.setdefault(name, Field(name, kind, options, chosen))
        elif element.tag == "textarea":
            found.setdefault(name, Field(name, "textarea")).values.append(textarea_value(element))
        else:
            kind = (element.get("type") or ("submit" if element.tag == "button" else "text"))
            kind = kind.lower()
            value = element.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind in ("checkbox", "radio", "submit"):
                entry = found.setdefault(name, Field(name, kind))
                entry.options.append(value)
                if kind != "submit" and element.get("checked") is not None:
                    entry.values.append(value)
            else:
                # Inputs sharing a name (the ids of a selection) are all sent.
                found.setdefault(name, Field(name, kind)).values.append(value)
    return list(found.values())


def describe_form(
    adapter: Any, role: str, url: str, element: lxml.html.FormElement, token_page: str = ""
) -> Form:
    """Describe one POST form found at url (token_page: a GET page giving the CSRF token)."""
    action = urljoin(url, element.get("action") or url)
    path = urlsplit(action).path
    try:
        endpoint, _args = adapter.match(path, method="POST")
    except (NotFound, MethodNotAllowed, RequestRedirect) as exc:
        raise AssertionError(f"{url} has a form posting to {action}: {exc!r}") from exc
    fields = _field_list(element)
    masked = sorted({re.sub(r"\d+", "#", f.name) for f in fields})
    return Form(
        key=f"{endpoint} {' '.join(masked)}",
        role=role,
        page=token_page or url,
        action=action,
        multipart=(element.get("enctype") or "").lower() == "multipart/form-data",
        fields=fields,
    )


def discover(app, browser: Browser, role: str, world: World) -> list[Form]:
    """Open every GET page the role can and return the POST forms on them."""
    adapter = app.url_map.bind("kopir.test")
    forms: list[Form] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.rule.startswith(SKIP_PREFIXES):
            continue
        if rule.rule.endswith(SKIP_SUFFIXES) or rule.endpoint == "auth.verify":
            continue
        missing = [a for a in rule.arguments if a not in world.values]
        assert not missing, f"add {missing} of {rule.rule} to the world"
        names = sorted(rule.arguments)
        for combo in itertools.product(*(world.values[n] for n in names)):
            pages = [adapter.build(rule.endpoint, dict(zip(names, combo, strict=True)))]
            while pages:
                url = pages.pop()
                response = browser.get(url)
                if response.status_code != 200 or response.mimetype != "text/html":
                    continue
                page = lxml.html.fromstring(response.get_data(as_text=True))
                for element in page.forms:
                    if (element.get("method") or "get").lower() == "post":
                        forms.append(describe_form(adapter, role, url, element))
                    elif "?" not in url:
                        # A GET form's answer may show more forms (a preview to confirm): follow
                        # it once, sent as the browser would, untouched.
                        query = urlencode(element.form_values())
                        pages.append(urljoin(url, element.get("action") or url) + "?" + query)
    return forms


# ----- posting ----------------------------------------------------------------------------------


def _bytes(value: str | bytes) -> bytes:
    """Encode text as UTF-8, lone surrogates included (as a careless client would)."""
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def encode_form(pairs: list[tuple[str, Any]], multipart: bool) -> tuple[bytes, str]:
    """Encode pairs exactly as sent on the wire, invalid UTF-8 included."""
    if not multipart:
        body = "&".join(
            f"{quote_from_bytes(_bytes(k))}={quote_from_bytes(_bytes(v))}" for k, v in pairs
        )
        return body.encode("ascii"), "application/x-www-form-urlencoded"
    boundary = b"kopir-fuzz-boundary-7MA4YWxkTrZu0gW"
    chunks = []
    for name, value in pairs:
        head = b'Content-Disposition: form-data; name="' + _bytes(name) + b'"'
        if isinstance(value, tuple):  # a file: (name, content)
            filename, content = value
            head += b'; filename="' + _bytes(filename).replace(b'"', b"%22") + b'"'
            head += b"\r\nContent-Type: application/octet-stream"
            value = content
        chunks.append(b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + _bytes(value) + b"\r\n")
    body = b"".join(chunks) + b"--" + boundary + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary.decode()}"


def forms_on(app, html: str, url: str, role: str = "") -> list[Form]:
    """Return the POST forms of a page served at url."""
    adapter = app.url_map.bind("kopir.test")
    return [
        describe_form(adapter, role, url, element)
        for element in lxml.html.fromstring(html).forms
        if (element.get("method") or "get").lower() == "post"
    ]


def buttons(form: Form) -> list[tuple[str, str] | None]:
    """Return each named submit button's pair, or [None] when the buttons have no name."""
    named = [(f.name, value) for f in form.fields if f.kind == "submit" for value in f.options]
    return named or [None]


def as_served(
    form: Form, button: tuple[str, str] | None = None, **typed: str
) -> list[tuple[str, Any]]:
    """Return the pairs a browser sends for the form as served, the button pressed.

    Hidden fields (the CSRF token too), default values, the selected option (the first when none
    is), ticked boxes only, textarea contents, and an empty part for a file input (no file
    chosen). ``typed`` replaces what the person typed into some fields.
    """
    pairs: list[tuple[str, Any]] = []
    for f in form.fields:
        if f.kind == "submit":
            continue
        if f.name in typed:
            pairs.append((f.name, typed[f.name]))
        elif f.kind == "file":
            pairs.append((f.name, ("", b"")))
        else:
            pairs.extend((f.name, value) for value in f.values)
    missing = set(typed) - {f.name for f in form.fields}
    assert not missing, f"the form has no field {sorted(missing)}"
    if button is not None:
        pairs.append(button)
    return pairs


def post_as_served(
    browser: Browser, form: Form, button: tuple[str, str] | None = None, **typed: str
):
    """Post the form as a browser does when the person presses its button."""
    body, content_type = encode_form(as_served(form, button, **typed), form.multipart)
    return browser.client.post(form.action, data=body, content_type=content_type)


def logged_in(app, role: str, world: World) -> Browser:
    """Return a browser logged in as the role with its password (anonymous: not logged in)."""
    browser = Browser(app.test_client())
    if role != "anonymous":
        response = browser.login(world.emails[role], factories.PASSWORD)
        assert response.status_code == 302, f"{role} cannot log in"
    return browser


def discover_all(app, world: World) -> tuple[dict[str, Form], dict[str, set[str]]]:
    """Return the distinct forms (each with the first role that saw it) and each role's keys."""
    distinct: dict[str, Form] = {}
    per_role: dict[str, set[str]] = {}
    for role in ROLES:
        browser = logged_in(app, role, world)
        found = discover(app, browser, role, world)
        per_role[role] = {f.key for f in found}
        for f in found:
            distinct.setdefault(f.key, f)
    return distinct, per_role


