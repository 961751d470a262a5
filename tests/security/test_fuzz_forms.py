"""Every POST form, found by walking the pages of each role, survives hostile input.

The world of form_discovery.py has an object in every state that shows a form: drafts,
submissions, offers, confirmations, nominations, tokens. Each role opens every GET page it can
(the url_map filled with the world's ids); every ``<form method=post>`` found is fuzzed with
hypothesis, keeping the CSRF token valid. After every example the whole database is scanned
for stored garbage.
"""

from __future__ import annotations

import os
import re
import traceback
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import lxml.html
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from tests.security.form_discovery import (
    NO_FORM_ENDPOINTS,
    Field,
    Form,
    World,
    build_world,
    describe_form,
    discover_all,
    encode_form,
    logged_in,
)

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
# A comma too: an argon2id hash lists its parameters as "m=19456,t=2,p=1".
IDENTIFIER = re.compile(r"[A-Za-z0-9_.,:/+@$=-]*")
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
    state: dict[str, Any] = {"browser": logged_in(app, form.role, world), "token": None}

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
                describe_form(adapter, form.role, form.action, element, token_page=form.page)
                for element in page.forms
                if (element.get("method") or "get").lower() == "post"
            )
        ended = response is not None and "/account/login" in response.headers.get("Location", "")
        if ended and form.role != "anonymous":  # a logout ended the session: log in again
            state["browser"], state["token"] = logged_in(app, form.role, world), None

    run()
    return shown


# ----- the tests --------------------------------------------------------------------------------


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
