"""The steps of an application."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from portal.applications.services import MOTIVATION_MAX
from portal.forms import KopirForm, clean_line, clean_text
from portal.i18n import current_locale
from portal.programs.models import Program


class MotivationForm(KopirForm):
    """Why the student applies."""

    motivation = TextAreaField(
        _l("Your motivation"),
        validators=[Optional(), Length(max=MOTIVATION_MAX)],
        filters=[clean_text],
        render_kw={"rows": 12},
    )
    save = SubmitField(_l("Save draft"))
    next = SubmitField(_l("Save and continue"))


class ConfirmForm(KopirForm):
    """A button that changes something: only a CSRF token."""


class WithdrawForm(KopirForm):
    """Withdraw, optionally saying why."""

    reason = TextAreaField(
        _l("Reason (optional)"), validators=[Optional(), Length(max=1000)], filters=[clean_text]
    )


def questions_form(program: Program, answers: dict[str, str]) -> KopirForm:
    """Build a form with one field per question of the programme."""
    locale = current_locale()

    class QuestionsForm(KopirForm):
        save = SubmitField(_l("Save draft"))
        next = SubmitField(_l("Save and continue"))

    for question in program.questions:
        name = f"q{question.id}"
        label = question.prompt(locale)
        default = answers.get(str(question.id))
        if question.kind == "choice":
            field = RadioField(
                label,
                choices=question.choice_pairs(locale),
                validators=[Optional()],
                default=default,
            )
        elif question.kind == "long":
            field = TextAreaField(
                label,
                validators=[Optional(), Length(max=question.max_length)],
                filters=[clean_text],
                default=default,
                render_kw={"rows": 6},
            )
        else:
            field = StringField(
                label,
                validators=[Optional(), Length(max=min(question.max_length, 300))],
                filters=[clean_line],
                default=default,
            )
        setattr(QuestionsForm, name, field)
    return QuestionsForm()


def answers_from(form: KopirForm, program: Program) -> dict[str, str]:
    """Collect the answers of a questions form keyed by question id."""
    return {str(q.id): (getattr(form, f"q{q.id}").data or "") for q in program.questions}
