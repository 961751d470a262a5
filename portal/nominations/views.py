"""Nominations: coordinators nominate; partner universities list, download and answer."""

from __future__ import annotations

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
from portal.nominations import ewp, queries, services
from portal.nominations.bundle import documents_zip
from portal.nominations.forms import AnswerForm, FilterForm, NominateForm
from portal.nominations.models import ANSWER_LABELS, STATUS_LABELS, Answer, Nomination
from portal.programs.models import DOCUMENT_KINDS, Program

bp = Blueprint("nominations", __name__)

READERS = (Role.PARTNER, Role.COORDINATOR, Role.ADMIN)

COLUMNS = (
    ("omobility_id", _l("Mobility ID")),
    ("latin_name", _l("Name (Latin)")),
    ("native_name", _l("Name (native script)")),
    ("email", _l("E-mail")),
    ("birth_date", _l("Date of birth")),
    ("citizenship", _l("Citizenship")),
    ("programme", _l("Programme")),
    ("sending", _l("Sending university")),
    ("receiving", _l("Receiving university")),
    ("year", _l("Academic year")),
    ("arrival", _l("Planned arrival")),
    ("departure", _l("Planned departure")),
    ("eqf", _l("Study level (EQF)")),
    ("isced", _l("Field (ISCED-F)")),
    ("status", _l("Status")),
    ("answer", _l("Answer")),
    ("comment", _l("Comment")),
    ("modified", _l("Last change (UTC)")),
)


def _row(n: Nomination) -> list[object]:
    return [
        n.omobility_id,
        n.latin_name,
        n.native_name,
        n.student.get("email") or "",
        n.student.get("birth_date") or "",
        n.student.get("citizenship") or "",
        n.program.slug,
        n.sending_hei.schac,
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


@bp.route("/staff/programs/<int:program_id>/nominations", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def program_nominations(program_id: int) -> str | Response:
    """Nominate the programme's confirmed students, one or many, and follow the answers."""
    program = load_or_404(Program, program_id, can_manage_program)
    form = NominateForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        ids = [
            int(v)
            for v in request.form.getlist("application")
            if v.isascii() and v.isdigit() and len(v) <= 9
        ]
        chosen = list(
            db.session.scalars(
                sa.select(Application).where(
                    Application.id.in_(ids), Application.program_id == program.id
                )
            )
        )
        if not chosen:
            flash(_("Tick the students to nominate."), "warning")
        else:
            done, refused = services.nominate_many(chosen, actor=current_user)
            if done:
                flash(
                    _("Nominated: %(count)d.", count=len(done)),
                    "success",
                )
            for application, reason in refused:
                name = (application.profile_snapshot or {}).get("latin_family_name", "")
                flash(f"{name}: {reason}", "warning")
        return redirect(url_for("nominations.program_nominations", program_id=program.id))
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
    )


def _args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in ("program", "year", "status", "answer")}


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
    headers = [str(label) for _key, label in COLUMNS]
    rows = (_row(n) for n in _stream(queries.filtered(current_user, filters)))
    return _download(
        stream_with_context(csv_chunks(headers, rows)), "text/csv", "nominations.csv"
    )


@bp.get("/partner/nominations.xlsx")
@role_required(*READERS)
def export_xlsx() -> Response:
    """Download the filtered list as an XLSX workbook."""
    _form, filters = _filters()
    headers = [str(label) for _key, label in COLUMNS]
    rows = (_row(n) for n in _stream(queries.filtered(current_user, filters)))
    return _download(
        xlsx_bytes(headers, rows, "nominations"),
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
    from portal.i18n import current_locale
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
    institution = current_user.institution.name() if current_user.institution else "Kopir"
    html = render_template(
        "nominations/summary_pdf.html",
        rows=db.session.scalars(query).all(),
        institution=institution,
        generated=iso_utc(utcnow()),
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
    """Show one nominee, their documents and, to the receiving university, the answer form."""
    nomination = load_or_404(Nomination, nomination_id, can_see_nomination)
    return render_template(
        "nominations/partner_detail.html",
        nomination=nomination,
        documents=nomination.application.current_documents(),
        document_kinds=DOCUMENT_KINDS,
        form=AnswerForm() if can_answer_nomination(nomination) else None,
        status_labels=STATUS_LABELS,
        answer_labels=ANSWER_LABELS,
    )


@bp.post("/partner/nominations/<int:nomination_id>/answer")
@role_required(Role.PARTNER)
def answer(nomination_id: int) -> str | Response:
    """Verify or reject a nomination, with a comment."""
    nomination = load_or_404(Nomination, nomination_id, can_see_nomination)
    form = AnswerForm()
    back = redirect(url_for("nominations.partner_detail", nomination_id=nomination.id))
    if not form.validate_on_submit():
        flash(_("Choose to verify or to reject the nomination."), "danger")
        return back
    try:
        services.answer(
            nomination,
            Answer(form.verdict.data),
            form.comment.data,
            institution_id=current_user.institution_id,
            user_id=current_user.id,
        )
    except services.NominationError as exc:
        flash(str(exc), "danger")
        return back
    flash(_("Your answer is recorded."), "success")
    return back
