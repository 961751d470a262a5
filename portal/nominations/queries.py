"""Which nominations a user may see, filtered as the partner portal asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.auth.models import Role, User
from portal.db import utcnow
from portal.extensions import db
from portal.nominations.models import Answer, Nomination, NominationAnswerChange


class Direction(StrEnum):
    """Which way a nomination goes, seen from the partner's university."""

    RECEIVED = "received"
    SENT = "sent"


# A partner's answer stays news on the staff home for this long; its link filters by it.
RECENT_ANSWER_DAYS = 14
# The choices of "answered within", which must offer the home's period.
ANSWERED_WITHIN_DAYS = (7, RECENT_ANSWER_DAYS, 30)


@dataclass(frozen=True)
class Filters:
    """The partner list's filters; empty means all."""

    program_id: int | None = None
    academic_year: str | None = None
    status: str | None = None
    answer: str | None = None
    # A partner's side of the nomination: "received" (to answer) or "sent"; None is both.
    direction: str | None = None
    # Answered (verified or rejected) within this many days.
    answered_within: int | None = None
    nothing: bool = False


def visible(user: User) -> sa.Select[tuple[Nomination]]:
    """Return a select of the nominations the user may see (none for most roles)."""
    from portal.access import managed_program_ids

    query = sa.select(Nomination)
    if user.role == Role.PARTNER and user.institution_id is not None:
        return query.where(
            sa.or_(
                Nomination.sending_hei_id == user.institution_id,
                Nomination.receiving_hei_id == user.institution_id,
            )
        )
    if user.role in (Role.COORDINATOR, Role.ADMIN):
        managed = managed_program_ids(user)
        return query if managed is None else query.where(Nomination.program_id.in_(managed))
    return query.where(sa.false())


def filtered(user: User, filters: Filters) -> sa.Select[tuple[Nomination]]:
    """Return the user's nominations narrowed by the filters, with what lists show loaded."""
    query = visible(user).options(
        so.joinedload(Nomination.program),
        so.joinedload(Nomination.sending_hei),
        so.joinedload(Nomination.receiving_hei),
    )
    if filters.nothing:
        query = query.where(sa.false())
    if filters.program_id:
        query = query.where(Nomination.program_id == filters.program_id)
    if filters.academic_year:
        query = query.where(Nomination.academic_year == filters.academic_year)
    if filters.status:
        query = query.where(Nomination.status == filters.status)
    if filters.answer:
        query = query.where(Nomination.answer == filters.answer)
    if filters.direction and user.role == Role.PARTNER:
        side = (
            Nomination.receiving_hei_id
            if filters.direction == Direction.RECEIVED
            else Nomination.sending_hei_id
        )
        query = query.where(side == user.institution_id)
    if filters.answered_within:
        since = utcnow() - timedelta(days=filters.answered_within)
        query = query.where(Nomination.answer != Answer.PENDING, Nomination.answered_at >= since)
    return query.order_by(Nomination.modified_at.desc(), Nomination.id.desc())


def answer_history(nomination_id: int) -> list[NominationAnswerChange]:
    """Return every answer given to a nomination, oldest first, with who gave it."""
    return list(
        db.session.scalars(
            sa.select(NominationAnswerChange)
            .where(NominationAnswerChange.nomination_id == nomination_id)
            .options(
                so.joinedload(NominationAnswerChange.changed_by),
                so.joinedload(NominationAnswerChange.api_token),
            )
            .order_by(NominationAnswerChange.created_at, NominationAnswerChange.id)
        )
    )


def changed_answers(nomination_ids: list[int]) -> set[int]:
    """Return which of the nominations had an answer changed after it was given."""
    if not nomination_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(NominationAnswerChange.nomination_id)
            .where(
                NominationAnswerChange.nomination_id.in_(nomination_ids),
                NominationAnswerChange.from_answer != Answer.PENDING.value,
            )
            .distinct()
        )
    )
