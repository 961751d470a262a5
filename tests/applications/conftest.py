"""Fixtures for the student's application journey."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.auth.models import User
from portal.programs.models import Program
from tests import factories


@dataclass
class Setup:
    student_email: str
    program_slug: str
    program_id: int
    closed_slug: str


@pytest.fixture
def setup(app) -> Setup:
    """A complete, eligible student; an open programme with a question; a closed programme."""
    return build_setup(app)


def build_setup(app, locale: str = "en") -> Setup:
    """Make a complete, eligible student; an open programme with a question; a closed one."""
    with app.app_context():
        student: User = factories.user(email="aru@example.kz", locale=locale)
        factories.complete_profile(student)
        host = factories.institution(schac="vku.edu.kz")
        program: Program = factories.program(
            host,
            slug="altai",
            questions=[("short", "Your favourite mountain")],
            min_gpa=60,
            required_language="en",
            required_cefr="B1",
        )
        closed = factories.program(host, slug="closed")
        from datetime import timedelta

        from portal.db import utcnow

        closed.opens_at = utcnow() - timedelta(days=20)
        closed.closes_at = utcnow() - timedelta(minutes=1)
        from portal.extensions import db

        db.session.commit()
        return Setup("aru@example.kz", "altai", program.id, "closed")
