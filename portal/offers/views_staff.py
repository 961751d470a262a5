"""Coordinators' side of offer letters: issue one or all, revoke, word the letter, watch jobs."""

from __future__ import annotations

import logging
from datetime import datetime, time
from io import BytesIO

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal import jobs
from portal.access import can_decide, can_manage_program, load_or_404, role_required
from portal.applications.models import Application
from portal.applications.states import STATE_LABELS, State, TransitionError
from portal.auth.models import Role, User
from portal.extensions import db
from portal.i18n import LANGUAGE_NAMES
from portal.offers import services
from portal.offers.batch import pending_count
from portal.offers.forms import IssueForm, LetterSettingsForm, RevokeForm, StartBatchForm
from portal.offers.letters import (
    PLACEHOLDERS,
    default_body,
    default_conditions,
    letter_text,
)
from portal.offers.models import RESPONSE_LABELS, STATUS_LABELS, LetterTemplate, Offer
from portal.offers.pdf import LETTER_FONT, LetterFontMissing
from portal.profiles.models import StudentProfile
from portal.programs.models import Program

log = logging.getLogger(__name__)

bp = Blueprint("offer_staff", __name__, url_prefix="/staff")

MANAGERS = (Role.COORDINATOR, Role.ADMIN)
LETTER_STATES = (
    State.ACCEPTED,
    State.OFFERED,
    State.CONFIRMED,
    State.DECLINED,
    State.EXPIRED,
)


@bp.get("/programs/<int:program_id>/offers")
@role_required(*MANAGERS)
def program_offers(program_id: int) -> str:
    """List the programme's accepted applicants and their letters; start the batch."""
    program = load_or_404(Program, program_id, can_manage_program)
    rows = db.session.execute(
        sa.select(Application, StudentProfile, Offer)
        .join(StudentProfile, StudentProfile.user_id == Application.student_id, isouter=True)
        .join(
            Offer,
            sa.and_(Offer.application_id == Application.id, Offer.status == "valid"),
            isouter=True,
        )
        .where(
            Application.program_id == program.id,
            Application.state.in_([s.value for s in LETTER_STATES]),
        )
        .order_by(Application.state, StudentProfile.latin_family_name, Application.id)
    ).all()
    latest_job = db.session.scalar(
        sa.select(jobs.Job)
        .where(jobs.Job.program_id == program.id, jobs.Job.kind == "issue_offers")
        .order_by(jobs.Job.id.desc())
        .limit(1)
    )
    return render_template(
        "offers/staff_program.html",
        program=program,
        rows=rows,
        pending=pending_count(program.id),
        latest_job=latest_job,
        form=StartBatchForm(),
        state_labels=STATE_LABELS,
        status_labels=STATUS_LABELS,
        response_labels=RESPONSE_LABELS,
        signatory_missing=not letter_text(program, "en").signatory_name,
    )


@bp.post("/programs/<int:program_id>/offers/issue")
@role_required(*MANAGERS)
def start_batch(program_id: int) -> Response:
    """Start the job that issues every pending letter of the programme."""
    program = load_or_404(Program, program_id, can_manage_program)
    if not StartBatchForm().validate_on_submit():
        abort(400)
    if not pending_count(program.id):
        flash(_("Every accepted applicant already has a letter."), "info")
        return redirect(url_for("offer_staff.program_offers", program_id=program.id))
    try:
        job = jobs.create("issue_offers", program_id=program.id, created_by_id=current_user.id)
    except jobs.JobBusy as busy:
        flash(_("Letters are already being issued for this programme."), "info")
        return redirect(url_for("offer_staff.job", job_id=busy.job.id))
    # The letters' QR codes point at the address the coordinator is using, as single letters do.
    # The e-mails the worker sends with the letters link there too (it has no request).
    job.result = {"verify_prefix": services.verify_prefix(), "base_url": request.host_url}
    jobs.start_after_commit(job)
    return redirect(url_for("offer_staff.job", job_id=job.id))


def _job_or_404(job_id: int) -> jobs.Job:
    job = load_or_404(jobs.Job, job_id)
    program = db.session.get(Program, job.program_id) if job.program_id else None
    if program is None or not can_manage_program(program):
        abort(404)
    return job


@bp.get("/jobs/<int:job_id>")
@role_required(*MANAGERS)
def job(job_id: int) -> str:
    """Show a job's progress (the page updates itself; without JavaScript it reloads)."""
    job_ = _job_or_404(job_id)
    program = db.session.get(Program, job_.program_id)
    failed_apps = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Application).where(
                Application.id.in_([f.get("application_id") for f in job_.failures])
            )
        )
    }
    return render_template(
        "offers/staff_job.html",
        job=job_,
        program=program,
        failed_apps=failed_apps,
        state_label=jobs.JOB_STATE_LABELS[jobs.JobState(job_.state)],
        form=StartBatchForm(),
    )


@bp.get("/jobs/<int:job_id>.json")
@role_required(*MANAGERS)
def job_status(job_id: int) -> Response:
    """Return a job's progress for the progress bar."""
    job_ = _job_or_404(job_id)
    response = jsonify(job_.as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


def issue_form_for(application: Application) -> IssueForm:
    """Return the form that issues one applicant's letter, set to their language."""
    form = IssueForm()
    form.language.choices = list(LANGUAGE_NAMES.items())
    if not form.is_submitted():
        form.language.data = services.letter_language(application)
        form.bilingual.data = application.program.letter_bilingual
    return form


@bp.post("/applications/<int:application_id>/offer")
@role_required(*MANAGERS)
def issue_one(application_id: int) -> Response:
    """Issue one applicant's letter now, or a new version replacing the standing one."""
    application = load_or_404(Application, application_id, can_decide)
    form = issue_form_for(application)
    back = redirect(url_for("staff.application", application_id=application.id))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return back
    if services.expire_if_due(application):
        flash(_("The time to answer this offer has passed."), "warning")
        return back
    deadline = None
    if form.deadline.data:
        program = application.program
        deadline = datetime.combine(form.deadline.data, time(23, 59), tzinfo=program.zone)
    try:
        offer = services.issue_offer(
            application,
            actor=current_user,
            language=form.language.data,
            bilingual=form.bilingual.data,
            deadline=deadline,
        )
    except services.OfferError as exc:
        flash(str(exc), "danger")
        return back
    except TransitionError:
        flash(_("Only accepted applicants can be sent an offer letter."), "danger")
        return back
    except LetterFontMissing as exc:
        _font_missing(exc)
        return back
    flash(_("Letter %(reference)s is issued.", reference=offer.reference), "success")
    return back


@bp.post("/offers/<int:offer_id>/revoke")
@role_required(*MANAGERS)
def revoke(offer_id: int) -> Response:
    """Revoke the standing letter of an unanswered offer, with a reason."""
    offer = load_or_404(Offer, offer_id, lambda o: can_decide(o.application))
    form = RevokeForm()
    back = redirect(url_for("staff.application", application_id=offer.application_id))
    if not form.validate_on_submit():
        flash(_("Say why the letter is revoked."), "danger")
        return back
    if services.expire_if_due(offer.application):
        flash(_("The time to answer this offer has passed."), "warning")
        return back
    try:
        services.revoke_offer(offer, actor=current_user, reason=form.reason.data)
    except services.OfferError as exc:
        flash(str(exc), "danger")
        return back
    except TransitionError:
        flash(_("Only the standing letter of an unanswered offer can be revoked."), "danger")
        return back
    flash(_("The letter is revoked. The applicant is accepted again, without a letter."), "info")
    return back


@bp.route("/programs/<int:program_id>/letter", methods=["GET", "POST"])
@role_required(*MANAGERS)
def letter_settings(program_id: int) -> str | Response:
    """Word the programme's letter per language and set its options, with a PDF preview."""
    program = load_or_404(Program, program_id, can_manage_program)
    locale = request.values.get("locale", "en")
    if locale not in LANGUAGE_NAMES:
        locale = "en"
    form = LetterSettingsForm()
    if request.method == "GET":
        own = db.session.scalar(
            sa.select(LetterTemplate).where(
                LetterTemplate.program_id == program.id, LetterTemplate.locale == locale
            )
        )
        form.locale.data = locale
        form.response_days.data = program.offer_response_days
        form.bilingual.data = program.letter_bilingual
        if own is not None:
            form.body.data = own.body
            form.conditions.data = own.conditions
            form.signatory_name.data = own.signatory_name
            form.signatory_title.data = own.signatory_title
    elif form.validate_on_submit():
        services.save_letter_settings(
            program,
            response_days=form.response_days.data,
            bilingual=form.bilingual.data,
            texts={
                locale: {
                    "body": form.body.data or "",
                    "conditions": form.conditions.data or "",
                    "signatory_name": form.signatory_name.data or "",
                    "signatory_title": form.signatory_title.data or "",
                }
            },
        )
        if not form.preview.data:
            flash(_("The letter is saved."), "success")
            return redirect(
                url_for("offer_staff.letter_settings", program_id=program.id, locale=locale)
            )
        try:
            return _preview(program, locale, form.bilingual.data)
        except LetterFontMissing as exc:
            _font_missing(exc)  # nothing was kept; the form below shows the wording as typed
    status = 422 if form.errors else 200
    with force_locale(locale):
        defaults = {"body": default_body(), "conditions": default_conditions()}
    return (
        render_template(
            "offers/staff_letter.html",
            program=program,
            form=form,
            locale=locale,
            placeholders=PLACEHOLDERS,
            defaults=defaults,
        ),
        status,
    )


def _font_missing(exc: LetterFontMissing) -> None:
    """Tell staff why a letter could not be set wholly in its typeface."""
    from portal.offers.typeface import letter_font_characters

    log.error("Offer letter refused: %s", exc)
    if letter_font_characters() is None:
        message = _(
            "The letter cannot be made: its typeface (%(font)s) is not installed on the server. "
            "Nothing was issued; please tell the portal's operator.",
            font=LETTER_FONT,
        )
    else:
        # The typeface is there: the wording or the student's name has characters it lacks.
        message = _(
            "The letter cannot be made: the wording or the student's name holds characters its "
            "typeface (%(font)s) cannot print. Nothing was issued.",
            font=LETTER_FONT,
        )
    flash(message, "danger")


def _preview(program: Program, locale: str, bilingual: bool) -> Response:
    """Render the letter with the unsaved wording for a sample applicant, then forget it."""
    sample = db.session.scalar(
        sa.select(Application)
        .join(StudentProfile, StudentProfile.user_id == Application.student_id)
        .where(Application.program_id == program.id, Application.state != State.DRAFT.value)
        .order_by(Application.id)
        .limit(1)
    ) or _sample_application(program, locale)
    try:
        data = services.preview_letter(program, sample, locale, bilingual)
    finally:
        # The wording was written to the session only so the preview could read it.
        db.session.rollback()
    response = send_file(
        BytesIO(data), mimetype="application/pdf", download_name="preview.pdf", max_age=0
    )
    response.headers["Content-Disposition"] = "inline; filename=preview.pdf"
    response.headers["Cache-Control"] = "no-store"
    return response


def _sample_application(program: Program, locale: str) -> Application:
    """Return an unsaved applicant to preview a letter before anyone has applied."""
    student = User(email="sample@example.invalid", role=Role.STUDENT, locale=locale)
    application = Application(
        program_id=program.id,
        state=State.ACCEPTED.value,
        profile_snapshot={
            "native_given_names": "Айгерім",
            "native_family_name": "Нұрланқызы",
            "native_name_lang": "kk-Cyrl",
            "latin_given_names": "AIGERIM",
            "latin_family_name": "NURLANKYZY",
            "home_institution_other": "—",
        },
    )
    application.program = program
    application.student = student
    return application
