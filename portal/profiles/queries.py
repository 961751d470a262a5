"""Read-only questions about profiles: who else holds the same national identifier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.applications.models import Application
from portal.applications.states import State
from portal.extensions import db
from portal.identity import national_id_key
from portal.profiles.models import StudentProfile

if TYPE_CHECKING:
    from portal.auth.models import User


def load_profile(user: User) -> StudentProfile | None:
    """Read the student's profile with its languages and home university in one round trip.

    The profile is kept on the user, so `user.profile` asks no more; the eligibility checks and
    the readiness of an application read all three (three round trips when loaded lazily).
    """
    if "profile" not in sa.inspect(user).unloaded:
        return user.profile
    profile = (
        db.session.scalars(
            sa.select(StudentProfile)
            .where(StudentProfile.user_id == user.id)
            .options(
                so.joinedload(StudentProfile.languages),
                so.joinedload(StudentProfile.home_institution),
            )
        )
        .unique()
        .one_or_none()
    )
    so.attributes.set_committed_value(user, "profile", profile)
    return profile


def _has_applied(user_id: Any) -> sa.ColumnElement[bool]:
    """SQL: the account has an application past the draft (an applicant, not just a profile)."""
    return sa.exists(
        sa.select(Application.id).where(
            Application.student_id == user_id, Application.state != State.DRAFT.value
        )
    )


def national_id_key_sql(column: Any) -> sa.ColumnElement[str]:
    """SQL mirror of portal.identity.national_id_key: without spaces and hyphens, upper case."""
    return sa.func.upper(sa.func.replace(sa.func.replace(column, " ", ""), "-", ""))


def shares_national_id_clause() -> sa.ColumnElement[bool]:
    """SQL: another applicant's profile holds the same citizenship and national identifier.

    Correlated with StudentProfile of the enclosing query, for a marker on each row of a page
    without a query per row. Nothing is refused: one person with two accounts is for staff to
    notice, and a typo in someone else's number must not lock the rightful holder out. Only
    accounts that applied count: a profile that never applied is nobody's business but its own.
    """
    other = so.aliased(StudentProfile)
    key = national_id_key_sql(StudentProfile.national_id)
    return sa.exists(
        sa.select(other.user_id).where(
            other.user_id != StudentProfile.user_id,
            other.citizenship == StudentProfile.citizenship,
            national_id_key_sql(other.national_id) == key,
            key != "",
            _has_applied(other.user_id),
        )
    )


def profiles_sharing_national_id(profile: StudentProfile) -> list[StudentProfile]:
    """Return the other applicants' profiles with the same citizenship and national identifier."""
    key = national_id_key(profile.citizenship, profile.national_id)
    if not key:
        return []
    return list(
        db.session.scalars(
            sa.select(StudentProfile)
            .where(
                StudentProfile.user_id != profile.user_id,
                StudentProfile.citizenship == profile.citizenship,
                national_id_key_sql(StudentProfile.national_id) == key,
                _has_applied(StudentProfile.user_id),
            )
            .options(so.joinedload(StudentProfile.user))
            .order_by(StudentProfile.user_id)
        )
    )
