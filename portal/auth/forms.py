"""Account forms."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, Field, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from portal.auth.models import ROLE_LABELS, Role
from portal.forms import KopirForm, clean_text

PASSWORD_MIN = 10


def normalize_email(value: str) -> str:
    """Return the address in the one form the database keeps (lower case, IDNA domain)."""
    result = validate_email(value, check_deliverability=False)
    return result.normalized.lower()


def _email_filter(value: str | None) -> str | None:
    return clean_text(value).lower() if value else value


class EmailAddress:
    """Check an e-mail address's syntax and keep its normalised form."""

    def __call__(self, form: KopirForm, field: Field) -> None:
        """Raise when the address is not valid."""
        try:
            field.data = normalize_email(field.data or "")
        except EmailNotValidError as exc:
            raise ValidationError(_l("Please enter a valid e-mail address.")) from exc


def _email_field() -> EmailField:
    return EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Length(max=254), EmailAddress()],
        filters=[_email_filter],
        render_kw={"autocomplete": "email"},
    )


def _new_password_field() -> PasswordField:
    return PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(
                min=PASSWORD_MIN,
                max=128,
                message=_l(
                    "Use between %(min)d and %(max)d characters.", min=PASSWORD_MIN, max=128
                ),
            ),
        ],
        description=_l("At least %(min)d characters.", min=PASSWORD_MIN),
        render_kw={"autocomplete": "new-password"},
    )


def _confirm_field() -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class RegisterForm(KopirForm):
    """A student creates an account."""

    email = _email_field()
    password = _new_password_field()
    confirm = _confirm_field()

    def validate_password(self, field: Field) -> None:
        """Refuse a password that is the e-mail address."""
        if self.email.data and field.data and field.data.lower() == self.email.data.lower():
            raise ValidationError(_l("The password must not be your e-mail address."))


class LoginForm(KopirForm):
    """A user logs in."""

    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class EmailOnlyForm(KopirForm):
    """Ask for an address: forgotten password, resend verification."""

    email = _email_field()


class ResetPasswordForm(KopirForm):
    """Choose a new password."""

    password = _new_password_field()
    confirm = _confirm_field()


class ChangePasswordForm(KopirForm):
    """Choose a new password, proving the current one."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password_field()
    confirm = _confirm_field()

    def validate_password(self, field: Field) -> None:
        """Refuse keeping the same password."""
        if field.data and field.data == self.current.data:
            raise ValidationError(_l("Choose a password different from the current one."))


class StaffUserForm(KopirForm):
    """An admin creates a staff account."""

    email = _email_field()
    role = SelectField(
        _l("Role"),
        choices=[(role.value, ROLE_LABELS[role]) for role in Role if role != Role.STUDENT],
    )
    institution = SelectField(_l("Institution"), coerce=int, validate_choice=True)
    password = StringField(
        _l("Initial password"),
        validators=[Length(max=128)],
        description=_l("Leave empty to generate one; it is shown once."),
        filters=[clean_text],
    )

    def validate_institution(self, field: Field) -> None:
        """Require an institution for partners, whom it scopes."""
        if self.role.data == Role.PARTNER and not field.data:
            raise ValidationError(_l("A partner account belongs to one institution."))

    def validate_password(self, field: Field) -> None:
        """Refuse a typed password that is too short."""
        if field.data and len(field.data) < PASSWORD_MIN:
            raise ValidationError(_l("At least %(min)d characters.", min=PASSWORD_MIN))


class LanguageForm(KopirForm):
    """Switch the interface language."""

    lang = SelectField(_l("Language"), choices=[])
