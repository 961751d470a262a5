"""API tokens: shown once, stored as a hash, scoped to one institution, revocable, expiring."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.institutions.models import Institution

PREFIX = "kop_"

# How long a new token may live, in days; the partner picks one. There is no "never": a token
# outlives the person and the system it was made for, and a leaked one would work for good.
LIFETIME_DAYS = (30, 90, 180, 365)
DEFAULT_LIFETIME_DAYS = 90
# From when a token's end is announced: on the tokens page, on the nominations pages.
EXPIRY_WARNING = timedelta(days=14)


def hash_token(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """A partner system's key to the API, for one institution."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institutions.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The first characters, so people can tell their tokens apart; not enough to use one.
    hint: so.Mapped[str] = so.mapped_column(sa.String(12))
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    last_used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]

    institution: so.Mapped[Institution] = so.relationship()

    @classmethod
    def issue(
        cls,
        institution_id: int,
        name: str,
        created_by_id: int | None,
        lifetime_days: int = DEFAULT_LIFETIME_DAYS,
    ) -> tuple[ApiToken, str]:
        """Make a token; return the row and the token itself, which is never stored."""
        if lifetime_days not in LIFETIME_DAYS:
            raise ValueError(f"lifetime_days must be one of {LIFETIME_DAYS}")
        token = PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        row = cls(
            institution_id=institution_id,
            name=name,
            token_hash=hash_token(token),
            hint=token[: len(PREFIX) + 4],
            created_by_id=created_by_id,
            created_at=now,
            expires_at=now + timedelta(days=lifetime_days),
        )
        db.session.add(row)
        return row, token

    @property
    def revoked(self) -> bool:
        """Tell whether someone revoked the token."""
        return self.revoked_at is not None

    @property
    def expired(self) -> bool:
        """Tell whether the token's time is up."""
        return self.expires_at <= utcnow()

    @property
    def active(self) -> bool:
        """Tell whether the token still works."""
        return not self.revoked and not self.expired

    @property
    def ends_soon(self) -> bool:
        """Tell whether the token still works but stops within the warning period."""
        return self.active and self.expires_at - utcnow() <= EXPIRY_WARNING

    @property
    def days_left(self) -> int:
        """Return the whole days left before the token stops (0 on its last day)."""
        return max(0, (self.expires_at - utcnow()).days)
