"""Every POST form, found by walking the pages of each role, survives hostile input.

The world below has an object in every state that shows a form: drafts, submissions, offers,
confirmations, nominations, tokens. Each role opens every GET page it can (the url_map filled
with the world's ids); every ``<form method=post>`` found is fuzzed with hypothesis, keeping the
CSRF token valid. After every example the whole database is scanned for stored garbage.
"""

from __future__ import annotations

import itertools
import os
import re
import traceback
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes, urlencode, urljoin, urlsplit

import lxml.html
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
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

# Examples per distinct form: enough to hit every field, fast enough for CI. Set FUZZ_EXAMPLES
# to dig deeper locally (e.g. FUZZ_EXAMPLES=200).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures reproduce
    database=None,
    # Examples share one world that they may change, so a failure is reported, not shrunk.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# The roles in the order their forms are fuzzed: a form several roles see is fuzzed by the
# first (anonymous sees the language switcher, the student the logout button, and so on).
ROLES = ("anonymous", "student", "reviewer", "partner", "coordinator", "admin")

# Address prefixes and suffixes that serve no HTML form (files, JSON, XML, the token API).
SKIP_PREFIXES = ("/static", "/bootstrap", "/api/", "/ewp/")
SKIP_SUFFIXES = (".csv", ".xlsx", ".pdf", ".zip", ".xml", ".json")
# POST endpoints no HTML form leads to: the JSON API (fuzzed by tests/api/test_openapi.py).
NO_FORM_ENDPOINTS = {"api.post_answer"}

# ----- hostile values ---------------------------------------------------------------------------

HUGE = "Ә" * 70_000
HOSTILE_TEXT: list[str | bytes] = [
    "",
    " ",
    HUGE,
    "x" * 5_000,
    "\x00",
    "ab\x00cd",
    "\x01\x02\x07\x08\x0b\x0c\x1b[31mred\x1b[0m\x7f",
    "line one\r\nBcc: evil@example.com",
    "tab\there\nnew line",
    "\u0085\u009b",  # C1 controls
    "\ud800",  # a lone surrogate, as a client that sends CESU-8 would
    "A\udfffB",
    b"\xff\xfe\xfd",  # bytes that are not UTF-8 at all
    b"\xed\xa0\x80",  # a surrogate encoded in UTF-8
    b"\xc0\x80",  # an overlong NUL
    "\u202eevil.pdf",
    "\u202aa\u202bb\u202cc\u202dd",
    "\u2066isolate\u2069\u2067x\u2068y",
    "\u200b\u200d\ufeff",
    "Аsеl",  # Cyrillic А and е among Latin letters
    "АЛИХАН",
    "ALIKHAN",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "{name.__class__}{0}",
    "%(x)s %s %n",
    "' OR 1=1 --",
    "../../etc/passwd",
    "=HYPERLINK(\"http://evil\")",
    "ӘҒҚҢӨҰҮҺІ",
]
HOSTILE_NUMBERS = [
    "9" * 400,
    "-" + "9" * 400,
    "-1",
    "0",
    "-0",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e309",
    "1e-400",
    "0x10",
    "1_000",
    "١٢٣",
    "3.14159265358979",
    "9223372036854775808",
    "2147483648",
    " 7 ",
]
HOSTILE_DATES = [
    "2025-02-31",
    "2026-02-29",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2025-13-01",
    "2025-1-1",
    "31.02.2025",
    "2025-03-30T02:30",
    "2025-02-31T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
]

# ----- what stored text may hold ----------------------------------------------------------------

# Text kept on one line (names, codes, subjects): VARCHAR columns and these JSON columns of short
# texts per language. Everything else (TEXT, other JSON) is free text that may hold line breaks.
SINGLE_LINE_JSON = {
    ("institutions", "names"),
    ("institutions", "city"),
    ("programs", "titles"),
    ("programs", "place"),
    ("rubric_criteria", "names"),
    ("program_questions", "choices"),
    ("nominations", "student"),
    ("applications", "profile_snapshot"),
}
# Columns of codes and identifiers: never markup, quotes or spaces a user typed.
IDENTIFIERS = {
    "institutions": {"schac", "country", "timezone"},
    "programs": {
        "slug", "kind", "language", "isced_code", "fee_currency", "timezone",
        "required_language", "required_cefr", "promotion_mode",
    },
    "users": {"role", "locale", "session_key", "password_hash"},
    "api_tokens": {"token_hash", "hint"},
    "applications": {"state"},
    "jobs": {"kind", "state"},
    "letter_templates": {"locale"},
    "mail_templates": {"state", "locale"},
    "program_events": {"action"},
    "program_questions": {"kind"},
    "program_staff": {"role"},
    "student_profiles": {
        "native_name_lang", "citizenship", "passport_number", "phone", "isced_code",
        "gpa_scale",
    },
    "application_events": {"actor_role", "from_state", "to_state"},
    "documents": {"kind", "media_type", "sha256", "storage_key"},
    "language_skills": {"language", "level"},
    "nominations": {
        "omobility_id", "academic_year", "academic_term", "activity_type",
        "activity_attributes", "isced_code", "status", "answer",
    },
    "offers": {"reference", "language", "storage_key", "sha256", "code_hash", "status", "response"},
}
IDENTIFIER = re.compile(r"[A-Za-z0-9_.:/+@$=-]*")
# National identifiers keep the grouping their country prints (SNILS "112-233-445 95").
NATIONAL_ID = re.compile(r"[0-9A-Z -]*")
# Names refused with markup by the form (NoMarkup): what was typed must not come back as HTML.
NO_MARKUP = {
    ("student_profiles", "native_given_names"),
    ("student_profiles", "native_family_name"),
    ("student_profiles", "latin_given_names"),
    ("student_profiles", "latin_family_name"),
    ("student_profiles", "faculty"),
    ("student_profiles", "home_institution_other"),
    ("api_tokens", "name"),
    ("users", "email"),
    ("outgoing_mail", "recipient"),
    ("programs", "titles"),
    ("programs", "place"),
}
# The portal's four languages run left to right, so no stored text, single-line or not, needs
# explicit embeddings, overrides or isolates: they only serve to disguise (``evil\u202efdp.exe``).
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Multi-line free text keeps line breaks and tabs; single-line text keeps none of them.
MULTI_LINE_ALLOWED = set("\t\n\r")


def _strings(value: Any) -> list[str]:
    """Return every string inside a JSON value (keys too)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def garbage_in(table: str, column: str, text: str, single_line: bool) -> str | None:
    """Say what is wrong with a stored string, or None when it is clean."""
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cs":
            return "a lone surrogate"
        if category == "Cc" and (single_line or ch not in MULTI_LINE_ALLOWED):
            return f"the control character U+{ord(ch):04X}"
        if ch in BIDI_CONTROLS:
            return f"the bidi control U+{ord(ch):04X}"
    if column in IDENTIFIERS.get(table, ()) and not IDENTIFIER.fullmatch(text):
        return "something else than an identifier"
    if (table, column) == ("student_profiles", "national_id") and not NATIONAL_ID.fullmatch(text):
        return "something else than a national identifier"
    if (table, column) in NO_MARKUP and ("<" in text or ">" in text):
        return "markup"
    return None


def scan_for_garbage() -> set[tuple[str, str, int | None, str, str]]:
    """Return (table, column, row id, problem, value) for every bad stored string."""
    found = set()
    for table in db.metadata.sorted_tables:
        columns = [
            c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)
        ]
        if not columns:
            continue
        key = table.c.id if "id" in table.c else None
        selected = [key] if key is not None else []
        for row in db.session.execute(sa.select(*selected, *columns)):
            row_id = row[0] if key is not None else None
            for column, value in zip(columns, row[len(selected):], strict=True):
                if value is None:
                    continue
                json = isinstance(column.type, sa.JSON)
                single = (
                    (table.name, column.name) in SINGLE_LINE_JSON
                    if json
                    else isinstance(column.type, sa.String) and not isinstance(column.type, sa.Text)
                )
                for text in _strings(value):
                    problem = garbage_in(table.name, column.name, text, single)
                    if problem:
                        found.add((table.name, column.name, row_id, problem, repr(text[:80])))
    return found


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
        factories.complete_profile(users["student"], home_institution=sending)
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
            found.setdefault(name, Field(name, "textarea", [], [element.text or ""]))
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
                found.setdefault(name, Field(name, kind, [], [value]))
    return list(found.values())


def _form(
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
                        forms.append(_form(adapter, role, url, element))
                    elif "?" not in url:
                        # A GET form's answer may show more forms (a preview to confirm): follow
                        # it once, sent as the browser would, untouched.
                        query = urlencode(element.form_values())
                        pages.append(urljoin(url, element.get("action") or url) + "?" + query)
    return forms


# ----- posting ----------------------------------------------------------------------------------


def _bytes(value: str | bytes) -> bytes:
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


def _logged_in(app, role: str, world: World) -> Browser:
    browser = Browser(app.test_client())
    if role != "anonymous":
        response = browser.login(world.emails[role], factories.PASSWORD)
        assert response.status_code == 302, f"{role} cannot log in"
    return browser


def _hostile(kind: str, options: list[str]) -> st.SearchStrategy:
    texts = st.sampled_from(HOSTILE_TEXT) | st.text(max_size=30)
    if kind in ("number", "date", "datetime-local", "hidden"):
        texts = st.sampled_from(HOSTILE_NUMBERS + HOSTILE_DATES) | texts
    if options:
        # A valid option spoiled, or a value not among the options at all.
        spoiled = st.tuples(st.sampled_from(options), st.sampled_from(HOSTILE_TEXT[4:])).map(
            lambda pair: pair[0] + pair[1] if isinstance(pair[1], str) else pair[0]
        )
        texts = spoiled | st.sampled_from(HOSTILE_NUMBERS) | texts
    return texts


FILES = st.tuples(
    st.sampled_from(["x.pdf", "\u202egpj.exe", "a\x00b.pdf", "<b>.png", "..\\..\\boot.ini"])
    | st.text(max_size=20),
    st.sampled_from([b"%PDF-1.4\n%%EOF\n", b"", b"<html><script>1</script>", b"\x89PNG\r\n"])
    | st.binary(max_size=64),
)


# How each field is sent: mostly as the page had it, so the other fields pass and the spoiled
# one reaches deeper checks and storage.
HOW = ["keep", "keep", "keep", "spoil", "spoil", "drop", "repeat"]


def example(form: Form, token: str, data: st.DataObject) -> list[tuple[str, Any]]:
    """Draw one submission: each field kept, spoiled, repeated or left out."""
    pairs: list[tuple[str, Any]] = [("csrf_token", token)]
    fields = [f for f in form.fields if f.name != "csrf_token"]
    fields.append(Field("unexpected_field", "text"))
    submits = [f for f in fields if f.kind == "submit"]
    clicked = data.draw(st.sampled_from(submits)) if submits else None
    for f in fields:
        if f.kind == "submit":
            if f is clicked:
                pairs.append((f.name, data.draw(st.sampled_from(f.options))))
            continue
        if f.kind == "file":
            if data.draw(st.booleans()):
                pairs.append((f.name, data.draw(FILES)))
            continue
        baseline = list(f.values)
        if f.kind in ("multiple", "checkbox") and f.options and data.draw(st.booleans()):
            # Tick some boxes, as a user would, rather than only those ticked already.
            baseline = data.draw(st.lists(st.sampled_from(f.options), max_size=3, unique=True))
        elif f.kind == "radio" and f.options and data.draw(st.booleans()):
            baseline = [data.draw(st.sampled_from(f.options))]
        how = data.draw(st.sampled_from(HOW))
        if f.name == "unexpected_field" and how == "keep":
            continue
        if how == "keep":
            values = baseline
        elif how == "drop":
            values = []
        else:
            bad = data.draw(_hostile(f.kind, f.options))
            values = [bad] if how == "spoil" else [*baseline, bad, bad]
        pairs.extend((f.name, v) for v in values)
    return pairs


@dataclass
class Outcome:
    examples: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def fuzz(app, form: Form, world: World, outcome: Outcome, known: set) -> list[Form]:
    """Post hostile examples of one form; record every 5xx and every new garbage.

    Return the POST forms the answers showed (a preview to confirm is a form of its own).
    """
    adapter = app.url_map.bind("kopir.test")
    shown: list[Form] = []
    state: dict[str, Any] = {"browser": _logged_in(app, form.role, world), "token": None}

    def token() -> str:
        if state["token"] is None:
            state["browser"].last_token = None
            state["token"] = state["browser"].token(form.page)
        return state["token"]

    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        outcome.examples[form.key] = outcome.examples.get(form.key, 0) + 1
        pairs = example(form, token(), data)
        body, content_type = encode_form(pairs, form.multipart)
        try:
            response = state["browser"].client.post(
                form.action, data=body, content_type=content_type
            )
            status = response.status_code
        except Exception:  # the app raised: in production, a 500
            status, response = 500, None
            detail = traceback.format_exc(limit=-4)
        else:
            detail = response.get_data()[:300].decode("utf-8", "replace")
        if status >= 500:
            outcome.failures.append(
                f"{status} from {form.key} ({form.role})\n{pairs!r:.1500}\n{detail}"
            )
        with app.app_context():
            garbage = scan_for_garbage() - known
        for item in sorted(garbage):
            outcome.failures.append(
                f"garbage {item} after {form.key} ({form.role})\n{pairs!r:.1500}"
            )
        known.update(garbage)
        if response is not None and response.mimetype == "text/html" and status < 300:
            page = lxml.html.fromstring(response.get_data().decode("utf-8", "replace"))
            shown.extend(
                _form(adapter, form.role, form.action, element, token_page=form.page)
                for element in page.forms
                if (element.get("method") or "get").lower() == "post"
            )
        ended = response is not None and "/account/login" in response.headers.get("Location", "")
        if ended and form.role != "anonymous":  # a logout ended the session: log in again
            state["browser"], state["token"] = _logged_in(app, form.role, world), None

    run()
    return shown


# ----- the tests --------------------------------------------------------------------------------


def discover_all(app, world: World) -> tuple[dict[str, Form], dict[str, set[str]]]:
    """Return the distinct forms (each with the first role that saw it) and each role's keys."""
    distinct: dict[str, Form] = {}
    per_role: dict[str, set[str]] = {}
    for role in ROLES:
        browser = _logged_in(app, role, world)
        found = discover(app, browser, role, world)
        per_role[role] = {f.key for f in found}
        for f in found:
            distinct.setdefault(f.key, f)
    return distinct, per_role


def test_every_form_survives_hostile_input(app):
    world = build_world(app)
    distinct, per_role = discover_all(app, world)
    summary = {role: len(keys) for role, keys in per_role.items()}
    print(f"forms per role: {summary}; distinct: {len(distinct)}")

    # Every POST route an HTML page leads to is discovered, so a new form is fuzzed without
    # anyone listing it; a route no page of the world shows means the world lacks an object.
    endpoints = {key.split(" ")[0] for key in distinct}
    posts = {
        r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods
    } - NO_FORM_ENDPOINTS
    assert posts <= endpoints, f"no page of the world shows a form for {sorted(posts - endpoints)}"

    outcome = Outcome()
    with app.app_context():
        known = scan_for_garbage()
    assert not known, f"the world itself holds garbage: {known}"
    # Forms that end sessions or the world's objects go last, so the others see them intact.
    last = ("auth.logout", "applications.withdraw", "offers.respond", "staff.bulk")
    queue = sorted(distinct.values(), key=lambda f: f.key.split(" ")[0] in last)
    while queue:
        for shown in fuzz(app, queue.pop(0), world, outcome, known):
            if shown.key not in distinct:
                distinct[shown.key] = shown
                queue.append(shown)
                print(f"fuzzing {shown.key!r}, shown by an answer to a form")

    unfuzzed = [key for key in distinct if outcome.examples.get(key, 0) < EXAMPLES]
    assert not unfuzzed, f"forms discovered but not fuzzed: {unfuzzed}"
    assert not outcome.failures, f"{len(outcome.failures)} failures:\n\n" + "\n\n".join(
        outcome.failures[:40]
    )
