"""Decision e-mails worded by a programme's coordinators, per state and language.

Coordinators' text is never run as a template: only the placeholders below are replaced,
by plain substitution, so nothing typed in the form can reach code or other data.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.applications.states import State
from portal.extensions import db
from portal.programs.models import MailTemplate

EDITABLE_STATES = (State.UNDER_REVIEW, State.ACCEPTED, State.WAITLISTED, State.REJECTED)
PLACEHOLDERS = {
    "name": _l("the student's name as in the passport"),
    "native_name": _l("the student's name in their alphabet"),
    "programme": _l("the programme's title in the student's language"),
    "state": _l("the new state"),
    "link": _l("the link to the application"),
}
_TOKEN = re.compile(r"\{(\w+)\}")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace {placeholder} tokens with their values; leave anything else as typed."""
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def find(program_id: int, state: str, locale: str | None) -> MailTemplate | None:
    """Return the programme's wording for a state in a language, if it has one."""
    if state not in EDITABLE_STATES:
        return None  # no form words the others (a submission's receipt): nothing to look up
    return db.session.scalar(
        sa.select(MailTemplate).where(
            MailTemplate.program_id == program_id,
            MailTemplate.state == state,
            MailTemplate.locale == (locale or "en"),
        )
    )
