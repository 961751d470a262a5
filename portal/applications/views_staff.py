"""Coordinators and reviewers at work on applications: view, assign, score, decide."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.access import (
    can_decide,
    can_manage_program,
    can_review,
    can_view_application,
    load_or_404,
    role_required,
)
from portal.applications import decisions
from portal.applications.forms_staff import (
    AssignForm,
    AutoAssignForm,
    BestForm,
    BestPreviewForm,
    DecisionForm,
    review_form,
)
from portal.applications.models import Application
from portal.applications.queries import selected_applications, submitted_applications_of
from portal.applications.states import STATE_LABELS, State
from portal.auth.models import Role
from portal.profiles.models import StudentProfile
from portal.profiles.queries import profiles_sharing_national_id
from portal.programs.eligibility import check_eligibility
from portal.programs.models import DOCUMENT_KINDS, Program
from portal.reviews import services as reviews
from portal.reviews.models import Review

bp = Blueprint("staff", __name__, url_prefix="/staff")

STAFF = (Role.COORDINATOR, Role.REVIEWER, Role.ADMIN)
DECISION_TARGETS = (
    State.UNDER_REVIEW,
    State.ACCEPTED,
    State.WAITLISTED,
    State.REJECTED,
    State.CANCELLED,
)


def _targets(application: Application) -> list[tuple[str, str]]:
    """Return the moves the current user may make from the application's state."""
    role = current_user.role
    return [
        (target.value, str(STATE_LABELS[target]))
        for target in DECISION_TARGETS
        if decisions.is_decision(application.state, target, role)
    ]


def _decision_choices(application: Application) -> list[tuple[str, str]]:
    """Return the decision list: nothing chosen first, so that no decision is made by default."""
    targets = _targets(application)
    return [("", _("Choose a decision…")), *targets] if targets else []


def _same_identifier(application: Application) -> list[tuple[StudentProfile, list[Application]]]:
    """Return the other accounts holding the applicant's national ID, with what the user may open.

    One person with two accounts can apply twice for one seat: the coordinator is told, nothing
    is refused (a typo in someone else's profile must not lock the rightful holder out).
    """
    profile = application.student.profile
    others = profiles_sharing_national_id(profile) if profile is not None else []
    if not others:
        return []
    found = submitted_applications_of([other.user_id for other in others])
    return [
        (
            other,
            [a for a in found if a.student_id == other.user_id and can_view_application(a)],
        )
        for other in others
    ]


def _visible_reviews(application: Application) -> list[Review]:
    """Return the reviews the user may read: all for coordinators, own (and maybe others')."""
    if can_manage_program(application.program):
        return list(application.reviews)
    if application.program.reviewers_see_scores:
        return list(application.reviews)
    return [r for r in application.reviews if r.reviewer_id == current_user.id]


@bp.get("/applications/<int:application_id>")
@role_required(*STAFF)
def application(application_id: int, decision_form: DecisionForm | None = None) -> str:
    """Show everything about one application to the staff allowed to see it.

    ``decision_form`` is a refused decision, shown again with its messages.
    """
    from portal.offers.forms import RevokeForm
    from portal.offers.models import RESPONSE_LABELS, STATUS_LABELS
    from portal.offers.services import current_offer, offers_of
    from portal.offers.views_staff import issue_form_for

    app_ = load_or_404(Application, application_id, can_view_application)
    manage = can_manage_program(app_.program)
    own_review = next((r for r in app_.reviews if r.reviewer_id == current_user.id), None)
    if decision_form is None:
        decision_form = DecisionForm(data={"version": app_.version})
    decision_form.target.choices = _decision_choices(app_)
    assign_form = AssignForm()
    assign_form.reviewer.choices = [(r.id, r.email) for r in reviews.reviewers_of(app_.program)]
    score_form = None
    if own_review is not None:
        score_form = review_form(
            app_.program, {s.criterion_id: s.score for s in own_review.scores}, own_review.comment
        )
    return render_template(
        "applications/staff_application.html",
        application=app_,
        manage=manage,
        checks=check_eligibility(app_.program, app_.student.profile),
        reviews=_visible_reviews(app_),
        own_review=own_review,
        score_form=score_form,
        decision_form=decision_form,
        assign_form=assign_form,
        state_labels=STATE_LABELS,
        document_kinds=DOCUMENT_KINDS,
        weighted=reviews.weighted_score,
        offer=current_offer(app_),
        letters=offers_of(app_),
        issue_form=issue_form_for(app_) if manage else None,
        revoke_form=RevokeForm() if manage else None,
        offer_status_labels=STATUS_LABELS,
        offer_response_labels=RESPONSE_LABELS,
        same_identifier=_same_identifier(app_) if manage else [],
    )


def _back(application: Application) -> Response:
    return redirect(url_for("staff.application", application_id=application.id))


@bp.post("/applications/<int:application_id>/decide")
@role_required(Role.COORDINATOR, Role.ADMIN)
def decide(application_id: int) -> Response | tuple[str, int]:
    """Make a decision, refusing it when someone else changed the application meanwhile."""
    app_ = load_or_404(Application, application_id, can_decide)
    form = DecisionForm()
    form.target.choices = _decision_choices(app_)
    if not form.validate_on_submit():
        # Shown again beside the fields, with what was typed kept.
        return application(app_.id, decision_form=form), 422
    if form.version.data != str(app_.version):
        flash(
            _(
                "Someone else changed this application while you were looking at it. Nothing "
                "was changed; check its state below and decide again."
            ),
            "warning",
        )
        return _back(app_)
    try:
        decisions.decide(
            app_,
            State(form.target.data),
            actor=current_user,
            reason=form.reason.data or None,
            note=form.note.data or None,
        )
    except decisions.DecisionError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Decision saved; the student is told by e-mail."), "success")
    return _back(app_)


@bp.post("/applications/<int:application_id>/assign")
@role_required(Role.COORDINATOR, Role.ADMIN)
def assign(application_id: int) -> Response:
    """Assign a reviewer by hand."""
    app_ = load_or_404(Application, application_id, can_decide)
    form = AssignForm()
    form.reviewer.choices = [(r.id, r.email) for r in reviews.reviewers_of(app_.program)]
    if not form.validate_on_submit():
        flash(_("Please choose a reviewer from the list."), "danger")
        return _back(app_)
    from portal.auth.models import User
    from portal.extensions import db

    reviewer = db.session.get(User, form.reviewer.data)
    try:
        reviews.assign(app_, reviewer, actor=current_user)
    except reviews.ReviewError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Reviewer assigned."), "success")
    return _back(app_)


@bp.post("/applications/<int:application_id>/review")
@role_required(Role.REVIEWER, Role.COORDINATOR, Role.ADMIN)
def review(application_id: int) -> str | Response:
    """Save the current user's scores on an application assigned to them."""
    app_ = load_or_404(Application, application_id, can_review)
    own = next(r for r in app_.reviews if r.reviewer_id == current_user.id)
    form = review_form(app_.program, {}, None)
    if not form.validate_on_submit():
        flash(_("Give every criterion a score between 0 and its maximum."), "danger")
        return _back(app_)
    scores = {c.id: getattr(form, f"c{c.id}").data for c in app_.program.criteria}
    try:
        reviews.submit_review(own, scores, form.comment_text.data or None)
    except reviews.ReviewError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("Your review is saved."), "success")
    return _back(app_)


@bp.post("/programs/<int:program_id>/auto-assign")
@role_required(Role.COORDINATOR, Role.ADMIN)
def auto_assign(program_id: int) -> Response:
    """Assign reviewers to every submitted application of a programme, balanced."""
    program = load_or_404(Program, program_id, can_manage_program)
    form = AutoAssignForm()
    if form.validate_on_submit():
        made = reviews.auto_assign(
            program, per_application=form.per_application.data, actor=current_user
        )
        flash(_("%(count)d assignments made.", count=made), "success")
    else:
        flash(_("Choose between 1 and 5 reviewers per application."), "danger")
    return redirect(url_for("staff.best", program_id=program.id))


@bp.route("/programs/<int:program_id>/decide", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def best(program_id: int) -> str | Response:
    """Preview, then apply: accept the best N within seats and quotas, waitlist the next M."""
    program = load_or_404(Program, program_id, can_manage_program)
    preview = BestPreviewForm(request.args)
    form = BestForm()
    role = current_user.role
    plan = None
    if request.method == "GET" and "accept" in request.args and preview.validate():
        form.accept.data, form.waitlist.data = preview.accept.data, preview.waitlist.data
        plan = decisions.plan_best(program, preview.accept.data, preview.waitlist.data, role=role)
    if request.method == "POST" and form.validate_on_submit():
        if not form.confirm.data or not form.plan.data:
            plan = decisions.plan_best(program, form.accept.data, form.waitlist.data, role=role)
            flash(_("Tick the confirmation to apply these decisions."), "warning")
        else:
            try:
                done = decisions.accept_best(
                    program,
                    form.accept.data,
                    form.waitlist.data,
                    actor=current_user,
                    expected=form.plan.data,
                )
            except decisions.PlanChanged as exc:
                flash(str(exc), "warning")
                plan = decisions.plan_best(
                    program, form.accept.data, form.waitlist.data, role=role
                )
            else:
                flash(
                    _(
                        "%(accepted)d accepted and %(waitlisted)d waitlisted; every student is "
                        "told by e-mail.",
                        accepted=len(done.accept),
                        waitlisted=len(done.waitlist),
                    ),
                    "success",
                )
                return redirect(url_for("staff.best", program_id=program.id))
    if plan is not None:
        form.plan.data = decisions.fingerprint(plan.steps)
        form.confirm.data = False
    sample = None
    if plan is not None and (plan.accept or plan.waitlist):
        from portal.applications.notifications import preview_mail

        first = (plan.accept or plan.waitlist)[0]
        sample = preview_mail(first, State.ACCEPTED if plan.accept else State.WAITLISTED)
    return render_template(
        "applications/staff_decide.html",
        proposals=decisions.pending_proposals(program),
        confirm_form=DecisionForm(),
        program=program,
        form=form,
        preview=preview,
        plan=plan,
        sample=sample,
        seats=decisions.count_seats(program),
        auto_form=AutoAssignForm(),
        state_labels=STATE_LABELS,
        partner_names=_partner_names(program),
    )


def _partner_names(program: Program) -> dict[int, str]:
    """Name the partners that have seats reserved on the programme, for the previews."""
    return {quota.institution_id: quota.institution.name() for quota in program.quotas}


@bp.get("/dashboard")
@role_required(Role.COORDINATOR, Role.ADMIN)
def dashboard() -> str:
    """Show the coordinator's programmes in numbers and charts."""
    from flask_babel import format_date

    from portal.access import managed_program_ids
    from portal.applications.overview import chart_rows, overview
    from portal.i18n import current_locale
    from portal.reference import country_name

    locale = current_locale()
    data = overview(managed_program_ids(), locale)
    charts = [
        (
            _("Applications by state"),
            "state",
            [(str(STATE_LABELS[State(s)]), n) for s, n in data.by_state],
        ),
        (
            _("Applications by citizenship"),
            "citizenship",
            [(country_name(c, locale) if c != "—" else c, n) for c, n in data.by_citizenship],
        ),
        (_("Applications by home university"), "home", data.by_home),
        (
            _("Applications submitted per week"),
            "week",
            [(format_date(week, "medium"), n) for week, n in data.by_week],
        ),
    ]
    return render_template(
        "applications/staff_dashboard.html",
        charts=[(title, key, chart_rows(rows)) for title, key, rows in charts],
        seats=data.seats,
    )


@bp.get("/reviews")
@role_required(Role.REVIEWER, Role.COORDINATOR, Role.ADMIN)
def my_reviews() -> str:
    """List the applications assigned to the current user for review."""
    import sqlalchemy as sa
    import sqlalchemy.orm as so

    from portal.auth.models import User
    from portal.extensions import db

    assigned = (
        db.session.scalars(
            sa.select(Review)
            .where(Review.reviewer_id == current_user.id)
            .options(
                so.joinedload(Review.application).joinedload(Application.program),
                so.joinedload(Review.application)
                .joinedload(Application.student)
                .joinedload(User.profile),
            )
            .order_by(Review.submitted_at.is_not(None), Review.assigned_at)
        )
        .unique()
        .all()
    )
    return render_template(
        "applications/staff_reviews.html", assigned=assigned, state_labels=STATE_LABELS
    )


@bp.post("/programs/<int:program_id>/bulk")
@role_required(Role.COORDINATOR, Role.ADMIN)
def bulk(program_id: int) -> tuple[str, int] | Response:
    """Decide several applications at once: preview first, then apply on confirmation."""
    from portal.applications.forms_staff import BulkForm

    program = load_or_404(Program, program_id, can_manage_program)
    form = BulkForm()
    # A reason too long is told beside the preview below; a missing token is refused at once.
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400)
    back = url_for("queue.program", program_id=program.id)
    if not request.form.get("target"):
        # The queue's choice starts empty, so that no decision is taken by default.
        flash(_("Please choose a decision."), "warning")
        return redirect(back)
    try:
        target = State(request.form["target"])
    except ValueError:
        abort(400)
    if target not in DECISION_TARGETS:
        abort(400)
    values = request.form.getlist("ids")
    # Ids are row numbers the page wrote: anything else was forged (and a number of hundreds of
    # digits would overflow SQLite's integers).
    if not all(v.isascii() and v.isdigit() and len(v) <= 9 for v in values):
        abort(400)
    ids = [int(value) for value in values][:500]
    chosen = selected_applications(program, ids)
    if not chosen:
        flash(_("Select at least one application."), "warning")
        return redirect(back)
    status = 200
    # The preview's form carries the plan it showed; a post without one asks for the preview.
    confirmed = request.form.get("confirm") == "y" and bool(form.plan.data)
    if confirmed and (form.reason.errors or form.note.errors):
        confirmed, status = False, 422  # told beside the fields, the preview shown again
    steps = None
    if confirmed:
        try:
            steps = decisions.apply_plan(
                list(chosen),
                target,
                actor=current_user,
                expected=form.plan.data,
                reason=form.reason.data or None,
                note=form.note.data or None,
            )
        except decisions.PlanChanged as exc:
            flash(str(exc), "warning")
            steps, status = exc.steps, 409
        except decisions.DecisionError as exc:
            form.reason.errors = [*form.reason.errors, str(exc)]
            status = 422
        else:
            done = sum(1 for step in steps if step.changes)
            flash(
                _("%(count)d decisions saved; the students are told by e-mail.", count=done),
                "success",
            )
            if done < len(steps):
                flash(
                    _(
                        "%(count)d of the selected applications stayed as they were, as the "
                        "preview showed.",
                        count=len(steps) - done,
                    ),
                    "info",
                )
            return redirect(back)
    if steps is None:
        steps = decisions.plan(chosen, target, role=current_user.role)
    from portal.applications.notifications import preview_mail

    form.plan.data = decisions.fingerprint(steps)
    changing = [step for step in steps if step.changes]
    return render_template(
        "applications/staff_bulk.html",
        program=program,
        form=form,
        steps=steps,
        changing=changing,
        target=target,
        state_labels=STATE_LABELS,
        partner_names=_partner_names(program),
        sample=preview_mail(changing[0].application, target) if changing else None,
    ), status


@bp.route("/programs/<int:program_id>/emails", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def emails(program_id: int) -> str | Response:
    """Let coordinators word the decision e-mails of a programme, with a preview."""
    import sqlalchemy as sa

    from portal.applications.forms_staff import MailTemplateForm
    from portal.applications.notifications import render_state_mail
    from portal.extensions import db
    from portal.i18n import LANGUAGE_NAMES
    from portal.programs import mail_templates
    from portal.programs.models import MailTemplate

    program = load_or_404(Program, program_id, can_manage_program)
    form = MailTemplateForm(request.args) if request.method == "GET" else MailTemplateForm()
    form.state.choices = [(s.value, str(STATE_LABELS[s])) for s in mail_templates.EDITABLE_STATES]
    form.locale.choices = list(LANGUAGE_NAMES.items())
    if request.method == "GET":
        form.state.data = (
            form.state.data
            if form.state.data in dict(form.state.choices)
            else (State.ACCEPTED.value)
        )
        form.locale.data = form.locale.data if form.locale.data in LANGUAGE_NAMES else "en"
        existing = mail_templates.find(program.id, form.state.data, form.locale.data)
        form.subject.data = existing.subject if existing else ""
        form.body.data = existing.body if existing else ""
    preview = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        elif form.save.data:
            existing = mail_templates.find(program.id, form.state.data, form.locale.data)
            if not form.subject.data:
                if existing is not None:
                    db.session.delete(existing)
            elif existing is None:
                db.session.add(
                    MailTemplate(
                        program_id=program.id,
                        state=form.state.data,
                        locale=form.locale.data,
                        subject=form.subject.data,
                        body=form.body.data,
                    )
                )
            else:
                existing.subject, existing.body = form.subject.data, form.body.data
            flash(_("The e-mail is saved."), "success")
            return redirect(
                url_for(
                    "staff.emails",
                    program_id=program.id,
                    state=form.state.data,
                    locale=form.locale.data,
                )
            )
        else:
            sample = db.session.scalar(
                sa.select(Application)
                .where(Application.program_id == program.id, Application.state != State.DRAFT.value)
                .order_by(Application.id)
                .limit(1)
            )
            if sample is None:
                flash(_("The preview needs at least one submitted application."), "info")
            else:
                values = {
                    "name": sample.student.profile.latin_name if sample.student.profile else "",
                    "native_name": sample.student.profile.native_name
                    if sample.student.profile
                    else "",
                    "programme": program.title(form.locale.data),
                    "state": str(STATE_LABELS[State(form.state.data)]),
                    "link": url_for(
                        "applications.detail", application_id=sample.id, _external=True
                    ),
                }
                if form.subject.data:
                    preview = {
                        "to": sample.student.email,
                        "subject": mail_templates.fill(form.subject.data, values),
                        "body": mail_templates.fill(form.body.data, values),
                    }
                else:
                    preview = render_state_mail(sample, form.state.data)
    return render_template(
        "applications/staff_emails.html",
        program=program,
        form=form,
        preview=preview,
        placeholders=mail_templates.PLACEHOLDERS,
    ), status
