"""Seat decisions: accept, waitlist, reject, one or many, never beyond the seats and quotas.

Every seat decision first bumps the programme's decision counter. That write makes concurrent
decisions on one programme wait for each other (a row lock on PostgreSQL, the database write
lock on SQLite), so the seats counted next are the seats that exist when this transaction
commits: two coordinators accepting the last seat at once give one acceptance and one refusal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from portal.applications.models import Application
from portal.applications.states import (
    SEAT_TAKING_STATES,
    Actor,
    State,
    TransitionError,
    can_move,
    transition,
)
from portal.auth.models import User
from portal.extensions import db
from portal.profiles.models import StudentProfile
from portal.programs.models import Program, ProgramEvent


class DecisionError(Exception):
    """A decision that cannot be made, with a message for the coordinator."""


@dataclass
class Seats:
    """How a programme's seats are used: the general pool and each partner's quota."""

    total: int
    quotas: dict[int, int] = field(default_factory=dict)
    taken_by_home: Counter[int | None] = field(default_factory=Counter)

    @property
    def general_pool(self) -> int:
        """Return the seats not reserved for any partner."""
        return self.total - sum(self.quotas.values())

    @property
    def general_used(self) -> int:
        """Return the general seats in use: everyone beyond their own quota."""
        return sum(
            max(0, count - self.quotas.get(home, 0)) if home in self.quotas else count
            for home, count in self.taken_by_home.items()
        )

    @property
    def taken(self) -> int:
        """Return the number of seats in use."""
        return sum(self.taken_by_home.values())

    @property
    def left(self) -> int:
        """Return the seats still free for someone (quota seats only for their partner)."""
        return max(0, self.total - self.taken)

    def fits(self, home: int | None) -> bool:
        """Tell whether a student of this home institution can still get a seat."""
        if home in self.quotas and self.taken_by_home[home] < self.quotas[home]:
            return True
        return self.general_used < self.general_pool

    def take(self, home: int | None) -> None:
        """Count one more seat for a student of this home institution."""
        self.taken_by_home[home] += 1

    def quota_left(self, home: int) -> int:
        """Return the reserved seats still free for a partner."""
        return max(0, self.quotas.get(home, 0) - self.taken_by_home[home])


def _home_of(application: Application) -> int | None:
    profile = application.student.profile
    return profile.home_institution_id if profile else None


def count_seats(program: Program) -> Seats:
    """Count the seats in use now, by the home institution of their holders."""
    rows = db.session.execute(
        sa.select(StudentProfile.home_institution_id, sa.func.count())
        .select_from(Application)
        .outerjoin(StudentProfile, StudentProfile.user_id == Application.student_id)
        .where(
            Application.program_id == program.id,
            Application.state.in_([s.value for s in SEAT_TAKING_STATES]),
        )
        .group_by(StudentProfile.home_institution_id)
    ).all()
    return Seats(
        total=program.seats,
        quotas={q.institution_id: q.seats for q in program.quotas},
        taken_by_home=Counter({home: count for home, count in rows}),
    )


def lock_seats(program: Program) -> Seats:
    """Queue behind other seat decisions on the programme, then count its seats."""
    db.session.execute(
        sa.update(Program)
        .where(Program.id == program.id)
        .values(decision_seq=Program.decision_seq + 1)
        .execution_options(synchronize_session=False)
    )
    return count_seats(program)


def _actor(user: User | None) -> Actor:
    return Actor(role=user.role, user=user) if user is not None else Actor.system()


def is_decision(source: str, target: State, role: str) -> bool:
    """Tell whether a move is one the decision forms may make for this role.

    offered -> accepted is in the state table, but it is the revocation of a letter
    (portal.offers), not a seat decision.
    """
    if source == State.OFFERED and target != State.CANCELLED:
        return False
    return can_move(source, target, role)


def decide(
    application: Application,
    to: State,
    *,
    actor: User | None,
    reason: str | None = None,
    seats: Seats | None = None,
) -> None:
    """Move one application to accepted, waitlisted or rejected (or back to review)."""
    who = _actor(actor)
    if not is_decision(application.state, to, who.role):
        raise DecisionError(
            _(
                "This application cannot go from “%(source)s” to “%(target)s”.",
                source=application.state,
                target=to.value,
            )
        )
    if to == State.ACCEPTED:
        seats = seats if seats is not None else lock_seats(application.program)
        home = _home_of(application)
        if not seats.fits(home):
            raise DecisionError(_("No seat is left on this programme for this applicant."))
        seats.take(home)
    try:
        transition(application, to, actor=who, reason=reason)
    except TransitionError as exc:
        raise DecisionError(_("A reason is required for this decision.")) from exc


def decide_many(
    applications: list[Application], to: State, *, actor: User, reason: str | None = None
) -> list[tuple[Application, str]]:
    """Apply one decision to several applications; return those refused with why."""
    refused: list[tuple[Application, str]] = []
    seats_by_program: dict[int, Seats] = {}
    for application in applications:
        seats = None
        if to == State.ACCEPTED:
            if application.program_id not in seats_by_program:
                seats_by_program[application.program_id] = lock_seats(application.program)
            seats = seats_by_program[application.program_id]
        try:
            decide(application, to, actor=actor, reason=reason, seats=seats)
        except DecisionError as exc:
            refused.append((application, str(exc)))
    return refused


def ranked(program: Program, states: tuple[State, ...]) -> list[Application]:
    """Return the programme's applications in the states, best score first, then earliest."""
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(
                Application.program_id == program.id,
                Application.state.in_([s.value for s in states]),
            )
            .options(so.joinedload(Application.student).joinedload(User.profile))
            .order_by(
                Application.score.desc().nulls_last(),
                Application.submitted_at,
                Application.id,
            )
        ).unique()
    )


@dataclass
class BestPlan:
    """What "accept the best N, waitlist the next M" would do."""

    accept: list[Application]
    waitlist: list[Application]
    skipped: list[Application]


def plan_best(program: Program, accept: int, waitlist: int, seats: Seats | None = None) -> BestPlan:
    """Pick the best N that fit the seats and quotas, and the next M for the waitlist."""
    seats = seats or count_seats(program)
    plan = BestPlan([], [], [])
    for application in ranked(program, (State.SUBMITTED, State.UNDER_REVIEW)):
        home = _home_of(application)
        if len(plan.accept) < accept and seats.fits(home):
            seats.take(home)
            plan.accept.append(application)
        elif len(plan.waitlist) < waitlist:
            plan.waitlist.append(application)
        else:
            plan.skipped.append(application)
    return plan


def accept_best(program: Program, accept: int, waitlist: int, *, actor: User) -> BestPlan:
    """Accept the best N within seats and quotas and waitlist the next M, atomically."""
    seats = lock_seats(program)
    plan = plan_best(program, accept, waitlist, seats=count_seats(program))
    for application in plan.accept:
        decide(application, State.ACCEPTED, actor=actor, seats=seats)
    for application in plan.waitlist:
        decide(application, State.WAITLISTED, actor=actor)
    return plan


def promote_waitlisted(program: Program) -> Application | None:
    """Give a freed seat to the best waitlisted applicant who fits, or propose it.

    With promotion_mode "automatic" the portal accepts them itself (the student is told by
    e-mail through the state change); with "confirm" it records a proposal that coordinators
    see on the programme's log and queue, and changes nothing.
    """
    seats = lock_seats(program)
    for candidate in ranked(program, (State.WAITLISTED,)):
        if not seats.fits(_home_of(candidate)):
            continue
        if program.promotion_mode == "automatic":
            decide(candidate, State.ACCEPTED, actor=None, seats=seats)
        else:
            db.session.add(
                ProgramEvent(
                    program_id=program.id,
                    action="promotion_proposed",
                    details={"application_id": candidate.id},
                )
            )
        return candidate
    return None


def pending_proposals(program: Program) -> list[Application]:
    """Return the waitlisted applicants the portal proposed for a freed seat, still waiting."""
    proposed = db.session.scalars(
        sa.select(ProgramEvent.details).where(
            ProgramEvent.program_id == program.id, ProgramEvent.action == "promotion_proposed"
        )
    ).all()
    ids = {d.get("application_id") for d in proposed if isinstance(d, dict)}
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Application)
            .where(Application.id.in_(ids), Application.state == State.WAITLISTED.value)
            .order_by(Application.score.desc().nulls_last(), Application.id)
        )
    )


FREEING_MOVES = frozenset(
    (source, target)
    for source in SEAT_TAKING_STATES
    for target in (State.WITHDRAWN, State.DECLINED, State.EXPIRED, State.CANCELLED, State.REJECTED)
)


def on_state_changed(application: Application, event: object, **_: object) -> None:
    """Promote from the waitlist when a move frees a seat."""
    source, target = State(event.from_state), State(event.to_state)  # type: ignore[attr-defined]
    if (source, target) in FREEING_MOVES:
        promote_waitlisted(application.program)
