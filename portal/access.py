"""Who may see and do what: the loader and the can_* predicates views and templates share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from flask import abort, current_app
from flask_login import current_user

from portal.applications.states import State
from portal.auth.models import Role
from portal.extensions import db

if TYPE_CHECKING:
    from portal.applications.models import Application
    from portal.auth.models import User
    from portal.documents.models import Document
    from portal.nominations.models import Nomination
    from portal.programs.models import Program

M = TypeVar("M")
F = TypeVar("F", bound=Callable[..., Any])


def role_required(*roles: str) -> Callable[[F], F]:
    """Let only logged-in users holding one of the roles through; send the others to log in."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def load_or_404(
    model: type[M],
    ident: Any,
    predicate: Callable[[M], bool] | None = None,
    options: Sequence[Any] = (),
) -> M:
    """Load a row by primary key and check it; a missing or forbidden row is a 404 alike.

    Loader options (joinedload, selectinload) bring what the page reads in the same round trip.
    """
    try:
        obj = db.session.get(model, ident, options=options)
    except (ValueError, TypeError, OverflowError):
        obj = None
    if obj is None or (predicate is not None and not predicate(obj)):
        abort(404)
    return obj


def staff_role_on(user: User, program: Program) -> str | None:
    """Return "coordinator" or "reviewer" when the user is named on the programme."""
    from portal.programs.models import ProgramStaff

    return db.session.scalar(
        sa.select(ProgramStaff.role).where(
            ProgramStaff.program_id == program.id, ProgramStaff.user_id == user.id
        )
    )


def can_view_application(application: Application, user: User | None = None) -> bool:
    """Tell whether the user may read the application (owner, staff of it, admin)."""
    user = user or current_user
    if not user.is_authenticated:
        return False
    if user.id == application.student_id:
        return True
    if user.role == Role.ADMIN:
        return True
    if application.state == State.DRAFT:
        return False
    if user.role == Role.COORDINATOR:
        return staff_role_on(user, application.program) == "coordinator"
    if user.role == Role.REVIEWER:
        return can_review(application, user)
    return False


def can_edit_application(application: Application, user: User | None = None) -> bool:
    """Tell whether the user may change the application's answers and documents."""
    user = user or current_user
    return (
        user.is_authenticated
        and user.id == application.student_id
        and application.state == State.DRAFT
    )


def can_withdraw_application(application: Application, user: User | None = None) -> bool:
    """Tell whether the student may withdraw the application now."""
    from portal.applications.states import WITHDRAWABLE_STATES

    user = user or current_user
    return (
        user.is_authenticated
        and user.id == application.student_id
        and application.state in WITHDRAWABLE_STATES
    )


def can_download_document(document: Document, user: User | None = None) -> bool:
    """Tell whether the user may download a document (its application's readers, partners)."""
    if can_view_application(document.application, user):
        return True
    from portal.nominations.models import Nomination

    nomination = db.session.scalar(
        sa.select(Nomination).where(Nomination.application_id == document.application_id)
    )
    # Partners get the documents the student stands by, not versions the student replaced.
    return (
        nomination is not None
        and document.superseded_at is None
        and can_see_nomination(nomination, user)
    )


def can_see_nomination(nomination: Nomination, user: User | None = None) -> bool:
    """Tell whether the user may read a nomination: partners of either university, its staff."""
    user = user or current_user
    if not user.is_authenticated:
        return False
    if user.role == Role.PARTNER:
        return user.institution_id is not None and user.institution_id in (
            nomination.sending_hei_id,
            nomination.receiving_hei_id,
        )
    return can_manage_program(nomination.program, user)


def can_answer_nomination(nomination: Nomination, user: User | None = None) -> bool:
    """Tell whether the user answers for the receiving university and may do so now.

    Now: a first answer, or a change the nomination still allows (Nomination.open_answers).
    """
    user = user or current_user
    return (
        user.is_authenticated
        and user.role == Role.PARTNER
        and user.institution_id == nomination.receiving_hei_id
        and bool(nomination.open_answers())
    )


def can_manage_program(program: Program, user: User | None = None) -> bool:
    """Tell whether the user runs the programme: a coordinator named on it, or an admin."""
    user = user or current_user
    if not user.is_authenticated:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.COORDINATOR and staff_role_on(user, program) == "coordinator"


def managed_program_ids(user: User | None = None) -> sa.Select[tuple[int]] | None:
    """Return a select of the ids of programmes the user runs; None means all (an admin)."""
    from portal.programs.models import ProgramStaff

    user = user or current_user
    if user.role == Role.ADMIN:
        return None
    return sa.select(ProgramStaff.program_id).where(
        ProgramStaff.user_id == user.id, ProgramStaff.role == "coordinator"
    )


def can_review(application: Application, user: User | None = None) -> bool:
    """Tell whether the user is a reviewer assigned to this submitted application."""
    from portal.reviews.models import Review

    user = user or current_user
    if not user.is_authenticated or application.state == State.DRAFT:
        return False
    return (
        db.session.scalar(
            sa.select(Review.id).where(
                Review.application_id == application.id, Review.reviewer_id == user.id
            )
        )
        is not None
    )


def can_decide(application: Application, user: User | None = None) -> bool:
    """Tell whether the user may decide on or assign reviewers to a submitted application."""
    return application.state != State.DRAFT and can_manage_program(application.program, user)
