"""Seat decisions: accept, waitlist, reject, one or many, never beyond the seats and quotas.

Every seat decision first bumps the programme's decision counter. That write makes concurrent
decisions on one programme wait for each other (a row lock on PostgreSQL, the database write
lock on SQLite), so the seats counted next are the seats that exist when this transaction
commits: two coordinators accepting the last seat at once give one acceptance and one refusal.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from portal.applications.models import Application
from portal.applications.states import (
    MESSAGE_REQUIRED,
    SEAT_TAKING_STATES,
    STATE_LABELS,
    Actor,
    State,
    TransitionError,
    can_move,
    reason_missing,
    transition,
)
from portal.auth.models import User
from portal.extensions import db
from portal.profiles.models import StudentProfile
from portal.programs.models import Program, ProgramEvent


class DecisionError(Exception):
    """A decision that cannot be made, with a message for the coordinator."""


class PlanChanged(DecisionError):
    """What a decision would do is no longer what its preview showed; ``steps`` is the new plan."""

    def __init__(self, message: str, steps: list[Step]) -> None:
        super().__init__(message)
        self.steps = steps


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

    def claim(self, home: int | None) -> tuple[int, int | None]:
        """Take a seat; return its number and, for a partner's reserved seat, its number there."""
        reserved = home in self.quotas and self.taken_by_home[home] < self.quotas[home]
        self.take(home)
        return self.taken, (self.taken_by_home[home] if reserved else None)

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


@dataclass
class Step:
    """What a decision does to one application: the move and the seat it takes, or why not."""

    application: Application
    target: State
    changes: bool
    why: str = ""  # why the application stays as it is
    seat: int | None = None  # the seat it takes, counted over the programme's seats
    seats_total: int = 0
    home: int | None = None  # the student's home institution
    reserved_seat: int | None = None  # the seat it takes among those reserved for the home
    reserved_total: int = 0

    @property
    def source(self) -> str:
        """Return the state the application is in before the decision."""
        return self.application.state


def step_for(application: Application, to: State, role: str, seats: Seats | None) -> Step:
    """Work out what moving one application to a state does: the one rule for every decision.

    An acceptance takes the next seat the applicant fits in (their partner's reserved seats
    first, then the general ones) from ``seats``; without a seat, nothing changes.
    """
    if not is_decision(application.state, to, role):
        source = STATE_LABELS.get(State(application.state), application.state)
        return Step(
            application,
            to,
            changes=False,
            why=_(
                "This application cannot go from “%(source)s” to “%(target)s”.",
                source=source,
                target=STATE_LABELS[to],
            ),
        )
    if to != State.ACCEPTED:
        return Step(application, to, changes=True)
    if seats is None:
        seats = count_seats(application.program)
    home = _home_of(application)
    if not seats.fits(home):
        return Step(
            application,
            to,
            changes=False,
            why=_("No seat is left on this programme for this applicant."),
            seats_total=seats.total,
            home=home,
        )
    seat, reserved = seats.claim(home)
    return Step(
        application,
        to,
        changes=True,
        seat=seat,
        seats_total=seats.total,
        home=home,
        reserved_seat=reserved,
        reserved_total=seats.quotas.get(home, 0) if home is not None else 0,
    )


def plan(
    applications: Iterable[Application], to: State, *, role: str, lock: bool = False
) -> list[Step]:
    """Say what one decision does to each application, in order, seat by seat.

    The preview shows this plan and applying carries it out, so both come from here. With
    ``lock`` the seats are counted behind other decisions on the programme (for applying).
    """
    seats_by_program: dict[int, Seats] = {}
    steps = []
    for application in applications:
        seats = None
        if to == State.ACCEPTED:
            if application.program_id not in seats_by_program:
                count = lock_seats if lock else count_seats
                seats_by_program[application.program_id] = count(application.program)
            seats = seats_by_program[application.program_id]
        steps.append(step_for(application, to, role, seats))
    return steps


def fingerprint(steps: Iterable[Step]) -> str:
    """Sum up a plan, so that applying can tell it is still the plan the preview showed."""
    text = ";".join(
        f"{s.application.id}.{s.application.version}.{s.source}>{s.target}:{int(s.changes)}"
        f":{s.seat}/{s.seats_total}:{s.home}:{s.reserved_seat}"
        for s in steps
    )
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def changed_since_preview() -> str:
    """Say that a preview no longer holds, in the user's language."""
    return _(
        "Something changed since the preview (a seat, a state or an application). "
        "Nothing was saved: check the new preview below and apply it again."
    )


def _check_reason(steps: Iterable[Step], reason: str | None, note: str | None) -> None:
    """Refuse the whole plan up front when one of its moves must say why and nothing does."""
    missing = [
        (State(s.source), s.target)
        for s in steps
        if s.changes and reason_missing(State(s.source), s.target, reason, note)
    ]
    if any(move in MESSAGE_REQUIRED for move in missing):
        raise DecisionError(_("This decision needs a message to the student saying why."))
    if missing:
        raise DecisionError(_("A reason is required for this decision."))


def decide(
    application: Application,
    to: State,
    *,
    actor: User | None,
    reason: str | None = None,
    note: str | None = None,
    seats: Seats | None = None,
) -> Step:
    """Move one application to accepted, waitlisted or rejected (or back to review).

    ``reason`` is written to the student; ``note`` is for staff only.
    """
    who = _actor(actor)
    if to == State.ACCEPTED and seats is None and is_decision(application.state, to, who.role):
        seats = lock_seats(application.program)
    step = step_for(application, to, who.role, seats)
    if not step.changes:
        raise DecisionError(step.why)
    _check_reason([step], reason, note)
    try:
        transition(application, to, actor=who, reason=reason, note=note)
    except TransitionError as exc:
        raise DecisionError(_("A reason is required for this decision.")) from exc
    return step


def apply_plan(
    applications: list[Application],
    to: State,
    *,
    actor: User,
    expected: str,
    reason: str | None = None,
    note: str | None = None,
) -> list[Step]:
    """Carry out the plan a preview showed, all of it, or nothing if it is no longer the same.

    Raises PlanChanged (with the plan as it is now in ``steps``) when a seat, a state or an
    application changed since the preview.
    """
    who = _actor(actor)
    steps = plan(applications, to, role=who.role, lock=True)
    if fingerprint(steps) != expected:
        raise PlanChanged(changed_since_preview(), steps)
    _check_reason(steps, reason, note)
    for step in steps:
        if step.changes:
            transition(step.application, to, actor=who, reason=reason, note=note)
    return steps


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
    steps: list[Step] = field(default_factory=list)  # the accepted and waitlisted, in order


def plan_best(
    program: Program, accept: int, waitlist: int, *, role: str, seats: Seats | None = None
) -> BestPlan:
    """Pick the best N that fit the seats and quotas, and the next M for the waitlist."""
    seats = seats or count_seats(program)
    plan = BestPlan([], [], [])
    for application in ranked(program, (State.SUBMITTED, State.UNDER_REVIEW)):
        if len(plan.accept) < accept:
            step = step_for(application, State.ACCEPTED, role, seats)
            if step.changes:
                plan.accept.append(application)
                plan.steps.append(step)
                continue
        if len(plan.waitlist) < waitlist:
            step = step_for(application, State.WAITLISTED, role, seats)
            if step.changes:
                plan.waitlist.append(application)
                plan.steps.append(step)
                continue
        plan.skipped.append(application)
    return plan


def accept_best(
    program: Program, accept: int, waitlist: int, *, actor: User, expected: str
) -> BestPlan:
    """Carry out the "best N, next M" plan the preview showed, atomically, or nothing."""
    who = _actor(actor)
    plan = plan_best(program, accept, waitlist, role=who.role, seats=lock_seats(program))
    if fingerprint(plan.steps) != expected:
        raise PlanChanged(changed_since_preview(), plan.steps)
    for step in plan.steps:
        transition(step.application, step.target, actor=who)
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
