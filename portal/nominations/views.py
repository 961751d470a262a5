"""Nominations: coordinators nominate; partner universities list, download and answer."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from portal.access import (
    can_answer_nomination,
    can_manage_program,
    can_see_nomination,
    load_or_404,
    role_required,
)
from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import Role
from portal.db import utcnow
from portal.exports import csv_chunks, iso_utc, xlsx_bytes
from portal.extensions import db
from portal.i18n import current_locale, in_zone, select_timezone
from portal.nominations import ewp, queries, services
from portal.nominations.bundle import documents_zip
from portal.nominations.forms import AnswerForm, ChangeAnswerForm, FilterForm, NominateForm
from portal.nominations.models import ANSWER_LABELS, STATUS_LABELS, Answer, Nomination
from portal.programs.models import DOCUMENT_KINDS, Program

bp = Blueprint("nominations", __name__)

READERS = (Role.PARTNER, Role.COORDINATOR, Role.ADMIN)

# The list's columns for CSV and XLSX: key, header, width in an XLSX (characters). Names are for
# people, in the reader's language; the codes beside them are for partner systems.
COLUMNS = (
    ("omobility_id", _l("Mobility ID"), 38),
    ("latin_name", _l("Name (Latin)"), 28),
    ("native_name", _l("Name (native script)"), 28),
    ("email", _l("E-mail"), 30),
    ("birth_date", _l("Date of birth"), 12),
    ("citizenship", _l("Citizenship"), 11),
    ("programme", _l("Programme"), 36),
    ("programme_code", _l("Programme code"), 20),
    ("sending", _l("Sending university"), 36),
    ("sending_code", _l("Sending university (SCHAC code)"), 20),
    ("receiving", _l("Receiving university"), 36),
    ("receiving_code", _l("Receiving university (SCHAC code)"), 20),
    ("year", _l("Academic year"), 12),
    ("arrival", _l("Planned arrival"), 12),
    ("departure", _l("Planned departure"), 12),
    ("eqf", _l("Study level (EQF)"), 10),
    ("isced", _l("Field (ISCED-F)"), 10),
    ("status", _l("Status"), 12),
    ("answer", _l("Answer"), 12),
    ("comment", _l("Comment"), 40),
    ("modified", _l("Last change (UTC)"), 21),
)


def _row(n: Nomination, locale: str) -> list[object]:
    return [
        n.omobility_id,
        n.latin_name,
        n.native_name,
        n.student.get("email") or "",
        n.student.get("birth_date") or "",
        n.student.get("citizenship") or "",
        n.program.title(locale),
        n.program.slug,
        n.sending_hei.name(locale),
        n.sending_hei.schac,
        n.receiving_hei.name(locale),
        n.receiving_hei.schac,
        n.academic_year,
        n.planned_arrival.isoformat() if n.planned_arrival else "",
        n.planned_departure.isoformat() if n.planned_departure else "",
        n.eqf_level,
        n.isced_code or "",
        n.status,
        n.answer,
        n.answer_comment or "",
        iso_utc(n.modified_at),
    ]


def _table(filters: queries.Filters) -> tuple[list[str], Iterator[list[object]]]:
    """Return the headers and the streamed rows of the list, in the reader's language."""
    locale = current_locale()
    headers = [str(label) for _key, label, _width in COLUMNS]
    rows = (_row(n, locale) for n in _stream(queries.filtered(current_user, filters)))
    return headers, rows


def _ids(values: list[str]) -> list[int]:
    """Return the ids among form values, in order, once each, skipping what is not one."""
    ids: list[int] = []
    for value in values:
        if value.isascii() and value.isdigit() and len(value) <= 9 and int(value) not in ids:
            ids.append(int(value))
    return ids


def _preview(
    program: Program,
    form: NominateForm,
    ids: list[int],
    changed: list[tuple[Application | None, str]] | None = None,
) -> str:
    chosen = list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.id.in_(ids), Application.program_id == program.id)
            .order_by(Application.id)
        )
    )
    return render_template(
        "nominations/staff_preview.html",
        program=program,
        form=form,
        previews=services.preview(chosen),
        changed={a.id: reason for a, reason in (changed or []) if a is not None},
        document_kinds=DOCUMENT_KINDS,
    )


@bp.route("/staff/programs/<int:program_id>/nominations", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def program_nominations(program_id: int) -> str | Response:
    """Nominate the programme's confirmed students after a preview, and follow the answers.

    A POST of the ticked students shows what the host will get; the preview's form, with
    "confirm", nominates exactly the students still ticked on it, or nobody if one changed.
    """
    program = load_or_404(Program, program_id, can_manage_program)
    form = NominateForm()
    back = redirect(url_for("nominations.program_nominations", program_id=program.id))
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        ids = _ids(request.form.getlist("application"))
        if not ids:
            flash(_("Tick the students to nominate."), "warning")
            return back
        if not request.form.get("confirm"):
            return _preview(program, form, ids)
        confirmed = {}
        for application_id in ids:
            version = request.form.get(f"version-{application_id}", "")
            # A version the preview did not send cannot match: the student is shown again.
            ok = version.isascii() and version.isdigit() and len(version) <= 9
            confirmed[application_id] = int(version) if ok else -1
        try:
            done = services.nominate_confirmed(program, confirmed, actor=current_user)
        except services.StaleSelection as exc:
            flash(str(exc), "danger")
            return _preview(program, form, ids, exc.changed)
        flash(
            ngettext(
                "%(num)d student nominated: the host university sees the nomination now.",
                "%(num)d students nominated: the host university sees the nominations now.",
                len(done),
            ),
            "success",
        )
        return back
    nominated = sa.select(Nomination.application_id).where(Nomination.program_id == program.id)
    waiting = list(
        db.session.scalars(
            sa.select(Application)
            .where(
                Application.program_id == program.id,
                Application.state == State.CONFIRMED.value,
                Application.id.not_in(nominated),
            )
            .order_by(Application.id)
        )
    )
    nominations = list(
        db.session.scalars(
            queries.filtered(current_user, queries.Filters(program_id=program.id))
        )
    )
    return render_template(
        "nominations/staff_program.html",
        program=program,
        form=form,
        waiting=waiting,
        nominations=nominations,
        changed=queries.changed_answers([n.id for n in nominations]),
        status_labels=STATUS_LABELS,
        answer_labels=ANSWER_LABELS,
    )


def _filters() -> tuple[FilterForm, queries.Filters]:
    form = FilterForm(request.args)
    programs = db.session.execute(
        sa.select(Program.id, Program.titles)
        .where(Program.id.in_(queries.visible(current_user).with_only_columns(Nomination.program_id)))
        .order_by(Program.id)
    ).all()
    from portal.i18n import pick

    form.program.choices = [("", "—")] + [(str(pid), pick(titles)) for pid, titles in programs]
    years = db.session.scalars(
        queries.visible(current_user)
        .with_only_columns(Nomination.academic_year)
        .distinct()
        .order_by(Nomination.academic_year)
    ).all()
    form.year.choices = [("", "—")] + [(y, y) for y in years]
    if not form.validate():
        # A filter we cannot apply must not widen the list: show nothing, and say why.
        return form, queries.Filters(nothing=True)
    data = form.data
    program = data.get("program") or ""
    return form, queries.Filters(
        program_id=int(program) if program.isdigit() else None,
        academic_year=data.get("year") or None,
        status=data.get("status") or None,
        answer=data.get("answer") or None,
        direction=data.get("direction") or None,
        answered_within=int(data["answered"]) if data.get("answered") else None,
    )


FILTER_ARGS = ("program", "year", "status", "answer", "direction", "answered")


def _args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in FILTER_ARGS}


@bp.get("/partner/nominations")
@role_required(*READERS)
def partner_list() -> str:
    """List the nominations that concern the user's university, with filters and downloads."""
    form, filters = _filters()
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1
    page = max(1, page)
    pagination = db.paginate(
        queries.filtered(current_user, filters),
        page=page,
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "nominations/partner_list.html",
        form=form,
        pagination=pagination,
        args=_args(),
        status_labels=STATUS_LABELS,
        answer_labels=ANSWER_LABELS,
    )


def _stream(query: sa.Select[tuple[Nomination]]):
    """Yield the rows of a query in batches, without holding them all."""
    result = db.session.execute(query.execution_options(yield_per=200)).scalars()
    yield from result


def _download(body, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/partner/nominations.csv")
@role_required(*READERS)
def export_csv() -> Response:
    """Download the filtered list as CSV (UTF-8 with BOM, formula-safe), streamed."""
    _form, filters = _filters()
    headers, rows = _table(filters)
    return _download(
        stream_with_context(csv_chunks(headers, rows)), "text/csv", "nominations.csv"
    )


@bp.get("/partner/nominations.xlsx")
@role_required(*READERS)
def export_xlsx() -> Response:
    """Download the filtered list as an XLSX workbook."""
    _form, filters = _filters()
    headers, rows = _table(filters)
    return _download(
        xlsx_bytes(headers, rows, "nominations", widths=[width for _key, _label, width in COLUMNS]),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "nominations.xlsx",
    )


@bp.get("/partner/nominations.xml")
@role_required(*READERS)
def export_xml() -> Response:
    """Download the filtered list as an EWP omobilities get-response, streamed."""
    _form, filters = _filters()
    nominations = _stream(queries.filtered(current_user, filters))
    return _download(
        stream_with_context(ewp.get_response_chunks(nominations)),
        "application/xml",
        "omobilities.xml",
    )


# A PDF is for reading: beyond this many rows, the spreadsheet formats serve better.
PDF_MAX_ROWS = 2000


@bp.get("/partner/nominations.pdf")
@role_required(*READERS)
def export_pdf() -> Response | tuple[str, int]:
    """Download the filtered list as a PDF summary."""
    from portal.offers.pdf import STATIC_ROOT, Renderer

    _form, filters = _filters()
    query = queries.filtered(current_user, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    if total > PDF_MAX_ROWS:
        flash(
            _(
                "The PDF summary holds at most %(count)d nominations: narrow the list, or "
                "download it as XLSX or CSV.",
                count=PDF_MAX_ROWS,
            ),
            "warning",
        )
        return redirect(url_for("nominations.partner_list", **_args()))
    institution = current_user.institution
    # On paper the time says where it was taken: the reader's university's zone, or else the
    # zone the pages show them.
    zone = institution.timezone if institution is not None else select_timezone()
    html = render_template(
        "nominations/summary_pdf.html",
        rows=db.session.scalars(query).all(),
        institution=institution.name() if institution is not None else "Kopir",
        generated=in_zone(utcnow(), zone),
        lang=current_locale(),
        status_labels=STATUS_LABELS,
        answer_labels=ANSWER_LABELS,
    )
    pdf = Renderer(stylesheet=STATIC_ROOT / "css" / "summary.css").render(html)
    return _download(pdf, "application/pdf", "nominations.pdf")


@bp.get("/partner/nominations.zip")
@role_required(*READERS)
def export_zip() -> Response:
    """Download the documents of the filtered nominees as one ZIP, with an index, streamed."""
    _form, filters = _filters()
    nominations = _stream(queries.filtered(current_user, filters))
    body = documents_zip(nominations, lambda n: n.application.current_documents())
    return _download(stream_with_context(body), "application/zip", "nominations-documents.zip")


@bp.get("/partner/nominations/<int:nomination_id>")
@role_required(*READERS)
def partner_detail(nomination_id: int) -> str:
    """Show one nominee, their documents, the answers given and, to the host, the answer form."""
    nomination = load_or_404(Nomination, nomination_id, can_see_nomination)
    form: AnswerForm | ChangeAnswerForm | None = None
    if can_answer_nomination(nomination):
        form = AnswerForm() if nomination.answer == Answer.PENDING else ChangeAnswerForm()
        form.current.data = nomination.answer
    return render_template(
        "nominations/partner_detail.html",
        nomination=nomination,
        documents=nomination.application.current_documents(),
        document_kinds=DOCUMENT_KINDS,
        form=form,
        history=queries.answer_history(nomination.id),
        # Only the receiving university's own partners answer; its coordinators only read.
        receiving=current_user.role == Role.PARTNER
        and current_user.institution_id == nomination.receiving_hei_id,
        status_labels=STATUS_LABELS,
        answer_labels=ANSWER_LABELS,
    )


@bp.post("/partner/nominations/<int:nomination_id>/answer")
@role_required(Role.PARTNER)
def answer(nomination_id: int) -> str | Response:
    """Verify or reject a nomination, with a comment; or withdraw a verification, with a reason."""
    nomination = load_or_404(Nomination, nomination_id, can_see_nomination)
    # Both the first answer and the change post these fields; the service says which is which.
    form = AnswerForm()
    back = redirect(url_for("nominations.partner_detail", nomination_id=nomination.id))
    if not form.validate_on_submit():
        flash(_("Choose to verify or to reject the nomination."), "danger")
        return back
    try:
        record = services.answer(
            nomination,
            Answer(form.verdict.data),
            form.comment.data,
            institution_id=current_user.institution_id,
            user_id=current_user.id,
            expected=form.current.data or None,
        )
    except services.NominationError as exc:
        flash(str(exc), "danger")
        return back
    flash(
        _("Your answer is changed and recorded.")
        if record.is_change
        else _("Your answer is recorded."),
        "success",
    )
    return back
