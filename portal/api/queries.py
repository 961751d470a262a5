"""Read-only look-ups of API tokens."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from portal.api.models import EXPIRY_WARNING, ApiToken
from portal.db import utcnow
from portal.extensions import db


def tokens_of(institution_id: int) -> Sequence[ApiToken]:
    """Return an institution's tokens: working ones first, then the newest."""
    now = utcnow()
    working = sa.and_(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
    return db.session.scalars(
        sa.select(ApiToken)
        .where(ApiToken.institution_id == institution_id)
        .order_by(sa.case((working, 0), else_=1), ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


def ending_soon(institution_id: int) -> Sequence[ApiToken]:
    """Return an institution's working tokens that stop within the warning period, soonest first."""
    now = utcnow()
    return db.session.scalars(
        sa.select(ApiToken)
        .where(
            ApiToken.institution_id == institution_id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
            ApiToken.expires_at <= now + EXPIRY_WARNING,
        )
        .order_by(ApiToken.expires_at)
    ).all()
