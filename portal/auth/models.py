"""Accounts and roles."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin

from portal.auth.passwords import hash_password, verify_password
from portal.db import TimestampMixin, utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.institutions.models import Institution
    from portal.profiles.models import StudentProfile


class Role(StrEnum):
    """What an account may do; see DESIGN.md, Who uses it."""

    STUDENT = "student"
    REVIEWER = "reviewer"
    COORDINATOR = "coordinator"
    PARTNER = "partner"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.STUDENT: _l("Student"),
    Role.REVIEWER: _l("Reviewer"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.PARTNER: _l("Partner"),
    Role.ADMIN: _l("Administrator"),
}

STAFF_ROLES = frozenset({Role.REVIEWER, Role.COORDINATOR, Role.PARTNER, Role.ADMIN})


def new_session_key() -> str:
    """Return a fresh random key that identifies a user's sessions."""
    return secrets.token_urlsafe(32)


class User(UserMixin, TimestampMixin, db.Model):
    """A person who logs in."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('student', 'reviewer', 'coordinator', 'partner', 'admin')", name="role"
        ),
        sa.CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.String(20), default=Role.STUDENT)
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    institution_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    verified_at: so.Mapped[datetime | None]
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Flask-Login stores this key, not the id: changing it ends every session of the user.
    session_key: so.Mapped[str] = so.mapped_column(
        sa.String(64), unique=True, default=new_session_key
    )
    last_login_at: so.Mapped[datetime | None]

    institution: so.Mapped[Institution | None] = so.relationship()
    profile: so.Mapped[StudentProfile | None] = so.relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan"
    )

    def set_password(self, password: str) -> None:
        """Hash and store a password, and end the user's other sessions."""
        self.password_hash = hash_password(password)
        self.session_key = new_session_key()

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        return verify_password(self.password_hash, password)

    def get_id(self) -> str:
        """Return the session key Flask-Login keeps in the session cookie."""
        return self.session_key

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Let only active accounts log in."""
        return self.active

    @property
    def is_verified(self) -> bool:
        """Tell whether the e-mail address was confirmed."""
        return self.verified_at is not None

    def mark_login(self) -> None:
        """Record a successful login."""
        self.last_login_at = utcnow()
