"""The coordinators' review queue: read-only filters, search, sorting and loading.

`queue_query()` builds one select over the submitted (never draft) applications of the
programmes in scope; `load_page()` fetches one page of it with everything the page shows in a
fixed number of queries, whatever the page size and the number of applications.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_sqlalchemy.pagination import Pagination

from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.nominations.models import Nomination
from portal.offers.models import Offer, OfferStatus
from portal.profiles.models import LanguageSkill, StudentProfile
from portal.profiles.queries import shares_national_id_clause
from portal.programs.eligibility import is_eligible
from portal.programs.models import Program
from portal.reference.levels import CEFR_LEVELS, NATIVE
from portal.reviews.models import Review

SORTS = ("score", "submitted", "submitted_desc", "name")
# States staff see: every state but draft (a draft is the student's own business).
STAFF_STATES = tuple(s for s in State if s != State.DRAFT)
MAX_SEARCH_WORDS = 8
# An offer whose answer is due within this many days is "due soon" on the staff home page;
# the queue filters by it and by a shorter span.
ANSWER_DUE_SOON_DAYS = 7
ANSWER_DUE_DAYS = (3, ANSWER_DUE_SOON_DAYS)


@dataclass
class QueueFilters:
    """What the coordinator narrowed the queue to; empty values filter nothing."""

    states: list[str] = field(default_factory=list)
    citizenship: str = ""
    home_institution_id: int | None = None
    eligible: str = ""  # "yes", "no" or "" (both)
    score_min: Decimal | None = None
    score_max: Decimal | None = None
    reviewer_id: int | None = None
    answer_due_days: int | None = None  # offers whose answer is due within that many days
    nominated: str = ""  # "yes", "no" or "" (both)
    q: str = ""
    sort: str = "score"


def _dialect() -> str:
    return db.engine.dialect.name


def _json_list(column: Any) -> Any:
    """Return the JSON list column, or an empty list where the stored value is not an array.

    PostgreSQL raises on json_array_length/json_array_elements_text of a scalar (e.g. a JSON
    null), so the value is swapped for '[]' first; SQLite's json functions are lenient.
    """
    if _dialect() == "postgresql":
        return sa.case(
            (sa.func.json_typeof(column) == "array", column),
            else_=sa.literal_column("'[]'::json"),
        )
    return column


def _json_list_empty(column: Any) -> Any:
    """SQL: the JSON list holds no element (no restriction)."""
    return sa.func.coalesce(sa.func.json_array_length(_json_list(column)), 0) == 0


def _json_list_has(column: Any, value: Any) -> Any:
    """SQL: EXISTS an element of the JSON list equal (as text) to the value."""
    if _dialect() == "postgresql":
        elements = sa.func.json_array_elements_text(_json_list(column)).table_valued("value")
    else:
        elements = sa.func.json_each(column).table_valued("value")
    return sa.exists(
        sa.select(sa.literal(1))
        .select_from(elements)
        .where(sa.cast(elements.c.value, sa.String) == sa.cast(value, sa.String))
    )


def _cefr_rank(level: Any) -> Any:
    """SQL CASE ranking a CEFR level like portal.reference.cefr_rank: A1=1 … C2=6, native=7."""
    ranks = {level: rank for rank, level in enumerate(CEFR_LEVELS, start=1)}
    ranks[NATIVE.upper()] = len(CEFR_LEVELS) + 1
    return sa.case(ranks, value=sa.func.upper(sa.func.trim(level)), else_=0)


def eligibility_clause() -> sa.ColumnElement[bool]:
    """SQL mirror of portal.programs.eligibility.is_eligible(program, live profile).

    Every part is a plain boolean (never NULL), so NOT() gives the ineligible rows:

    - level: the programme's `eligible_levels` JSON list is empty, or EXISTS an element equal
      to the profile's study level (json_each on SQLite, json_array_elements_text on
      PostgreSQL);
    - grades: `min_gpa` is NULL, or the profile's `gpa_normalized` is set and >= it;
    - language: no required language/level, or EXISTS a language_skills row of the profile
      for that language whose CEFR rank (a CASE: A1=1 … C2=6, native=7) is >= the rank of
      `required_cefr`;
    - citizenship: the `citizenships` JSON list is empty, or EXISTS an element equal to the
      profile's citizenship.

    A missing profile (the outer join gives NULLs) fails every rule that is set, as in Python.
    Nothing is stored: the page computes the verdict of its own rows with is_eligible(), and a
    test checks that both agree.
    """
    level_ok = sa.or_(
        _json_list_empty(Program.eligible_levels),
        sa.and_(
            StudentProfile.study_level.is_not(None),
            _json_list_has(Program.eligible_levels, StudentProfile.study_level),
        ),
    )
    gpa_ok = sa.or_(
        Program.min_gpa.is_(None),
        sa.and_(
            StudentProfile.gpa_normalized.is_not(None),
            StudentProfile.gpa_normalized >= Program.min_gpa,
        ),
    )
    language_ok = sa.or_(
        sa.func.coalesce(Program.required_language, "") == "",
        sa.func.coalesce(Program.required_cefr, "") == "",
        sa.exists(
            sa.select(LanguageSkill.id).where(
                LanguageSkill.profile_id == StudentProfile.user_id,
                LanguageSkill.language == Program.required_language,
                _cefr_rank(LanguageSkill.level) >= _cefr_rank(Program.required_cefr),
            )
        ),
    )
    citizenship_ok = sa.or_(
        _json_list_empty(Program.citizenships),
        sa.and_(
            StudentProfile.citizenship.is_not(None),
            _json_list_has(Program.citizenships, StudentProfile.citizenship),
        ),
    )
    return sa.and_(level_ok, gpa_ok, language_ok, citizenship_ok)


def answer_due_clause(before: datetime) -> sa.ColumnElement[bool]:
    """SQL: the application is offered and its standing letter awaits an answer due before then.

    A deadline already passed counts too: the offer expires only when the job or a reader
    gets to it, and until then it still waits on the coordinator's list.
    """
    return sa.and_(
        Application.state == State.OFFERED,
        sa.exists(
            sa.select(Offer.id).where(
                Offer.application_id == Application.id,
                Offer.status == OfferStatus.VALID,
                Offer.response.is_(None),
                Offer.response_deadline <= before,
            )
        ),
    )


def nominated_clause() -> sa.ColumnElement[bool]:
    """SQL: the application has a nomination (whatever the partner answered)."""
    return sa.exists(sa.select(Nomination.id).where(Nomination.application_id == Application.id))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_clause(q: str) -> sa.ColumnElement[bool] | None:
    """SQL: every word of `q` is a substring of a name (native or Latin), e-mail or national id.

    The searched columns are joined into one lower()-ed haystack. PostgreSQL's lower() folds
    every script, but SQLite's folds ASCII only, so Cyrillic there stays as stored. Each word is
    therefore tried in several spellings: casefolded (matches any lower()-ed Latin, and
    Cyrillic on PostgreSQL), as typed, lower, Capitalised and UPPER (match Cyrillic as stored on
    SQLite, where names are written "Бөкейханов" or "БӨКЕЙХАНОВ").
    Percent signs, underscores and backslashes match literally.
    """
    words = q.split()[:MAX_SEARCH_WORDS]
    if not words:
        return None
    parts = [
        StudentProfile.native_given_names,
        StudentProfile.native_family_name,
        StudentProfile.latin_given_names,
        StudentProfile.latin_family_name,
        User.email,
        StudentProfile.national_id,
    ]
    haystack = sa.func.lower(_concat([sa.func.coalesce(p, "") for p in parts]))
    clauses = []
    for word in words:
        spellings = {word.casefold(), word, word.lower(), word.capitalize(), word.upper()}
        clauses.append(
            sa.or_(*(haystack.like(f"%{_escape_like(s)}%", escape="\\") for s in sorted(spellings)))
        )
    return sa.and_(*clauses)


def _concat(parts: list[Any]) -> Any:
    expr = parts[0]
    for part in parts[1:]:
        expr = expr + "\n" + part
    return expr


def queue_query(
    filters: QueueFilters, program_ids: sa.Select[tuple[int]] | list[int] | None
) -> sa.Select[tuple[Application]]:
    """Build the queue's select: submitted applications of the programmes in scope.

    `program_ids` is a select of programme ids (or a list); None means every programme (an
    admin). The select joins the student, their profile (outer) and the programme, so that
    filters and sorts can use them; loader options are left to the caller.
    """
    query = (
        sa.select(Application)
        .join(User, User.id == Application.student_id)
        .outerjoin(StudentProfile, StudentProfile.user_id == Application.student_id)
        .join(Program, Program.id == Application.program_id)
        .where(Application.state != State.DRAFT)
    )
    if program_ids is not None:
        query = query.where(Application.program_id.in_(program_ids))
    states = [s for s in filters.states if s in STAFF_STATES]
    if states:
        query = query.where(Application.state.in_(states))
    if filters.citizenship:
        query = query.where(StudentProfile.citizenship == filters.citizenship)
    if filters.home_institution_id is not None:
        query = query.where(StudentProfile.home_institution_id == filters.home_institution_id)
    if filters.eligible == "yes":
        query = query.where(eligibility_clause())
    elif filters.eligible == "no":
        query = query.where(sa.not_(eligibility_clause()))
    if filters.score_min is not None:
        query = query.where(Application.score >= filters.score_min)
    if filters.score_max is not None:
        query = query.where(Application.score <= filters.score_max)
    if filters.reviewer_id is not None:
        query = query.where(
            sa.exists(
                sa.select(Review.id).where(
                    Review.application_id == Application.id,
                    Review.reviewer_id == filters.reviewer_id,
                )
            )
        )
    if filters.answer_due_days is not None:
        query = query.where(
            answer_due_clause(utcnow() + timedelta(days=filters.answer_due_days))
        )
    if filters.nominated == "yes":
        query = query.where(nominated_clause())
    elif filters.nominated == "no":
        query = query.where(sa.not_(nominated_clause()))
    found = search_clause(filters.q)
    if found is not None:
        query = query.where(found)
    return query.order_by(*_order(filters.sort))


def _order(sort: str) -> list[Any]:
    # NULLs last written portably: "x IS NULL" sorts false (0) before true (1) everywhere.
    name = [
        StudentProfile.latin_family_name.is_(None),
        StudentProfile.latin_family_name,
        StudentProfile.latin_given_names,
    ]
    if sort == "submitted":
        return [Application.submitted_at, Application.id]
    if sort == "submitted_desc":
        return [Application.submitted_at.desc(), Application.id.desc()]
    if sort == "name":
        return [*name, Application.id]
    return [
        Application.score.is_(None),
        Application.score.desc(),
        Application.submitted_at,
        Application.id,
    ]


def _loader_options() -> list[Any]:
    return [
        so.contains_eager(Application.student)
        .contains_eager(User.profile)
        .joinedload(StudentProfile.home_institution),
        so.contains_eager(Application.program),
        so.selectinload(Application.reviews).joinedload(Review.reviewer),
    ]


@dataclass
class QueueRow:
    """One application of the page, with what the page computes for it."""

    application: Application
    eligible: bool
    reviews_done: int
    reviews_assigned: int

    @property
    def profile(self) -> StudentProfile | None:
        """Return the student's profile (None if the student never filled it in)."""
        return self.application.student.profile


def load_page(query: sa.Select[tuple[Application]], page: int, per_page: int) -> Pagination:
    """Fetch one page of the queue in a fixed number of queries.

    One COUNT, one select of the page (student, profile, home institution and programme
    joined in), one select of the page's reviews with their reviewers and one of the
    profiles' language skills (for the eligibility verdict). Items are QueueRow objects.
    """
    pagination = db.paginate(
        query.options(
            *_loader_options(),
            so.contains_eager(Application.student)
            .contains_eager(User.profile)
            .selectinload(StudentProfile.languages),
            # In the page's own select: a marker for one person with two accounts.
            so.contains_eager(Application.student)
            .contains_eager(User.profile)
            .with_expression(StudentProfile.shares_national_id, shares_national_id_clause()),
        ),
        page=page,
        per_page=per_page,
        error_out=False,
    )
    pagination.items = [_row(application) for application in pagination.items]
    return pagination


def _row(application: Application) -> QueueRow:
    done = sum(1 for review in application.reviews if review.submitted_at is not None)
    return QueueRow(
        application=application,
        eligible=is_eligible(application.program, application.student.profile),
        reviews_done=done,
        reviews_assigned=len(application.reviews),
    )


def iter_rows(query: sa.Select[tuple[Application]], batch: int = 500) -> Iterator[Application]:
    """Yield every application of the query, loading them in batches (for exports)."""
    result = db.session.execute(
        query.options(*_loader_options()).execution_options(yield_per=batch)
    )
    yield from result.scalars()


def filter_choices(
    program_ids: sa.Select[tuple[int]] | list[int] | None,
) -> tuple[list[str], list[Institution], list[User]]:
    """Return the citizenships, home institutions and reviewers found in the queue's scope."""
    in_scope = sa.select(Application.student_id).where(Application.state != State.DRAFT)
    if program_ids is not None:
        in_scope = in_scope.where(Application.program_id.in_(program_ids))
    citizenships = list(
        db.session.scalars(
            sa.select(StudentProfile.citizenship)
            .where(
                StudentProfile.user_id.in_(in_scope),
                StudentProfile.citizenship.is_not(None),
            )
            .distinct()
            .order_by(StudentProfile.citizenship)
        )
    )
    institutions = list(
        db.session.scalars(
            sa.select(Institution).where(
                Institution.id.in_(
                    sa.select(StudentProfile.home_institution_id).where(
                        StudentProfile.user_id.in_(in_scope)
                    )
                )
            )
        )
    )
    reviewed = sa.select(Review.reviewer_id).join(
        Application, Application.id == Review.application_id
    )
    if program_ids is not None:
        reviewed = reviewed.where(Application.program_id.in_(program_ids))
    reviewers = list(
        db.session.scalars(sa.select(User).where(User.id.in_(reviewed)).order_by(User.email))
    )
    return citizenships, institutions, reviewers
