"""API tokens: shown once, stored as a hash, scoped to one institution, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.institutions.models import Institution

PREFIX = "kop_"


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
    last_used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]

    institution: so.Mapped[Institution] = so.relationship()

    @classmethod
    def issue(
        cls, institution_id: int, name: str, created_by_id: int | None
    ) -> tuple[ApiToken, str]:
        """Make a token; return the row and the token itself, which is never stored."""
        token = PREFIX + secrets.token_urlsafe(32)
        row = cls(
            institution_id=institution_id,
            name=name,
            token_hash=hash_token(token),
            hint=token[: len(PREFIX) + 4],
            created_by_id=created_by_id,
        )
        db.session.add(row)
        return row, token

    @property
    def active(self) -> bool:
        """Tell whether the token still works."""
        return self.revoked_at is None
