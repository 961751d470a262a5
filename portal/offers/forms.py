"""Forms of offer letters: answer, issue, revoke, word the letter, verify."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from portal.forms import KopirForm, SmallIntegerField, clean_line, clean_text
from portal.offers.services import MAX_RESPONSE_DAYS
from portal.offers.typeface import PrintableInLetter


class RespondForm(KopirForm):
    """Accept or decline the offer made by one exact version of the letter."""

    offer_id = HiddenField()
    accept = SubmitField(_l("Accept the offer"))
    decline = SubmitField(_l("Decline the offer"))


class IssueForm(KopirForm):
    """Issue (or re-issue) one applicant's letter."""

    language = SelectField(_l("Language of the letter"), choices=[])
    bilingual = BooleanField(_l("Add the English text beside it"))
    deadline = DateField(
        _l("Answer by (last day, programme time zone)"), validators=[Optional()]
    )


class RevokeForm(KopirForm):
    """Revoke a letter, saying why."""

    reason = TextAreaField(
        _l("Why is the letter revoked?"),
        validators=[DataRequired(), Length(max=1000)],
        filters=[clean_text],
        render_kw={"rows": 2},
    )


class StartBatchForm(KopirForm):
    """Start the job that issues every pending letter of a programme."""


class LetterSettingsForm(KopirForm):
    """A programme's letter settings and its wording in one language."""

    locale = HiddenField()
    response_days = SmallIntegerField(
        _l("Days the student has to answer"),
        default=14,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_RESPONSE_DAYS)],
    )
    bilingual = BooleanField(_l("Print the English text beside the student's language"))
    body = TextAreaField(
        _l("Letter text"),
        validators=[Optional(), Length(max=5000), PrintableInLetter()],
        filters=[clean_text],
        render_kw={"rows": 9},
        description=_l("Leave empty to use the portal's wording. One paragraph per line."),
    )
    conditions = TextAreaField(
        _l("Conditions"),
        validators=[Optional(), Length(max=3000), PrintableInLetter()],
        filters=[clean_text],
        render_kw={"rows": 4},
    )
    signatory_name = StringField(
        _l("Signatory's name"),
        validators=[Optional(), Length(max=120), PrintableInLetter()],
        filters=[clean_line],
    )
    signatory_title = StringField(
        _l("Signatory's title"),
        validators=[Optional(), Length(max=160), PrintableInLetter()],
        filters=[clean_line],
    )
    preview = SubmitField(_l("Preview PDF"))
    save = SubmitField(_l("Save"))


class VerifyForm(KopirForm):
    """Check a letter by its code or by its file."""

    code = StringField(_l("Verification code"), validators=[Optional(), Length(max=64)])
    letter = FileField(_l("Or upload the PDF you received"))
