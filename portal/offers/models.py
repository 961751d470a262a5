"""Offer letters, one row per issued version, and the programme's letter texts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.applications.models import Application
    from portal.auth.models import User
    from portal.programs.models import Program


class OfferStatus(StrEnum):
    """Whether a letter still stands."""

    VALID = "valid"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class Response(StrEnum):
    """What became of the offer a letter makes."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"


STATUS_LABELS = {
    OfferStatus.VALID: _l("Valid"),
    OfferStatus.SUPERSEDED: _l("Superseded by a later version"),
    OfferStatus.REVOKED: _l("Revoked"),
}

RESPONSE_LABELS = {
    Response.CONFIRMED: _l("Accepted by the student"),
    Response.DECLINED: _l("Declined by the student"),
    Response.EXPIRED: _l("Expired without an answer"),
}


class Offer(db.Model):
    """One issued version of an application's offer letter; its PDF is never changed."""

    __tablename__ = "offers"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "version"),
        sa.CheckConstraint(
            "status IN ('valid', 'superseded', 'revoked')", name="offer_status"
        ),
        sa.CheckConstraint(
            "response IS NULL OR response IN ('confirmed', 'declined', 'expired')",
            name="offer_response",
        ),
        # At most one standing letter per application, whatever races.
        sa.Index(
            "uq_offers_one_valid_per_application",
            "application_id",
            unique=True,
            sqlite_where=sa.text("status = 'valid'"),
            postgresql_where=sa.text("status = 'valid'"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    version: so.Mapped[int]
    reference: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(5))
    bilingual: so.Mapped[bool] = so.mapped_column(default=False)
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(80))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    # Only a hash of the verification code is kept, like any other token.
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    response_deadline: so.Mapped[datetime]
    # What the letter prints, so the verification page shows that and nothing more.
    printed: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=OfferStatus.VALID)
    issued_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    issued_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    superseded_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    revoke_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    response: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    responded_at: so.Mapped[datetime | None]

    application: so.Mapped[Application] = so.relationship()
    issued_by: so.Mapped[User | None] = so.relationship(foreign_keys=[issued_by_id])
    revoked_by: so.Mapped[User | None] = so.relationship(foreign_keys=[revoked_by_id])

    @property
    def is_valid(self) -> bool:
        """Tell whether this is the standing version of the letter."""
        return self.status == OfferStatus.VALID

    def open_for_answer(self, now: datetime | None = None) -> bool:
        """Tell whether the student can still accept or decline this letter's offer."""
        return (
            self.is_valid
            and self.response is None
            and (now or utcnow()) < self.response_deadline
        )


class LetterTemplate(db.Model):
    """A programme's own words for its offer letter in one language."""

    __tablename__ = "letter_templates"
    __table_args__ = (sa.UniqueConstraint("program_id", "locale"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    program_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programs.id", ondelete="CASCADE"), index=True
    )
    locale: so.Mapped[str] = so.mapped_column(sa.String(5))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    conditions: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    signatory_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    signatory_title: so.Mapped[str] = so.mapped_column(sa.String(160), default="")
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

    program: so.Mapped[Program] = so.relationship()
