"""The coordinators' review queue: per programme and across the programmes they run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import DecimalField, SearchField, SelectField, SelectMultipleField
from wtforms.validators import Length, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from portal.access import can_manage_program, load_or_404, managed_program_ids, role_required
from portal.applications import exports
from portal.applications.queue import (
    ANSWER_DUE_DAYS,
    STAFF_STATES,
    QueueFilters,
    filter_choices,
    iter_rows,
    load_page,
    queue_query,
)
from portal.applications.states import STATE_LABELS, State
from portal.auth.models import Role
from portal.db import utcnow
from portal.forms import KopirForm, clean_text
from portal.i18n import current_locale
from portal.programs.models import Program
from portal.reference import country_name

bp = Blueprint("queue", __name__, url_prefix="/staff")

STAFF = (Role.COORDINATOR, Role.ADMIN)
FILTER_NAMES = (
    "q",
    "state",
    "citizenship",
    "home",
    "eligible",
    "score_min",
    "score_max",
    "reviewer",
    "due",
    "nominated",
    "sort",
)
SORT_LABELS = {
    "score": _l("Score, highest first"),
    "submitted": _l("Submitted, oldest first"),
    "submitted_desc": _l("Submitted, newest first"),
    "name": _l("Name (Latin), A to Z"),
}


def _finite(form: Any, field: Any) -> None:
    """Stop at NaN and infinities, which cannot be compared with a score."""
    if field.data is not None and not field.data.is_finite():
        field.data = None
        raise StopValidation(_l("Please enter a number."))


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes: the same query string as a multiple select, no Ctrl-click."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QueueForm(KopirForm):
    """Narrow the queue down (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        """Filters change nothing, so the form carries no CSRF token."""

        csrf = False

    q = SearchField(
        _l("Search"),
        description=_l("Name in either script, e-mail or national identifier"),
        validators=[Optional(), Length(max=100)],
        filters=[clean_text],
    )
    state = CheckboxesField(_l("State"), choices=[], validators=[Optional()])
    citizenship = SelectField(_l("Citizenship"), choices=[], default="")
    home = SelectField(_l("Home institution"), choices=[], default="")
    eligible = SelectField(
        _l("Eligibility"),
        choices=[("", "—"), ("yes", _l("Eligible")), ("no", _l("Not eligible"))],
        default="",
    )
    score_min = DecimalField(
        _l("Score from"), validators=[Optional(), _finite, NumberRange(min=0, max=100)]
    )
    score_max = DecimalField(
        _l("Score to"), validators=[Optional(), _finite, NumberRange(min=0, max=100)]
    )
    reviewer = SelectField(_l("Reviewer"), choices=[], default="")
    due = SelectField(
        _l("Answer to the offer due"),
        choices=[("", "—")]
        + [
            (str(days), lazy_ngettext("within %(num)d day", "within %(num)d days", days))
            for days in ANSWER_DUE_DAYS
        ],
        default="",
    )
    nominated = SelectField(
        _l("Nomination"),
        choices=[("", "—"), ("yes", _l("Nominated")), ("no", _l("Not nominated yet"))],
        default="",
    )
    sort = SelectField(_l("Sort by"), choices=[], default="score")


def _scope(program_id: int | None) -> tuple[Program | None, Any]:
    """Return the programme (None across programmes) and the ids of programmes in scope."""
    if program_id is None:
        return None, managed_program_ids()
    program = load_or_404(Program, program_id, can_manage_program)
    return program, [program.id]


def _form(program_ids: Any) -> QueueForm:
    locale = current_locale()
    citizenships, institutions, reviewers = filter_choices(program_ids)
    form = QueueForm(request.args)
    form.state.choices = [(s.value, str(STATE_LABELS[s])) for s in STAFF_STATES]
    form.citizenship.choices = [("", "—")] + [(c, _country(c, locale)) for c in citizenships]
    form.home.choices = [("", "—")] + sorted(
        ((str(i.id), i.name(locale)) for i in institutions), key=lambda pair: pair[1]
    )
    form.reviewer.choices = [("", "—")] + [(str(u.id), u.email) for u in reviewers]
    form.sort.choices = [(key, str(label)) for key, label in SORT_LABELS.items()]
    form.validate()
    return form


def _country(code: str, locale: str) -> str:
    try:
        return country_name(code, locale)
    except KeyError:
        return code


def _ok(field: Any) -> bool:
    return not field.errors


def _filters(form: QueueForm) -> tuple[QueueFilters, dict[str, Any]]:
    """Read the valid fields of the form; return the filters and the arguments page links repeat."""
    filters = QueueFilters()
    args: dict[str, Any] = {}
    if _ok(form.q) and form.q.data:
        filters.q = form.q.data
        args["q"] = form.q.data
    if _ok(form.state) and form.state.data:
        filters.states = list(form.state.data)
        args["state"] = list(form.state.data)
    if _ok(form.citizenship) and form.citizenship.data:
        filters.citizenship = args["citizenship"] = form.citizenship.data
    if _ok(form.home) and form.home.data:
        filters.home_institution_id = int(form.home.data)
        args["home"] = form.home.data
    if _ok(form.eligible) and form.eligible.data:
        filters.eligible = args["eligible"] = form.eligible.data
    for name in ("score_min", "score_max"):
        field = getattr(form, name)
        if _ok(field) and isinstance(field.data, Decimal):
            setattr(filters, name, field.data)
            args[name] = str(field.data)
    if _ok(form.reviewer) and form.reviewer.data:
        filters.reviewer_id = int(form.reviewer.data)
        args["reviewer"] = form.reviewer.data
    if _ok(form.due) and form.due.data:
        filters.answer_due_days = int(form.due.data)
        args["due"] = form.due.data
    if _ok(form.nominated) and form.nominated.data:
        filters.nominated = args["nominated"] = form.nominated.data
    if _ok(form.sort) and form.sort.data in SORT_LABELS:
        filters.sort = form.sort.data
        if filters.sort != "score":
            args["sort"] = filters.sort
    return filters, args


def _page(program_id: int | None) -> str:
    program, program_ids = _scope(program_id)
    form = _form(program_ids)
    filters, page_args = _filters(form)
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 10_000:
        abort(404)
    pagination = load_page(queue_query(filters, program_ids), page, current_app.config["PAGE_SIZE"])
    url_args: dict[str, Any] = {"program_id": program.id} if program else {}
    return render_template(
        "applications/queue.html",
        form=form,
        program=program,
        pagination=pagination,
        url_args=url_args,
        # Links repeat the valid filters and nothing else a visitor put in the address.
        link_args={**url_args, **page_args},
        endpoint="queue.program" if program else "queue.index",
        csv_endpoint="queue.program_csv" if program else "queue.index_csv",
        xlsx_endpoint="queue.program_xlsx" if program else "queue.index_xlsx",
        state_labels=STATE_LABELS,
        bulk_targets=[
            (s.value, str(STATE_LABELS[s]))
            for s in (State.ACCEPTED, State.WAITLISTED, State.REJECTED, State.UNDER_REVIEW)
        ]
        if program
        else [],
    )


def _export_query(program_id: int | None) -> tuple[Program | None, Any]:
    program, program_ids = _scope(program_id)
    filters, _args = _filters(_form(program_ids))
    return program, queue_query(filters, program_ids)


def _filename(program: Program | None, extension: str) -> str:
    stem = f"kopir-queue-{program.slug}" if program else "kopir-queue"
    return f"{stem}-{utcnow():%Y%m%d}.{extension}"


def _csv(program_id: int | None) -> Response:
    program, query = _export_query(program_id)
    body = stream_with_context(exports.csv_chunks(iter_rows(query)))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(program, "csv")}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _xlsx(program_id: int | None) -> Response:
    program, query = _export_query(program_id)
    data = exports.xlsx_bytes(iter_rows(query), title=program.slug if program else "queue")
    response = Response(
        data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(program, "xlsx")}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/queue")
@role_required(*STAFF)
def index() -> str:
    """The queue across every programme the user runs (an admin: every programme)."""
    return _page(None)


@bp.get("/programs/<int:program_id>/queue")
@role_required(*STAFF)
def program(program_id: int) -> str:
    """The queue of one programme."""
    return _page(program_id)


@bp.get("/queue.csv")
@role_required(*STAFF)
def index_csv() -> Response:
    """The filtered cross-programme queue as CSV."""
    return _csv(None)


@bp.get("/queue.xlsx")
@role_required(*STAFF)
def index_xlsx() -> Response:
    """The filtered cross-programme queue as XLSX."""
    return _xlsx(None)


@bp.get("/programs/<int:program_id>/queue.csv")
@role_required(*STAFF)
def program_csv(program_id: int) -> Response:
    """The filtered queue of one programme as CSV."""
    return _csv(program_id)


@bp.get("/programs/<int:program_id>/queue.xlsx")
@role_required(*STAFF)
def program_xlsx(program_id: int) -> Response:
    """The filtered queue of one programme as XLSX."""
    return _xlsx(program_id)
