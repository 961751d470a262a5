"""The application state machine: one table of moves and the one function that makes them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from blinker import Namespace
from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from portal.applications.models import Application, ApplicationEvent
    from portal.auth.models import User


class State(StrEnum):
    """Where an application stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    OFFERED = "offered"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"


STATE_LABELS = {
    State.DRAFT: _l("Draft"),
    State.SUBMITTED: _l("Submitted"),
    State.UNDER_REVIEW: _l("Under review"),
    State.ACCEPTED: _l("Accepted"),
    State.WAITLISTED: _l("Waitlisted"),
    State.REJECTED: _l("Not accepted"),
    State.OFFERED: _l("Offer issued"),
    State.CONFIRMED: _l("Offer accepted"),
    State.DECLINED: _l("Offer declined"),
    State.EXPIRED: _l("Offer expired"),
    State.WITHDRAWN: _l("Withdrawn"),
    State.CANCELLED: _l("Cancelled"),
}

FINAL_STATES = frozenset(
    {
        State.REJECTED,
        State.WITHDRAWN,
        State.DECLINED,
        State.EXPIRED,
        State.CANCELLED,
        State.CONFIRMED,
    }
)
SEAT_TAKING_STATES = frozenset({State.ACCEPTED, State.OFFERED, State.CONFIRMED})
WITHDRAWABLE_STATES = frozenset(
    {
        State.SUBMITTED,
        State.UNDER_REVIEW,
        State.ACCEPTED,
        State.WAITLISTED,
        State.OFFERED,
    }
)

SYSTEM = "system"

# (from, to) -> the roles that may make the move. "system" is the portal acting on its own.
TRANSITIONS: dict[tuple[State, State], frozenset[str]] = {}


def _allow(sources: tuple[State, ...], targets: tuple[State, ...], *roles: str) -> None:
    for source in sources:
        for target in targets:
            TRANSITIONS[(source, target)] = TRANSITIONS.get(
                (source, target), frozenset()
            ) | frozenset(roles)


_allow((State.DRAFT,), (State.SUBMITTED,), "student")
_allow((State.SUBMITTED,), (State.UNDER_REVIEW,), "coordinator", "reviewer")
_allow(
    (State.SUBMITTED, State.UNDER_REVIEW),
    (State.ACCEPTED, State.WAITLISTED, State.REJECTED),
    "coordinator",
)
_allow((State.WAITLISTED,), (State.ACCEPTED, State.REJECTED), "coordinator", SYSTEM)
_allow((State.ACCEPTED,), (State.OFFERED,), "coordinator", "admin", SYSTEM)
_allow((State.OFFERED,), (State.CONFIRMED, State.DECLINED), "student")
_allow((State.OFFERED,), (State.EXPIRED,), SYSTEM)
# Revoking the standing letter of an unanswered offer puts the applicant back to "accepted"
# (the seat stays theirs) until a new letter is issued.
_allow((State.OFFERED,), (State.ACCEPTED,), "coordinator", "admin")
_allow((State.REJECTED,), (State.UNDER_REVIEW,), "coordinator")
# The receiving university rejected the student's nomination: the seat frees, the offer ends.
_allow((State.CONFIRMED,), (State.CANCELLED,), SYSTEM)
_allow(tuple(WITHDRAWABLE_STATES), (State.WITHDRAWN,), "student")
# A draft was never submitted: there is nothing to cancel, the student simply leaves it.
CANCELLABLE_STATES = tuple(s for s in State if s not in FINAL_STATES and s != State.DRAFT)
_allow(CANCELLABLE_STATES, (State.CANCELLED,), "admin")

# Moves that must say why.
REASON_REQUIRED = frozenset(
    {(State.REJECTED, State.UNDER_REVIEW), (State.OFFERED, State.ACCEPTED)}
    | {(s, State.CANCELLED) for s in CANCELLABLE_STATES}
)
# Of those, the moves whose reason the student must read (a message, not only a staff note):
# an application ended by someone else is never ended without saying why.
MESSAGE_REQUIRED = frozenset({(s, State.CANCELLED) for s in CANCELLABLE_STATES})


def reason_missing(source: State, to: State, reason: str | None, note: str | None) -> bool:
    """Tell whether a move lacks the reason the table asks for (a message, or either text)."""
    if (source, to) not in REASON_REQUIRED or (reason or "").strip():
        return False
    return (source, to) in MESSAGE_REQUIRED or not (note or "").strip()

signals = Namespace()
state_changed = signals.signal("application-state-changed")


class TransitionError(Exception):
    """A move the table does not allow, or one made without its reason."""


@dataclass(frozen=True)
class Actor:
    """Who makes a move: a user acting in a role, or the system."""

    role: str
    user: User | None = None

    @classmethod
    def system(cls) -> Actor:
        """Return the portal itself as the actor."""
        return cls(role=SYSTEM)


def can_move(source: str, target: str, role: str) -> bool:
    """Tell whether the table lets the role move an application from source to target."""
    try:
        return role in TRANSITIONS.get((State(source), State(target)), frozenset())
    except ValueError:
        return False


def transition(
    application: Application,
    to: State,
    *,
    actor: Actor,
    reason: str | None = None,
    note: str | None = None,
) -> ApplicationEvent:
    """Move the application to a new state, write its event and announce it.

    The one way a state changes: looks the move up in TRANSITIONS, checks the actor's role,
    requires a reason where the table says so, records an ApplicationEvent (the audit trail and
    the student's timeline) and sends the state_changed signal, which queues e-mail. The reason
    is written to the student; the note is for staff only (a required reason may be either,
    except where MESSAGE_REQUIRED says the student must read it).
    """
    from portal.applications.models import ApplicationEvent
    from portal.db import utcnow
    from portal.extensions import db

    source = State(application.state)
    if not can_move(source, to, actor.role):
        raise TransitionError(f"{actor.role} may not move an application from {source} to {to}")
    if reason_missing(source, to, reason, note):
        raise TransitionError(f"moving from {source} to {to} needs a reason")
    now = utcnow()
    application.state = to
    if to == State.SUBMITTED:
        application.submitted_at = now
    event = ApplicationEvent(
        application=application,
        actor=actor.user,
        actor_role=actor.role,
        from_state=source,
        to_state=to,
        reason=reason,
        note=note,
        created_at=now,
    )
    db.session.add(event)
    state_changed.send(application, event=event)
    return event
