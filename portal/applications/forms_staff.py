"""Forms coordinators and reviewers use on an application."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from portal.forms import KopirForm, SmallIntegerField, clean_line, clean_text
from portal.programs.models import Program

MESSAGE_LABEL = _l("Message to the student (they will read this)")
MESSAGE_HINT = _l("Shown word for word in the student's timeline.")
NOTE_LABEL = _l("Internal note (staff only)")
NOTE_HINT = _l("Kept in the application's history for staff; never shown to the student.")


def _message_field() -> TextAreaField:
    return TextAreaField(
        MESSAGE_LABEL,
        validators=[Optional(), Length(max=2000)],
        filters=[clean_text],
        description=MESSAGE_HINT,
        render_kw={"rows": 3},
    )


def _note_field() -> TextAreaField:
    return TextAreaField(
        NOTE_LABEL,
        validators=[Optional(), Length(max=2000)],
        filters=[clean_text],
        description=NOTE_HINT,
        render_kw={"rows": 2},
    )


class DecisionForm(KopirForm):
    """Move an application to another state, with a message to the student and a staff note."""

    # The view sets the choices: an empty first one, then the moves the user may make.
    target = SelectField(_l("Decision"), choices=[], validate_choice=False)
    reason = _message_field()
    note = _note_field()
    version = HiddenField()

    def validate_target(self, field: Field) -> None:
        """Require one of the decisions offered, refusing the empty first choice."""
        if not field.data:
            raise ValidationError(_l("Please choose a decision."))
        if field.data not in {value for value, _label in field.choices if value}:
            raise ValidationError(_l("Please choose a decision from the list."))


class BulkForm(KopirForm):
    """Decide several applications at once (target and ids are read from the request)."""

    reason = _message_field()
    note = _note_field()
    plan = HiddenField()  # the fingerprint of the plan the preview showed


class AssignForm(KopirForm):
    """Assign one reviewer by hand."""

    reviewer = SelectField(_l("Reviewer"), choices=[], coerce=int)


class AutoAssignForm(KopirForm):
    """Assign reviewers to every submitted application, balanced."""

    per_application = SmallIntegerField(
        _l("Reviewers per application"),
        default=2,
        validators=[InputRequired(), NumberRange(min=1, max=5)],
    )


class BestPreviewForm(KopirForm):
    """Ask what "accept the best N, waitlist the next M" would do (a GET: no token)."""

    class Meta:
        """A preview changes nothing."""

        csrf = False

    accept = SmallIntegerField(
        _l("Accept the best"), default=0, validators=[InputRequired(), NumberRange(min=0, max=999)]
    )
    waitlist = SmallIntegerField(
        _l("Then waitlist"), default=0, validators=[InputRequired(), NumberRange(min=0, max=999)]
    )


class BestForm(KopirForm):
    """Apply "accept the best N within seats and quotas, waitlist the next M"."""

    accept = SmallIntegerField(validators=[InputRequired(), NumberRange(min=0, max=999)])
    waitlist = SmallIntegerField(validators=[InputRequired(), NumberRange(min=0, max=999)])
    confirm = BooleanField(_l("I have checked the preview: apply these decisions"))
    plan = HiddenField()  # the fingerprint of the plan the preview showed


def review_form(program: Program, scores: dict[int, int], comment: str | None) -> KopirForm:
    """Build the score form of a programme's rubric, one field per criterion."""

    class ReviewForm(KopirForm):
        comment_text = TextAreaField(
            _l("Comment"),
            validators=[Optional(), Length(max=5000)],
            filters=[clean_text],
            default=comment,
            render_kw={"rows": 4},
        )

    for criterion in program.criteria:
        setattr(
            ReviewForm,
            f"c{criterion.id}",
            SmallIntegerField(
                f"{criterion.name()} (0–{criterion.max_score})",
                default=scores.get(criterion.id),
                validators=[InputRequired(), NumberRange(min=0, max=criterion.max_score)],
            ),
        )
    return ReviewForm()


class MailTemplateForm(KopirForm):
    """A programme's own wording of one decision e-mail in one language."""

    state = SelectField(_l("E-mail for the state"), choices=[])
    locale = SelectField(_l("Language"), choices=[])
    subject = StringField(
        _l("Subject"), validators=[Optional(), Length(max=200)], filters=[clean_line]
    )
    body = TextAreaField(
        _l("Text"),
        validators=[Optional(), Length(max=5000)],
        filters=[clean_text],
        render_kw={"rows": 10},
        description=_l("Leave both empty to send the portal's standard message."),
    )
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))

    def validate(self, extra_validators: dict | None = None) -> bool:
        """Require the subject and the text together (Optional stops per-field checks)."""
        valid = super().validate(extra_validators)
        if bool(self.body.data) != bool(self.subject.data):
            self.body.errors = [
                *self.body.errors,
                _l("Fill in both the subject and the text, or neither."),
            ]
            return False
        return valid
