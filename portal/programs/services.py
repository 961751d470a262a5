"""Changes to programmes: apply the staff form and record what changed in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import Role, User
from portal.extensions import db
from portal.institutions.models import Institution
from portal.programs.forms_staff import LANGS, ProgramForm, parse_choices
from portal.programs.models import (
    DOCUMENT_KINDS,
    Program,
    ProgramEvent,
    ProgramQuestion,
    ProgramQuota,
    ProgramStaff,
    RubricCriterion,
)

# The fields that decide who may apply and until when: changing them after applications were
# submitted needs a confirmation and is recorded with the values before and after.
RULE_FIELDS: tuple[str, ...] = (
    "opens_at",
    "closes_at",
    "eligible_levels",
    "min_gpa",
    "required_language",
    "required_cefr",
    "citizenships",
    "required_documents",
)

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


def json_safe(value: Any) -> Any:
    """Turn a value into something JSON can hold: ISO dates, Decimals as strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _texts(mapping: dict[str, str] | None) -> dict[str, str]:
    return {lang: text for lang, text in (mapping or {}).items() if text}


def _form_texts(subform: Any) -> dict[str, str]:
    return {lang: subform[lang].data for lang in LANGS if subform[lang].data}


def _ordered_documents(kinds: list[str] | None) -> list[str]:
    chosen = set(kinds or [])
    return [kind for kind in DOCUMENT_KINDS if kind in chosen]


def _rules_of_program(program: Program) -> dict[str, Any]:
    return json_safe(
        {
            "opens_at": program.opens_at,
            "closes_at": program.closes_at,
            "eligible_levels": sorted(program.eligible_levels or []),
            "min_gpa": program.min_gpa.quantize(_TENTH) if program.min_gpa is not None else None,
            "required_language": program.required_language or None,
            "required_cefr": program.required_cefr or None,
            "citizenships": sorted(program.citizenships or []),
            "required_documents": _ordered_documents(program.required_documents),
        }
    )


def _rules_of_form(form: ProgramForm) -> dict[str, Any]:
    opens, closes = form.window_utc()
    return json_safe(
        {
            "opens_at": opens,
            "closes_at": closes,
            "eligible_levels": sorted(set(form.eligible_levels.data or [])),
            "min_gpa": form.min_gpa.data.quantize(_TENTH)
            if form.min_gpa.data is not None
            else None,
            "required_language": form.required_language.data or None,
            "required_cefr": (form.required_cefr.data or None)
            if form.required_language.data
            else None,
            "citizenships": sorted(set(form.citizenships.data or [])),
            "required_documents": _ordered_documents(form.required_documents.data),
        }
    )


def rules_or_window_changed(program: Program, form: ProgramForm) -> list[str]:
    """Name the window and eligibility fields the (validated) form would change."""
    if program.id is None:
        return []
    before, after = _rules_of_program(program), _rules_of_form(form)
    return [name for name in RULE_FIELDS if before[name] != after[name]]


def has_submitted_applications(program: Program) -> bool:
    """Tell whether the programme has applications past the draft state."""
    if program.id is None:
        return False
    found = db.session.scalar(
        sa.select(Application.id)
        .where(Application.program_id == program.id, Application.state != State.DRAFT)
        .limit(1)
    )
    return found is not None


def slug_taken(slug: str, program_id: int | None) -> bool:
    """Tell whether another programme uses the slug."""
    query = sa.select(Program.id).where(Program.slug == slug)
    if program_id is not None:
        query = query.where(Program.id != program_id)
    return db.session.scalar(query.limit(1)) is not None


def snapshot(program: Program) -> dict[str, Any]:
    """Return the programme's editable state, JSON-safe, to compare before and after."""
    staff = {"coordinator": [], "reviewer": []}  # type: dict[str, list[int]]
    for member in program.staff:
        staff.setdefault(member.role, []).append(member.user_id)
    return {
        "slug": program.slug,
        "kind": program.kind,
        "host": program.host.id if program.host is not None else program.host_institution_id,
        "partners": sorted(i.id for i in program.partners),
        "titles": _texts(program.titles),
        "descriptions": _texts(program.descriptions),
        "place": _texts(program.place),
        "funding": _texts(program.funding),
        "language": program.language,
        "isced_code": program.isced_code or None,
        "starts_on": json_safe(program.starts_on),
        "ends_on": json_safe(program.ends_on),
        "fee_amount": json_safe(Decimal(program.fee_amount or 0).quantize(_CENT)),
        "fee_currency": program.fee_currency,
        "seats": program.seats,
        "timezone": program.timezone,
        **_rules_of_program(program),
        "promotion_mode": program.promotion_mode,
        "reviewers_see_scores": bool(program.reviewers_see_scores),
        "published": bool(program.published),
        "quotas": sorted(
            [q.institution.id if q.institution else q.institution_id, q.seats]
            for q in program.quotas
        ),
        "questions": [
            {
                "kind": q.kind,
                "prompts": _texts(q.prompts),
                "choices": q.choices or [],
                "required": bool(q.required),
            }
            for q in program.questions
        ],
        "criteria": [
            {
                "names": _texts(c.names),
                "weight": json_safe(Decimal(c.weight).quantize(_CENT)),
                "max_score": c.max_score,
            }
            for c in program.criteria
        ],
        "coordinators": sorted(staff["coordinator"]),
        "reviewers": sorted(staff["reviewer"]),
    }


def _own_id(raw: Any, existing: dict[int, Any]) -> int | None:
    """Read a row's hidden id; only an id of this programme's own rows counts."""
    try:
        ident = int(str(raw or "").strip())
    except ValueError:
        return None
    return ident if ident in existing else None


def _renumber(collection: list[Any], rows: list[Any], build: Callable[[Any, Any], Any]) -> None:
    """Make the collection follow the rows (kept by hidden id, new ones added, others removed).

    Positions are unique per programme, so the rows kept are first moved out of the way
    (negative positions) and flushed, then numbered 1, 2, … in the order of the form.
    """
    existing = {item.id: item for item in collection if item.id is not None}
    kept_ids = [_own_id(row.id.data, existing) for row in rows]
    for item in list(collection):
        if item.id not in kept_ids:
            collection.remove(item)
    if existing:
        for offset, item in enumerate(collection, start=1):
            item.position = -offset
        db.session.flush()
    ordered = []
    for row, ident in zip(rows, kept_ids, strict=True):
        item = build(row, existing.get(ident) if ident is not None else None)
        ordered.append(item)
    for position, item in enumerate(ordered, start=1):
        item.position = position
    collection[:] = ordered


def _build_question(row: Any, question: ProgramQuestion | None) -> ProgramQuestion:
    question = question or ProgramQuestion(prompts={}, choices=[])
    old_prompts = dict(question.prompts or {})
    question.kind = row.kind.data
    question.prompts = {
        lang: row[f"prompt_{lang}"].data for lang in LANGS if row[f"prompt_{lang}"].data
    }
    for lang, text in old_prompts.items():  # languages the form does not show are kept
        if lang not in LANGS:
            question.prompts[lang] = text
    if row.kind.data == "choice":
        old_labels = {c["value"]: c.get("labels", {}) for c in (question.choices or [])}
        question.choices = [
            {"value": value, "labels": {**old_labels.get(value, {}), "en": label}}
            for value, label in parse_choices(row.choices.data or "")
        ]
    else:
        question.choices = []
    question.required = bool(row.required.data)
    return question


def _build_criterion(row: Any, criterion: RubricCriterion | None) -> RubricCriterion:
    criterion = criterion or RubricCriterion(names={})
    criterion.names = {lang: row[f"name_{lang}"].data for lang in LANGS if row[f"name_{lang}"].data}
    criterion.weight = row.weight.data.quantize(_CENT)
    criterion.max_score = row.max_score.data
    return criterion


def _apply(program: Program, form: ProgramForm, *, actor: User) -> None:
    """Copy the validated form onto the programme and its rows."""
    institution_ids = {form.host.data, *(form.partners.data or [])}
    institutions = {
        i.id: i
        for i in db.session.scalars(
            sa.select(Institution).where(Institution.id.in_(institution_ids))
        )
    }
    coordinator_ids = list(dict.fromkeys(form.coordinators.data or []))
    if program.id is None and actor.role == Role.COORDINATOR and actor.id not in coordinator_ids:
        coordinator_ids.append(actor.id)
    reviewer_ids = [u for u in dict.fromkeys(form.reviewers.data or []) if u not in coordinator_ids]
    opens, closes = form.window_utc()
    rules = _rules_of_form(form)

    with db.session.no_autoflush:
        program.slug = form.slug.data
        program.kind = form.kind.data
        program.host = institutions[form.host.data]
        program.partners = [
            institutions[i] for i in dict.fromkeys(form.partners.data or []) if i in institutions
        ]
        program.titles = _form_texts(form.titles.form)
        program.descriptions = _form_texts(form.descriptions.form)
        program.place = _form_texts(form.place.form)
        program.funding = _form_texts(form.funding.form)
        program.language = form.language.data
        program.isced_code = form.isced_code.data or None
        program.starts_on = form.starts_on.data
        program.ends_on = form.ends_on.data
        program.fee_amount = form.fee_amount.data.quantize(_CENT)
        program.fee_currency = form.fee_currency.data
        program.seats = form.seats.data
        program.timezone = form.timezone.data
        program.opens_at = opens  # type: ignore[assignment]
        program.closes_at = closes  # type: ignore[assignment]
        program.eligible_levels = rules["eligible_levels"]
        program.min_gpa = Decimal(rules["min_gpa"]) if rules["min_gpa"] is not None else None
        program.required_language = rules["required_language"]
        program.required_cefr = rules["required_cefr"]
        program.citizenships = rules["citizenships"]
        program.required_documents = rules["required_documents"]
        program.promotion_mode = form.promotion_mode.data
        program.reviewers_see_scores = bool(form.reviewers_see_scores.data)
        program.published = bool(form.published.data)

        # Quotas: one row per institution, updated in place.
        wanted = {row.institution.data: row.seats.data for row in form.filled_rows("quotas")}
        for quota in list(program.quotas):
            if quota.institution_id in wanted:
                quota.seats = wanted.pop(quota.institution_id)
            else:
                program.quotas.remove(quota)
        for institution_id, seats in wanted.items():
            program.quotas.append(
                ProgramQuota(institution=institutions[institution_id], seats=seats)
            )

        # Staff: one row per person, role updated in place.
        roles = {uid: "coordinator" for uid in coordinator_ids}
        roles.update({uid: "reviewer" for uid in reviewer_ids})
        for member in list(program.staff):
            if member.user_id in roles:
                member.role = roles.pop(member.user_id)
            else:
                program.staff.remove(member)
        for user_id, role in roles.items():
            program.staff.append(ProgramStaff(user_id=user_id, role=role))

    if program.id is None:
        db.session.add(program)
    # Questions and criteria keep their ids (answers and scores refer to them).
    _renumber(program.questions, form.filled_rows("questions"), _build_question)
    _renumber(program.criteria, form.filled_rows("criteria"), _build_criterion)
    program.refresh_search_text()


def save_program(program: Program, form: ProgramForm, *, actor: User) -> list[str]:
    """Apply a validated form to a programme (new or existing) and record it; never commits.

    Returns the names of the fields that changed. A change of the window or rules of a
    programme with submitted applications is recorded as "rules_changed", with the values
    before and after.
    """
    creating = program.id is None
    before = None if creating else snapshot(program)
    rule_changes = [] if creating else rules_or_window_changed(program, form)
    _apply(program, form, actor=actor)
    db.session.flush()
    after = snapshot(program)
    if before is None:
        changed = [name for name, value in after.items() if value not in (None, [], {}, "")]
        action = "created"
    else:
        changed = [name for name in after if after[name] != before[name]]
        action = "updated"
    if not changed:
        return []
    details: dict[str, Any] = {"changed": changed}
    rules = [name for name in RULE_FIELDS if name in changed] if before is not None else []
    if rules:
        details["before"] = {name: before[name] for name in rules}  # type: ignore[index]
        details["after"] = {name: after[name] for name in rules}
        if rule_changes and has_submitted_applications(program):
            action = "rules_changed"
    db.session.add(
        ProgramEvent(
            program_id=program.id,
            actor_id=actor.id,
            action=action,
            details=json_safe(details),
        )
    )
    return changed
