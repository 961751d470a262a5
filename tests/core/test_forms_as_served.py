"""Every POST form of the portal, sent back exactly as a browser sends it untouched.

Each role opens every GET page it can (the world and the page walk of
tests/security/form_discovery.py); each ``<form method=post>`` found is posted back as a
browser would when the person only presses its button: hidden fields, default values, the
selected option (the first when none is), checked boxes only, textarea contents, blank
repeated rows, an empty file part for a file input. The answer must accept the form, or refuse
it only for fields the person has still to fill in (those sent empty): never for a value the
page itself filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html

from tests.security.form_discovery import (
    Form,
    World,
    as_served,
    build_world,
    buttons,
    discover_all,
    encode_form,
    forms_on,
    logged_in,
)

# Forms that end a draft, the session or the world's objects are posted last, in this order, so
# the others are still served when their turn comes.
LAST = (
    "applications.submit",
    "auth.logout",
    "applications.withdraw",
    "offers.respond",
    "staff.bulk",
)
# A field of a repeated row ("quotas-2-seats"), and the kinds of input one types into.
ROW = re.compile(r"(.+-\d+)-[^-]+")
TYPED = frozenset(
    {"text", "textarea", "email", "number", "date", "datetime-local", "tel", "url", "search"}
)
# Kinds of control a person fills in (a hidden field or a button is the page's own business).
FILLABLE = frozenset(
    {"text", "textarea", "select", "multiple", "checkbox", "radio", "email", "password", "number",
     "date", "datetime-local", "tel", "url", "search", "file"}
)


@dataclass
class Sent:
    """One post of a form as served: what went out and what the person read next."""

    form: Form
    pairs: list[tuple[str, Any]]
    status: int
    landed: str  # the answer's HTML, or the page a redirect led to
    location: str = ""
    shown: list[Form] = field(default_factory=list)  # POST forms the answer itself showed


def _blank(values: list[Any]) -> bool:
    """Tell whether nothing was sent in these values (an empty file part is nothing)."""
    return all(isinstance(v, tuple) or not str(v).strip() for v in values)


def blank_rows(form: Form, values: dict[str, list[Any]]) -> set[str]:
    """Return the prefixes ("quotas-2") of repeated rows the person typed nothing into."""
    rows: dict[str, bool] = {}
    for f in form.fields:
        match = ROW.fullmatch(f.name)
        if match:
            typed = f.kind in TYPED and not _blank(values.get(f.name, []))
            rows[match.group(1)] = rows.get(match.group(1), False) or typed
    return {prefix for prefix, typed in rows.items() if not typed}


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def errors_on(html: str) -> tuple[dict[str, str], list[str]]:
    """Return the messages beside a field or group (by its id) and the other error messages."""
    page = lxml.html.fromstring(html)
    beside: dict[str, str] = {}
    other: list[str] = []
    for element in page.xpath("//*[contains(@class, 'invalid-feedback') or "
                              "contains(@class, 'alert-danger')]"):
        ident = element.get("id") or ""
        if ident.endswith("-error"):
            beside[ident.removesuffix("-error")] = _text(element)
        elif ident != "form-errors":  # the summary that points to the fields below
            other.append(_text(element))
    return beside, other


def judge(sent: Sent) -> list[str]:
    """Say what is wrong with the answer to a form sent as served (nothing when it is fine)."""
    where = f"{sent.form.key.split(' ')[0]} ({sent.form.role}, {sent.form.page})"
    if sent.status >= 400 and sent.status != 422:
        return [f"{where}: answered {sent.status}\n{sent.landed[:400]}"]
    if not sent.landed:
        return []
    beside, other = errors_on(sent.landed)
    values: dict[str, list[Any]] = {}
    for name, value in sent.pairs:
        values.setdefault(name, []).append(value)
    blank = blank_rows(sent.form, values)
    problems = []
    for key, message in beside.items():
        # A field's id is its name (WTForms); a group's id prefixes its members' names.
        mine = [v for name, vs in values.items() if name == key or name.startswith(key + "-")
                for v in vs]
        row = ROW.fullmatch(key)
        if row and row.group(1) in blank:
            problems.append(f"{where}: refused the blank row {row.group(1)}: {message!r}")
        elif not _blank(mine):
            problems.append(f"{where}: refused {key} = {mine!r:.120}, which the page filled in: "
                            f"{message!r}")
    # A message beside no field may only ask for something the person left empty.
    left_empty = [f.name for f in sent.form.fields
                  if f.kind in FILLABLE and _blank(values.get(f.name, []))]
    if other and not beside and not left_empty:
        problems.extend(f"{where}: refused with {message!r}" for message in other)
    return problems


def post(app, browser, form: Form, button: tuple[str, str] | None) -> Sent:
    """Post the form as served and read what the person sees next."""
    pairs = as_served(form, button)
    body, content_type = encode_form(pairs, form.multipart)
    response = browser.client.post(form.action, data=body, content_type=content_type)
    sent = Sent(form, pairs, response.status_code, "", response.headers.get("Location", ""))
    if response.status_code in (301, 302, 303):
        target = urlsplit(urljoin(form.action, sent.location))
        landing = browser.client.get(target.path + (f"?{target.query}" if target.query else ""))
        if landing.mimetype == "text/html":
            sent.landed = landing.get_data(as_text=True)
    elif response.mimetype == "text/html":
        sent.landed = response.get_data(as_text=True)
        if response.status_code < 300:
            sent.shown = forms_on(app, sent.landed, form.action, form.role)
    return sent


def served_now(app, browser, form: Form) -> Form | None:
    """Open the form's page again and return the same form as it is served now."""
    response = browser.get(form.page)
    if response.status_code != 200 or response.mimetype != "text/html":
        return None
    # The same form may post elsewhere now (a new letter has a new id): the key masks ids.
    same = [f for f in forms_on(app, response.get_data(as_text=True), form.page, form.role)
            if f.key == form.key]
    return next((f for f in same if f.action == form.action), same[0] if same else None)


def complete_draft(app, world: World) -> None:
    """Answer the draft's questions and give it every document, so that it can be submitted.

    Each required kind is given twice: the page's "remove" form, posted before the submission,
    takes one away.
    """
    from portal.applications.models import Application
    from portal.extensions import db
    from tests.nominations.conftest import add_document

    with app.app_context():
        draft = db.session.get(Application, world.values["application_id"][0])
        draft.answers = {
            str(q.id): (q.choices[0]["value"] if q.kind == "choice" else "The Belukha")
            for q in draft.program.questions
        }
        kinds = list(draft.program.required_documents)
        db.session.commit()
        for kind in kinds * 2:
            add_document(draft.id, kind=kind, name=f"{kind}.pdf")
        db.session.remove()


def test_every_form_posted_as_served_is_accepted_or_asks_for_what_is_empty(app):
    world: World = build_world(app)
    complete_draft(app, world)
    distinct, _per_role = discover_all(app, world)

    def order(form: Form) -> int:
        endpoint = form.key.split(" ")[0]
        return LAST.index(endpoint) + 1 if endpoint in LAST else 0

    queue = sorted(distinct.values(), key=order)
    problems: list[str] = []
    posted: list[str] = []
    seen = set(distinct)

    def send(browser, form: Form, button: tuple[str, str] | None) -> None:
        sent = post(app, browser, form, button)
        posted.append(f"{sent.status} {form.key.split(' ')[0]} ({form.role}) {button or ''}")
        problems.extend(judge(sent))
        # A form an answer shows (a preview to confirm) is served too: post it back at once.
        for shown in sent.shown:
            if shown.key not in seen:
                seen.add(shown.key)
                for shown_button in buttons(shown):
                    send(browser, shown, shown_button)

    for form in queue:
        for number, button in enumerate(buttons(form)):
            # A new session for every post: an earlier one may have logged out.
            browser = logged_in(app, form.role, world)
            fresh = served_now(app, browser, form)
            if fresh is None:
                # Only another button of the same form, pressed first, may have ended it.
                if number == 0:
                    problems.append(f"{form.key} ({form.role}) is gone from {form.page}")
                continue
            send(browser, fresh, button)
    print("\n".join(posted))
    assert len(posted) >= len(distinct)
    assert not problems, f"{len(problems)} problems:\n\n" + "\n\n".join(problems)
