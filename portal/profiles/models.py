"""The student's profile: identity, contact, studies and languages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import TimestampMixin
from portal.extensions import db
from portal.identity import chosen_name_alphabet, name_alphabet, unify_lookalikes

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.institutions.models import Institution


class StudentProfile(TimestampMixin, db.Model):
    """What a student tells about themselves once and reuses in every application."""

    __tablename__ = "student_profiles"
    __table_args__ = (
        sa.CheckConstraint("gender IN (0, 1, 2, 9)", name="gender_iso5218"),
        sa.CheckConstraint("study_level IN (6, 7, 8)", name="study_level_eqf"),
        sa.CheckConstraint("gpa_scale IN ('kz4', 'five', 'hundred')", name="gpa_scale"),
    )

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    native_given_names: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    native_family_name: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    # The alphabet the native name is written in, as the student chose it (a code of
    # portal.identity.NAME_ALPHABETS; EWP's xml:lang comes from it). Empty: as usual for the
    # citizenship, which native_name_alphabet works out when read.
    native_name_lang: so.Mapped[str | None] = so.mapped_column(sa.String(5))
    latin_given_names: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    latin_family_name: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    birth_date: so.Mapped[date | None]
    gender: so.Mapped[int | None]
    citizenship: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    national_id: so.Mapped[str | None] = so.mapped_column(sa.String(32), index=True)
    passport_number: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    home_institution_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("institutions.id", ondelete="RESTRICT"), index=True
    )
    home_institution_other: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    faculty: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    study_level: so.Mapped[int | None]
    isced_code: so.Mapped[str | None] = so.mapped_column(sa.String(4))
    year_of_study: so.Mapped[int | None]
    gpa: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(5, 2))
    gpa_scale: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    gpa_normalized: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(4, 1))
    # Not a column: filled by the queries that ask (the review queue marks one person with
    # two accounts), see portal.profiles.queries.shares_national_id_clause; None otherwise.
    shares_national_id: so.Mapped[bool | None] = so.query_expression()

    user: so.Mapped[User] = so.relationship(back_populates="profile")
    home_institution: so.Mapped[Institution | None] = so.relationship()
    languages: so.Mapped[list[LanguageSkill]] = so.relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        order_by="LanguageSkill.id",
    )

    @property
    def native_name(self) -> str:
        """Return the full name in native script, given names first."""
        return " ".join(p for p in (self.native_given_names, self.native_family_name) if p)

    @property
    def latin_name(self) -> str:
        """Return the full name as in the passport, given names first."""
        return " ".join(p for p in (self.latin_given_names, self.latin_family_name) if p)

    @property
    def chosen_name_alphabet(self) -> str | None:
        """Return the alphabet the student chose for the native name, None for "automatic"."""
        return chosen_name_alphabet(self.native_name_lang)

    @property
    def native_name_alphabet(self) -> str:
        """Return the alphabet of the native name: chosen, else the citizenship's usual one."""
        return name_alphabet(self.native_name_lang, self.citizenship, self.native_name)

    def home_institution_name(self, locale: str | None = None) -> str:
        """Return the home institution's name, chosen or typed (lookalike letters unified)."""
        if self.home_institution is not None:
            return self.home_institution.name(locale)
        # Typed before mixed words were refused, "KазНУ" with a Latin K would list apart.
        return unify_lookalikes(self.home_institution_other or "")

    def language_level(self, language: str) -> str | None:
        """Return the CEFR level (or "native") the student declared for a language."""
        for skill in self.languages:
            if skill.language == language:
                return skill.level
        return None

    def missing_fields(self) -> list[str]:
        """Return the names of the fields an application needs that are still empty."""
        required = (
            "native_given_names",
            "native_family_name",
            "latin_given_names",
            "latin_family_name",
            "birth_date",
            "gender",
            "citizenship",
            "national_id",
            "passport_number",
            "phone",
            "faculty",
            "study_level",
            "isced_code",
            "year_of_study",
            "gpa",
            "gpa_scale",
        )
        missing = [name for name in required if getattr(self, name) in (None, "")]
        if self.home_institution_id is None and not self.home_institution_other:
            missing.append("home_institution")
        return missing


class LanguageSkill(db.Model):
    """One language the student speaks, with its CEFR level or "native"."""

    __tablename__ = "language_skills"
    __table_args__ = (
        sa.UniqueConstraint("profile_id", "language"),
        sa.CheckConstraint(
            "level IN ('A1', 'A2', 'B1', 'B2', 'C1', 'C2', 'native')", name="level_cefr"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    profile_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("student_profiles.user_id", ondelete="CASCADE"), index=True
    )
    language: so.Mapped[str] = so.mapped_column(sa.String(3))
    level: so.Mapped[str] = so.mapped_column(sa.String(6))

    profile: so.Mapped[StudentProfile] = so.relationship(back_populates="languages")
