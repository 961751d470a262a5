"""Universities, identified by their SCHAC code."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import TimestampMixin
from portal.extensions import db
from portal.i18n import pick


class Institution(TimestampMixin, db.Model):
    """A higher education institution."""

    __tablename__ = "institutions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    schac: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    names: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)
    country: so.Mapped[str] = so.mapped_column(sa.String(2), index=True)
    city: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64))
    website: so.Mapped[str | None] = so.mapped_column(sa.String(255))

    def name(self, locale: str | None = None) -> str:
        """Return the name in the locale, falling back to English."""
        return pick(self.names, locale)

    def city_name(self, locale: str | None = None) -> str:
        """Return the city in the locale, falling back to English."""
        return pick(self.city, locale)
