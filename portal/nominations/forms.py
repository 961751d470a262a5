"""Forms of nominations: nominate, answer, filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from portal.forms import KopirForm, clean_text
from portal.nominations.models import ANSWER_LABELS, STATUS_LABELS, Answer
from portal.nominations.queries import ANSWERED_WITHIN_DAYS, Direction


class NominateForm(KopirForm):
    """Preview, then nominate, the ticked students.

    Their ids come as a list field named "application"; the confirming form also sends, for
    each, "version-<id>": the application's version the preview showed.
    """


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
        _l("Comment (required to reject; the student reads it)"),
        validators=[Optional(), Length(max=2000)],
        filters=[clean_text],
        render_kw={"rows": 3},
    )
    # The answer the partner saw when deciding: a change made by someone else meanwhile is not
    # overwritten unseen.
    current = HiddenField(
        validators=[Optional(), AnyOf([a.value for a in Answer])],
    )


class ChangeAnswerForm(KopirForm):
    """Withdraw a verification: the rejection that follows needs its reason.

    It posts to the same endpoint as AnswerForm, which reads it.
    """

    verdict = HiddenField(default=Answer.REJECTED.value)
    comment = TextAreaField(
        _l("Why you reject the nomination now (required; the student reads it)"),
        validators=[Optional(), Length(max=2000)],
        filters=[clean_text],
        render_kw={"rows": 3},
    )
    current = HiddenField(default=Answer.VERIFIED.value)


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
    direction = SelectField(
        _l("Direction"),
        choices=[
            ("", "—"),
            (Direction.RECEIVED.value, _l("Received by my university")),
            (Direction.SENT.value, _l("Sent by my university")),
        ],
        validators=[Optional()],
    )
    answered = SelectField(
        _l("Answered"),
        choices=[("", "—")]
        + [
            (str(days), lazy_ngettext("in the last %(num)d day", "in the last %(num)d days", days))
            for days in ANSWERED_WITHIN_DAYS
        ],
        validators=[Optional()],
    )
