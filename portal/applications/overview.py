"""The numbers behind a coordinator's dashboard: by state, country, university and week."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count as numbers

import sqlalchemy as sa

from portal.applications.decisions import Seats, count_seats
from portal.applications.models import Application
from portal.applications.states import State
from portal.extensions import db
from portal.identity import lookalike_key, unify_lookalikes
from portal.institutions.models import Institution
from portal.profiles.models import StudentProfile
from portal.programs.models import Program

# How many characters of a label fit beside a bar of templates/_chart.html.
LABEL_CHARS = 24


@dataclass(frozen=True)
class ChartRow:
    """One bar: its label in full (hover, table), as it fits beside the bar, and its value."""

    label: str
    short: str
    value: int


def chart_rows(rows: Sequence[tuple[str, int]], width: int = LABEL_CHARS) -> list[ChartRow]:
    """Give each (label, value) row a short label that fits and differs from the others'."""
    labels = [str(label) for label, _value in rows]
    shorts = short_labels(labels, width)
    return [
        ChartRow(label, short, value)
        for label, short, (_label, value) in zip(labels, shorts, rows, strict=True)
    ]


def short_labels(labels: Sequence[str], width: int = LABEL_CHARS) -> list[str]:
    """Shorten labels to `width` characters so that different labels never read the same.

    A label that fits stays whole; a longer one is cut with "…". Where two cuts collide
    ("Novosibirsk State Technical University" and "Novosibirsk State University"), the
    words they share at the start shrink to initials ("N. S. Technical University",
    "N. S. University") before the cut; what still collides is numbered.
    """
    shorts = [_cut(label, width) for label in labels]
    for indexes in _collisions(labels, shorts):
        common = _common_words([labels[i] for i in indexes])
        for i in indexes:
            shorts[i] = _cut(_initials(common) + labels[i][len(common) :], width)
    marks = numbers(1)
    # Numbers are never reused, so each round leaves fewer collisions and the loop ends.
    while groups := _collisions(labels, shorts):
        for indexes in groups:
            for i in indexes:
                mark = f" ({next(marks)})"
                shorts[i] = _cut(labels[i], width - len(mark)) + mark
    return shorts


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _collisions(labels: Sequence[str], shorts: Sequence[str]) -> list[list[int]]:
    """Return the groups of indexes whose different labels got the same short label."""
    groups: defaultdict[str, list[int]] = defaultdict(list)
    for i, short in enumerate(shorts):
        groups[short].append(i)
    return [g for g in groups.values() if len({labels[i] for i in g}) > 1]


def _common_words(labels: Sequence[str]) -> str:
    """Return the whole words (with the space after them) every label starts with."""
    first, last = min(labels), max(labels)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    # Cut back to a space, so the shortest label keeps at least its last word.
    return first[: first.rfind(" ", 0, n + 1) + 1]


def _initials(words: str) -> str:
    """Write each word by its first letter: "Novosibirsk State " -> "N. S. "."""
    letters = [m.group(1) for m in re.finditer(r"(?:^|\s)\W*(\w)", words)]
    return "".join(f"{letter}. " for letter in letters)


@dataclass
class Overview:
    """Counts for one programme (or several), ready for charts and tables."""

    by_state: list[tuple[str, int]]
    by_citizenship: list[tuple[str, int]]
    by_home: list[tuple[str, int]]
    by_week: list[tuple[date, int]]
    seats: list[tuple[Program, Seats]]


def _submitted(program_ids: sa.Select[tuple[int]] | list[int] | None) -> list[sa.ColumnElement]:
    clauses: list[sa.ColumnElement] = [Application.state != State.DRAFT.value]
    if program_ids is not None:
        clauses.append(Application.program_id.in_(program_ids))
    return clauses


def overview(program_ids: sa.Select[tuple[int]] | list[int] | None, locale: str) -> Overview:
    """Count the submitted applications of the programmes (None: all) four ways."""
    where = _submitted(program_ids)
    by_state = db.session.execute(
        sa.select(Application.state, sa.func.count()).where(*where).group_by(Application.state)
    ).all()
    by_citizenship = db.session.execute(
        sa.select(StudentProfile.citizenship, sa.func.count())
        .select_from(Application)
        .outerjoin(StudentProfile, StudentProfile.user_id == Application.student_id)
        .where(*where)
        .group_by(StudentProfile.citizenship)
    ).all()
    home_rows = db.session.execute(
        sa.select(Institution, StudentProfile.home_institution_other, sa.func.count())
        .select_from(Application)
        .outerjoin(StudentProfile, StudentProfile.user_id == Application.student_id)
        .outerjoin(Institution, Institution.id == StudentProfile.home_institution_id)
        .where(*where)
        .group_by(Institution.id, StudentProfile.home_institution_other)
    ).all()
    homes: Counter[str] = Counter()
    # Typed names count as one university when they differ only by lookalike letters, case or
    # spacing ("КазНУ" with a Latin К); the commonest spelling names the group.
    typed: dict[str, Counter[str]] = {}
    for institution, other, count in home_rows:
        if institution is not None or not other:
            homes[institution.name(locale) if institution else "—"] += count
        else:
            typed.setdefault(lookalike_key(other), Counter())[unify_lookalikes(other)] += count
    for spellings in typed.values():
        label = min(spellings.items(), key=lambda item: (-item[1], item[0]))[0]
        homes[label] += spellings.total()
    weeks: Counter[date] = Counter()
    for (submitted,) in db.session.execute(
        sa.select(Application.submitted_at).where(*where, Application.submitted_at.is_not(None))
    ):
        day = submitted.date()
        weeks[day - timedelta(days=day.weekday())] += 1
    programs_query = sa.select(Program).order_by(Program.id)
    if program_ids is not None:
        programs_query = programs_query.where(Program.id.in_(program_ids))
    programs = db.session.scalars(programs_query).all()
    order = {state.value: i for i, state in enumerate(State)}
    return Overview(
        by_state=sorted(((s, n) for s, n in by_state), key=lambda row: order[row[0]]),
        by_citizenship=sorted(((c or "—", n) for c, n in by_citizenship), key=lambda r: -r[1]),
        by_home=homes.most_common(),
        by_week=sorted(weeks.items()),
        seats=[(program, count_seats(program)) for program in programs],
    )
