"""Read-only queries over the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.programs.models import Program
from portal.readcache import ReadCache


@dataclass
class CatalogueFilters:
    """What the visitor narrowed the catalogue to."""

    q: str = ""
    kind: str = ""
    country: str = ""
    language: str = ""
    field: str = ""
    open_now: bool = False


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def catalogue_query(filters: CatalogueFilters) -> sa.Select[tuple[Program]]:
    """Build the catalogue's select for the filters, soonest deadline first."""
    query = (
        sa.select(Program)
        .join(Program.host)
        .where(Program.published.is_(True))
        .options(so.contains_eager(Program.host))
    )
    if filters.kind:
        query = query.where(Program.kind == filters.kind)
    if filters.country:
        query = query.where(Institution.country == filters.country)
    if filters.language:
        query = query.where(Program.language == filters.language)
    if filters.field:
        # A broad field (2 digits) matches every narrow field under it.
        query = query.where(Program.isced_code.startswith(filters.field, autoescape=True))
    if filters.open_now:
        now = utcnow()
        query = query.where(Program.opens_at <= now, Program.closes_at > now)
    for word in filters.q.casefold().split()[:8]:
        query = query.where(Program.search_text.like(f"%{_escape_like(word)}%", escape="\\"))
    now = utcnow()
    # Open programmes first, then upcoming, then closed; within each the nearest deadline.
    order = sa.case(
        (sa.and_(Program.opens_at <= now, Program.closes_at > now), 0),
        (Program.opens_at > now, 1),
        else_=2,
    )
    return query.order_by(order, Program.closes_at, Program.id)


def open_programs(limit: int = 6) -> list[Program]:
    """Return programmes open for applications now, nearest deadline first."""
    return list(db.session.scalars(catalogue_query(CatalogueFilters(open_now=True)).limit(limit)))


def program_by_slug(slug: str) -> Program | None:
    """Return the published programme with this slug, with its host (every page names it)."""
    return db.session.scalar(
        sa.select(Program)
        .where(Program.slug == slug, Program.published.is_(True))
        .options(so.joinedload(Program.host))
    )


# The catalogue's filter choices: the same for every visitor, changed only when staff publish
# or edit a programme or an institution. A change shows at once in the worker that made it and
# within a minute in the others.
FACETS = ReadCache("catalogue facets", ttl=60.0, watched=(Program, Institution))


def host_countries() -> list[str]:
    """Return the countries that host at least one published programme."""
    return list(
        FACETS.get(
            "countries",
            lambda: tuple(
                db.session.scalars(
                    sa.select(Institution.country)
                    .join(Program, Program.host_institution_id == Institution.id)
                    .where(Program.published.is_(True))
                    .distinct()
                    .order_by(Institution.country)
                )
            ),
        )
    )


def program_languages() -> list[str]:
    """Return the languages of instruction used by published programmes."""
    return list(
        FACETS.get(
            "languages",
            lambda: tuple(
                db.session.scalars(
                    sa.select(Program.language).where(Program.published.is_(True)).distinct()
                )
            ),
        )
    )
