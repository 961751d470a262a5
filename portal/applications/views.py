"""The student's side of an application: dashboard, steps, submit, withdraw."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.access import (
    can_edit_application,
    can_view_application,
    can_withdraw_application,
    load_or_404,
    role_required,
)
from portal.applications import services
from portal.applications.forms import (
    ConfirmForm,
    MotivationForm,
    WithdrawForm,
    answers_from,
    questions_form,
)
from portal.applications.models import Application
from portal.applications.queries import step_page_loads, student_applications
from portal.applications.states import STATE_LABELS
from portal.auth.models import Role
from portal.profiles.queries import load_profile
from portal.programs.eligibility import check_eligibility
from portal.programs.models import DOCUMENT_KINDS, KIND_LABELS
from portal.programs.queries import program_by_slug

bp = Blueprint("applications", __name__)


def _own_draft(application_id: int, *, readiness: bool = False) -> Application:
    """Load the current student's application; a submitted one goes to its read-only page.

    The pages that work out its readiness also read its documents and the student's profile.
    """
    application = load_or_404(
        Application,
        application_id,
        lambda a: a.student_id == current_user.id,
        options=step_page_loads(documents=readiness),
    )
    if readiness:
        load_profile(application.student)
    return application


def _steps(application: Application) -> list[tuple[str, str, str]]:
    steps = [
        (
            "profile",
            _("Profile"),
            url_for("applications.step_profile", application_id=application.id),
        ),
        (
            "motivation",
            _("Motivation"),
            url_for("applications.motivation", application_id=application.id),
        ),
    ]
    if application.program.questions:
        steps.append(
            (
                "questions",
                _("Questions"),
                url_for("applications.questions", application_id=application.id),
            )
        )
    steps += [
        ("documents", _("Documents"), url_for("documents.manage", application_id=application.id)),
        (
            "review",
            _("Review and submit"),
            url_for("applications.review", application_id=application.id),
        ),
    ]
    return steps


def _next_step(application: Application, current: str) -> str:
    steps = _steps(application)
    keys = [key for key, _label, _url in steps]
    urls = {key: url for key, _label, url in steps}
    index = keys.index(current)
    return urls[keys[min(index + 1, len(keys) - 1)]]


def _render_step(template: str, application: Application, step: str, **context: object):
    return render_template(
        template,
        application=application,
        step=step,
        steps=_steps(application),
        **context,
    )


@bp.get("/applications/")
@role_required(Role.STUDENT)
def dashboard() -> str:
    """List the student's applications with their state and timeline."""
    # Offers past their deadline are expired by the worker's periodic work, never by a page view.
    applications = student_applications(current_user)
    return render_template(
        "applications/dashboard.html",
        applications=applications,
        state_labels=STATE_LABELS,
        kind_labels=KIND_LABELS,
    )


@bp.post("/programs/<slug>/apply")
@role_required(Role.STUDENT)
def apply(slug: str) -> Response:
    """Start (or resume) the student's application to a programme."""
    program = program_by_slug(slug)
    if program is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        application = services.start_application(current_user, program)
    except services.ApplicationError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("programs.detail", slug=slug))
    if not application.is_draft:
        flash(_("You have already applied to this programme."), "info")
        return redirect(url_for("applications.detail", application_id=application.id))
    return redirect(url_for("applications.step_profile", application_id=application.id))


@bp.get("/applications/<int:application_id>")
@role_required(Role.STUDENT)
def detail(application_id: int) -> str:
    """Show an application, its timeline and what the student can do with it."""
    import sqlalchemy as sa
    import sqlalchemy.orm as so

    from portal.extensions import db
    from portal.nominations.models import ANSWER_LABELS, Nomination
    from portal.offers.forms import RespondForm
    from portal.offers.models import RESPONSE_LABELS, STATUS_LABELS
    from portal.offers.services import offers_of

    # The page shows the programme, host, questions, documents and timeline: read together.
    application = load_or_404(
        Application,
        application_id,
        can_view_application,
        options=(*step_page_loads(documents=True), so.selectinload(Application.events)),
    )
    letters = offers_of(application)
    # The standing letter is among them (at most one is valid: a unique index says so).
    offer = next((letter for letter in letters if letter.is_valid), None)
    nomination = db.session.scalar(
        sa.select(Nomination).where(Nomination.application_id == application.id)
    )
    return render_template(
        "applications/detail.html",
        nomination=nomination,
        nomination_answer_label=ANSWER_LABELS[nomination.answer] if nomination else None,
        offer=offer,
        letters=letters,
        respond_form=RespondForm(data={"offer_id": offer.id if offer else ""}),
        offer_status_labels=STATUS_LABELS,
        offer_response_labels=RESPONSE_LABELS,
        application=application,
        state_labels=STATE_LABELS,
        kind_labels=KIND_LABELS,
        document_kinds=DOCUMENT_KINDS,
        can_edit=can_edit_application(application),
        can_withdraw=can_withdraw_application(application),
        withdraw_form=WithdrawForm(),
        steps=_steps(application) if application.is_draft else None,
    )


@bp.get("/applications/<int:application_id>/profile")
@role_required(Role.STUDENT)
def step_profile(application_id: int) -> str | Response:
    """Step 1: the profile data the application uses, and the eligibility verdict."""
    application = _own_draft(application_id, readiness=True)
    if not application.is_draft:
        return redirect(url_for("applications.detail", application_id=application.id))
    return _render_step(
        "applications/step_profile.html",
        application,
        "profile",
        profile=current_user.profile,
        checks=check_eligibility(application.program, current_user.profile),
        readiness=services.readiness(application),
        next_url=_next_step(application, "profile"),
    )


@bp.route("/applications/<int:application_id>/motivation", methods=["GET", "POST"])
@role_required(Role.STUDENT)
def motivation(application_id: int) -> str | Response:
    """Step 2: why the student applies."""
    application = _own_draft(application_id)
    if not can_edit_application(application):
        return redirect(url_for("applications.detail", application_id=application.id))
    form = MotivationForm(data={"motivation": application.motivation or ""})
    if form.validate_on_submit():
        services.save_motivation(application, form.motivation.data or "")
        flash(_("Draft saved."), "success")
        if form.next.data:
            return redirect(_next_step(application, "motivation"))
        return redirect(url_for("applications.motivation", application_id=application.id))
    return _render_step(
        "applications/motivation.html",
        application,
        "motivation",
        form=form,
        minimum=services.MOTIVATION_MIN,
    ), (422 if form.is_submitted() else 200)


@bp.route("/applications/<int:application_id>/questions", methods=["GET", "POST"])
@role_required(Role.STUDENT)
def questions(application_id: int) -> str | Response:
    """Step 3: the programme's own questions."""
    application = _own_draft(application_id)
    if not can_edit_application(application):
        return redirect(url_for("applications.detail", application_id=application.id))
    form = questions_form(application.program, application.answers or {})
    if form.validate_on_submit():
        services.save_answers(application, answers_from(form, application.program))
        flash(_("Draft saved."), "success")
        if form.next.data:
            return redirect(_next_step(application, "questions"))
        return redirect(url_for("applications.questions", application_id=application.id))
    return _render_step("applications/questions.html", application, "questions", form=form), (
        422 if form.is_submitted() else 200
    )


@bp.get("/applications/<int:application_id>/review")
@role_required(Role.STUDENT)
def review(application_id: int) -> str | Response:
    """Last step: everything at a glance, what is missing, and the submit button."""
    application = _own_draft(application_id, readiness=True)
    if not application.is_draft:
        return redirect(url_for("applications.detail", application_id=application.id))
    return _render_step(
        "applications/review.html",
        application,
        "review",
        readiness=services.readiness(application),
        checks=check_eligibility(application.program, current_user.profile),
        form=ConfirmForm(),
        document_kinds=DOCUMENT_KINDS,
    )


@bp.post("/applications/<int:application_id>/submit")
@role_required(Role.STUDENT)
def submit(application_id: int) -> str | Response:
    """Submit the application, if it is complete, eligible and on time."""
    application = _own_draft(application_id, readiness=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not application.is_draft:
        flash(_("You have already applied to this programme."), "info")
        return redirect(url_for("applications.detail", application_id=application.id))
    try:
        services.submit_application(application, actor=current_user)
    except services.ApplicationError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("applications.review", application_id=application.id))
    flash(_("Your application is submitted. We sent you a confirmation by e-mail."), "success")
    return redirect(url_for("applications.detail", application_id=application.id))


@bp.post("/applications/<int:application_id>/withdraw")
@role_required(Role.STUDENT)
def withdraw(application_id: int) -> Response:
    """Withdraw a submitted application."""
    application = _own_draft(application_id)
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.withdraw_application(
            application, actor=current_user, reason=form.reason.data or None
        )
    except services.ApplicationError as exc:
        flash(str(exc), "warning")
    else:
        flash(_("Your application is withdrawn."), "info")
    return redirect(url_for("applications.detail", application_id=application.id))
