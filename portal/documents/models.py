"""Uploaded files: a row here, the bytes in storage under a generated key."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import utcnow
from portal.extensions import db

if TYPE_CHECKING:
    from portal.applications.models import Application


# The only types an upload can have, and the extension each is saved and sent with.
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class Document(db.Model):
    """A file a student attached to an application."""

    __tablename__ = "documents"
    __table_args__ = (
        sa.CheckConstraint(
            "media_type IN ('application/pdf', 'image/jpeg', 'image/png')", name="media_type"
        ),
        sa.CheckConstraint("size > 0", name="size_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    original_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    media_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    uploaded_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    superseded_at: so.Mapped[datetime | None]

    application: so.Mapped[Application] = so.relationship(back_populates="documents")

    @property
    def extension(self) -> str:
        """Return the file extension of the sniffed media type (never the uploaded name's)."""
        return EXTENSIONS[self.media_type]
