"""Forms of nominations: nominate, answer, filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import KopirForm, clean_text
from portal.nominations.models import ANSWER_LABELS, STATUS_LABELS, Answer


class NominateForm(KopirForm):
    """Nominate the ticked students (their ids come as a list field named "application")."""


class AnswerForm(KopirForm):
    """The receiving university's answer to one nomination."""

    verdict = RadioField(
        _l("Answer"),
        choices=[
            (Answer.VERIFIED.value, _l("Verify: we expect this student")),
            (Answer.REJECTED.value, _l("Reject the nomination")),
        ],
        validators=[InputRequired()],
    )
    comment = TextAreaField(
        _l("Comment (required to reject)"),
        validators=[Optional(), Length(max=2000)],
        filters=[clean_text],
        render_kw={"rows": 3},
    )


class FilterForm(KopirForm):
    """Narrow the partner's list (a GET form: no token)."""

    class Meta:
        """Filtering changes nothing."""

        csrf = False

    program = SelectField(_l("Programme"), choices=[], validators=[Optional()])
    year = SelectField(_l("Academic year"), choices=[], validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=[("", "—")] + [(k.value, v) for k, v in STATUS_LABELS.items()],
        validators=[Optional()],
    )
    answer = SelectField(
        _l("Answer"),
        choices=[("", "—")] + [(k.value, v) for k, v in ANSWER_LABELS.items()],
        validators=[Optional()],
    )
