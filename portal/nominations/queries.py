"""Which nominations a user may see, filtered as the partner portal asks."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.auth.models import Role, User
from portal.nominations.models import Nomination


@dataclass(frozen=True)
class Filters:
    """The partner list's filters; empty means all."""

    program_id: int | None = None
    academic_year: str | None = None
    status: str | None = None
    answer: str | None = None
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
    return query.order_by(Nomination.modified_at.desc(), Nomination.id.desc())
