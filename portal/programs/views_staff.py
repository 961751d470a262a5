"""Coordinators' pages for programmes: the list, the create/edit form and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from werkzeug.wrappers import Response

from portal.access import can_manage_program, load_or_404, managed_program_ids, role_required
from portal.applications.models import Application, ApplicationEvent
from portal.applications.states import STATE_LABELS
from portal.auth.models import Role, User
from portal.extensions import db
from portal.i18n import current_locale, in_zone, number, pick
from portal.institutions.models import Institution
from portal.programs.forms_staff import (
    FIELD_LABELS,
    LANGS,
    ZONES,
    ProgramForm,
    timezone_choices,
    utc_to_local,
)
from portal.programs.models import DOCUMENT_KINDS, KIND_LABELS, Program, ProgramEvent
from portal.programs.services import (
    has_submitted_applications,
    rules_or_window_changed,
    save_program,
    slug_taken,
)
from portal.reference import (
    EQF_LEVELS,
    cefr_choices,
    country_choices,
    eqf_choices,
    isced_grouped_choices,
    language_choices,
    language_name,
)

bp = Blueprint("program_admin", __name__, url_prefix="/staff/programs")

STAFF = (Role.COORDINATOR, Role.ADMIN)

ACTION_LABELS = {
    "created": _l("Programme created"),
    "updated": _l("Programme changed"),
    "rules_changed": _l("Rules or window changed after applications were submitted"),
}


def _manages(program: Program) -> bool:
    return can_manage_program(program)


def _initial(program: Program) -> dict[str, Any]:
    """Return the form's data for an existing programme (window in its own time zone)."""
    staff: dict[str, list[int]] = {"coordinator": [], "reviewer": []}
    for member in program.staff:
        staff.setdefault(member.role, []).append(member.user_id)
    return {
        "slug": program.slug,
        "kind": program.kind,
        "host": program.host_institution_id,
        "published": program.published,
        "titles": {lang: (program.titles or {}).get(lang, "") for lang in LANGS},
        "descriptions": {lang: (program.descriptions or {}).get(lang, "") for lang in LANGS},
        "place": {lang: (program.place or {}).get(lang, "") for lang in LANGS},
        "funding": {lang: (program.funding or {}).get(lang, "") for lang in LANGS},
        "language": program.language,
        "isced_code": program.isced_code or "",
        "starts_on": program.starts_on,
        "ends_on": program.ends_on,
        "fee_amount": program.fee_amount,
        "fee_currency": program.fee_currency,
        "seats": program.seats,
        "partners": [i.id for i in program.partners],
        "quotas": [{"institution": q.institution_id, "seats": q.seats} for q in program.quotas],
        "timezone": program.timezone,
        "opens_at": utc_to_local(program.opens_at, program.timezone),
        "closes_at": utc_to_local(program.closes_at, program.timezone),
        "eligible_levels": list(program.eligible_levels or []),
        "min_gpa": program.min_gpa,
        "required_language": program.required_language or "",
        "required_cefr": program.required_cefr or "",
        "citizenships": list(program.citizenships or []),
        "required_documents": list(program.required_documents or []),
        "questions": [
            {
                "id": str(q.id),
                "kind": q.kind,
                **{f"prompt_{lang}": (q.prompts or {}).get(lang, "") for lang in LANGS},
                "choices": "\n".join(
                    f"{c['value']}|{pick(c.get('labels'), 'en')}" for c in q.choices or []
                ),
                "required": q.required,
            }
            for q in program.questions
        ],
        "criteria": [
            {
                "id": str(c.id),
                **{f"name_{lang}": (c.names or {}).get(lang, "") for lang in LANGS},
                "weight": c.weight,
                "max_score": c.max_score,
            }
            for c in program.criteria
        ],
        "coordinators": staff["coordinator"],
        "reviewers": staff["reviewer"],
        "promotion_mode": program.promotion_mode,
        "reviewers_see_scores": program.reviewers_see_scores,
    }


def _initial_new() -> dict[str, Any]:
    """Return the form's data for a new programme: the creator's university and time zone."""
    host = current_user.institution
    return {
        "kind": "summer_school",
        "host": host.id if host else 0,
        "published": True,
        "timezone": host.timezone if host and host.timezone in ZONES else "Asia/Almaty",
        "fee_amount": 0,
        "coordinators": [current_user.id] if current_user.role == Role.COORDINATOR else [],
    }


def _staff_choices(role: str, named: list[int]) -> list[tuple[int, str]]:
    users = db.session.scalars(
        sa.select(User)
        .where(User.role == role, sa.or_(User.active.is_(True), User.id.in_(named or [-1])))
        .order_by(User.email)
    ).all()
    return [(u.id, u.email) for u in users]


def build_form(program: Program) -> ProgramForm:
    """Make the form, filled from the request (POST) or the programme, with its choices."""
    locale = current_locale()
    if request.method == "POST":
        form = ProgramForm()
    else:
        form = ProgramForm(data=_initial(program) if program.id else _initial_new())
        for name in ("quotas", "questions", "criteria"):
            entries = form[name]
            for _i in range(2):
                if len(entries.entries) < entries.max_entries:
                    entries.append_entry()
    form.program_id = program.id
    form.actor_id = current_user.id
    form.actor_is_coordinator = current_user.role == Role.COORDINATOR
    form.slug_taken = slug_taken

    institutions = sorted(
        ((i.id, i.name(locale)) for i in db.session.scalars(sa.select(Institution))),
        key=lambda pair: pair[1].casefold(),
    )
    form.kind.choices = [(k.value, str(v)) for k, v in KIND_LABELS.items()]
    form.host.choices = [("", "—"), *institutions]
    form.partners.choices = institutions
    for entry in form.quotas.entries:
        entry.form.institution.choices = [("", "—"), *institutions]
    languages = language_choices(locale)
    form.language.choices = [("", "—"), *languages]
    form.required_language.choices = [("", "—"), *languages]
    form.required_cefr.choices = [("", "—"), *cefr_choices()]
    form.isced_code.choices = [("", "—")] + [
        (code, label) for group in isced_grouped_choices().values() for code, label in group
    ]
    form.timezone.choices = timezone_choices(form.timezone.data)
    form.eligible_levels.choices = eqf_choices()
    form.citizenships.choices = country_choices(locale)
    form.required_documents.choices = [(k, str(v)) for k, v in DOCUMENT_KINDS.items()]
    named = [m.user_id for m in program.staff] if program.id else []
    form.coordinators.choices = _staff_choices(Role.COORDINATOR, named)
    form.reviewers.choices = _staff_choices(Role.REVIEWER, named)
    return form


def _edit_page(program: Program) -> str | Response | tuple[str, int]:
    form = build_form(program)
    confirm: list[str] | None = None
    if request.method == "POST":
        if form.validate():
            changed_rules = rules_or_window_changed(program, form)
            if (
                changed_rules
                and not form.confirm_rule_change.data
                and has_submitted_applications(program)
            ):
                confirm = changed_rules
                flash(
                    _("Applications were already submitted: please confirm this change below."),
                    "warning",
                )
                return _render(form, program, confirm), 409
            creating = program.id is None
            changed = save_program(program, form, actor=current_user)
            if creating:
                flash(_("The programme is created."), "success")
            elif changed:
                flash(_("The programme is saved."), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("program_admin.edit", program_id=program.id))
        flash(_("Please correct the fields marked below; nothing was saved yet."), "danger")
        return _render(form, program, None), 422
    return _render(form, program, None)


def _render(form: ProgramForm, program: Program, confirm: list[str] | None) -> str:
    return render_template(
        "programs/staff_edit.html",
        form=form,
        program=program if program.id else None,
        confirm=[str(FIELD_LABELS[name]) for name in confirm] if confirm else None,
    )


@bp.get("")
@role_required(*STAFF)
def index() -> str:
    """List the programmes the user runs."""
    query = (
        sa.select(Program)
        .options(so.selectinload(Program.host))
        .order_by(Program.opens_at.desc(), Program.id.desc())
    )
    ids = managed_program_ids()
    if ids is not None:
        query = query.where(Program.id.in_(ids))
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 10_000:
        abort(404)
    pagination = db.paginate(
        query, page=page, per_page=current_app.config["PAGE_SIZE"], error_out=False
    )
    return render_template(
        "programs/staff_list.html", pagination=pagination, kind_labels=KIND_LABELS
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*STAFF)
def create() -> Any:
    """Create a programme; a coordinator who creates one is named its coordinator."""
    return _edit_page(Program())


@bp.route("/<int:program_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit(program_id: int) -> Any:
    """Edit a programme the user runs."""
    program = load_or_404(Program, program_id, _manages)
    return _edit_page(program)


class _LogPagination(Pagination):
    """Pages over the programme's own events and its applications' state events together."""

    def _union(self) -> Any:
        program_id = self._query_args["program_id"]
        own = sa.select(
            sa.literal("program").label("source"),
            ProgramEvent.id.label("id"),
            ProgramEvent.created_at.label("at"),
        ).where(ProgramEvent.program_id == program_id)
        states = (
            sa.select(
                sa.literal("application").label("source"),
                ApplicationEvent.id.label("id"),
                ApplicationEvent.created_at.label("at"),
            )
            .join(Application, Application.id == ApplicationEvent.application_id)
            .where(Application.program_id == program_id)
        )
        return sa.union_all(own, states).subquery()

    def _query_items(self) -> list[Any]:
        union = self._union()
        rows = db.session.execute(
            sa.select(union.c.source, union.c.id)
            .order_by(union.c.at.desc(), union.c.source.desc(), union.c.id.desc())
            .limit(self.per_page)
            .offset(self._query_offset)
        ).all()
        own_ids = [r.id for r in rows if r.source == "program"]
        state_ids = [r.id for r in rows if r.source == "application"]
        own = {
            e.id: e
            for e in db.session.scalars(
                sa.select(ProgramEvent)
                .where(ProgramEvent.id.in_(own_ids or [-1]))
                .options(so.joinedload(ProgramEvent.actor))
            )
        }
        states = {
            e.id: e
            for e in db.session.scalars(
                sa.select(ApplicationEvent)
                .where(ApplicationEvent.id.in_(state_ids or [-1]))
                .options(
                    so.joinedload(ApplicationEvent.actor),
                    so.joinedload(ApplicationEvent.application).joinedload(Application.student),
                )
            )
        }
        return [
            own[r.id] if r.source == "program" else states[r.id]
            for r in rows
            if (own if r.source == "program" else states).get(r.id) is not None
        ]

    def _query_count(self) -> int:
        union = self._union()
        return db.session.scalar(sa.select(sa.func.count()).select_from(union)) or 0


def _value_text(name: str, value: Any, zone: str) -> str:
    """Write a recorded value of a rule field the way a person reads it."""
    if value in (None, "", []):
        return "—"
    if name in ("opens_at", "closes_at"):
        try:
            return in_zone(datetime.fromisoformat(value), zone)
        except (TypeError, ValueError):
            return str(value)
    if name == "eligible_levels":
        return ", ".join(str(EQF_LEVELS.get(v, v)) for v in value)
    if name == "required_documents":
        return ", ".join(str(DOCUMENT_KINDS.get(v, v)) for v in value)
    if name == "required_language":
        try:
            return language_name(value, current_locale())
        except KeyError:
            return str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value)
    return str(value)


def describe(entry: Any, program: Program) -> dict[str, Any]:
    """Turn a log row into what the page shows: when, who, what, and the details."""
    if isinstance(entry, ProgramEvent):
        details = entry.details or {}
        changed = [str(FIELD_LABELS.get(n, n)) for n in details.get("changed", [])]
        before, after = details.get("before") or {}, details.get("after") or {}
        diffs = [
            (
                str(FIELD_LABELS.get(name, name)),
                _value_text(name, before.get(name), program.timezone),
                _value_text(name, after.get(name), program.timezone),
            )
            for name in after
        ]
        return {
            "at": entry.created_at,
            "actor": entry.actor.email if entry.actor else None,
            "action": str(ACTION_LABELS.get(entry.action, entry.action)),
            "changed": changed,
            "diffs": diffs,
            "reason": None,
            "note": None,
        }
    application = entry.application
    return {
        "at": entry.created_at,
        "actor": entry.actor.email if entry.actor else None,
        "action": _(
            "Application %(number)d (%(student)s): %(from)s → %(to)s",
            number=application.id,
            student=application.student.email,
            **{
                "from": str(STATE_LABELS.get(entry.from_state, entry.from_state or "—")),
                "to": str(STATE_LABELS.get(entry.to_state, entry.to_state)),
            },
        ),
        "changed": [],
        "diffs": [],
        "reason": entry.reason,
        "note": entry.note,
    }


@bp.get("/<int:program_id>/log")
@role_required(*STAFF)
def log(program_id: int) -> str:
    """Show who did what to the programme and its applications, newest first."""
    program = load_or_404(Program, program_id, _manages)
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 100_000:
        abort(404)
    pagination = _LogPagination(
        page=page,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        program_id=program.id,
    )
    entries = [describe(entry, program) for entry in pagination.items]
    return render_template(
        "programs/staff_log.html", program=program, pagination=pagination, entries=entries
    )
