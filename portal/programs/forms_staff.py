"""The form coordinators create and edit programmes with, checked field by field and across."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from babel.core import get_global
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import KopirForm, NoMarkup, SmallIntegerField, SubForm, clean_line, clean_text
from portal.i18n import LANGUAGE_NAMES, current_locale, zone_label
from portal.profiles.forms import FiniteDecimalField

LANGS: tuple[str, ...] = ("en", "ru", "kk", "ky")

CURRENCIES: tuple[str, ...] = ("KZT", "RUB", "KGS", "USD", "EUR")

# Offered first in the time zone list; any other IANA name is accepted too.
PREFERRED_ZONES: tuple[str, ...] = (
    "Asia/Almaty",
    "Asia/Qyzylorda",
    "Asia/Aqtobe",
    "Europe/Moscow",
    "Asia/Novosibirsk",
    "Asia/Omsk",
    "Asia/Yekaterinburg",
    "Asia/Bishkek",
    "UTC",
)
ZONES: frozenset[str] = frozenset(z for z in available_timezones() if "/" in z or z == "UTC") - {
    "localtime"
}


def timezone_choices(current: str | None = None) -> list[tuple[str, str]]:
    """Return the time zones to choose from, named by city and UTC offset in the user's language.

    The preferred zones come first, then the others by name. Old aliases (Asia/Calcutta beside
    Asia/Kolkata) would read the same twice and are left out, unless the programme has one.
    """
    choices = list(_zone_choices(current_locale(), datetime.now(UTC).date()))
    if current and current in ZONES and current not in {zone for zone, _label in choices}:
        choices.append((current, zone_label(current)))
    return choices


@lru_cache(maxsize=8)
def _zone_choices(locale: str, day: date) -> tuple[tuple[str, str], ...]:
    """Name every zone once a day per language: some 450 labels take about 70 ms to write."""
    at = datetime.combine(day, time(12), UTC)
    aliases = get_global("zone_aliases")
    choices = [(zone, zone_label(zone, at, locale)) for zone in PREFERRED_ZONES]
    seen = {label for _zone, label in choices}
    others = sorted(
        ((zone, zone_label(zone, at, locale)) for zone in ZONES if zone not in PREFERRED_ZONES),
        key=lambda pair: (pair[1].casefold(), pair[0] in aliases, pair[0]),
    )
    for zone, label in others:
        if label not in seen and zone not in aliases:
            choices.append((zone, label))
            seen.add(label)
    return tuple(choices)


# Years a programme's dates and window may fall in: keeps time zone arithmetic in range.
MIN_YEAR, MAX_YEAR = 2000, 2100

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
QUESTION_KINDS = ("short", "long", "choice")
MAX_CHOICES = 30
WINDOW_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

# Names of the programme's fields as the audit log shows them.
FIELD_LABELS: dict[str, Any] = {
    "slug": _l("Address name"),
    "kind": _l("Kind"),
    "host": _l("Host university"),
    "partners": _l("Partner universities"),
    "titles": _l("Title"),
    "descriptions": _l("Description"),
    "place": _l("Place"),
    "funding": _l("Funding"),
    "language": _l("Language of instruction"),
    "isced_code": _l("Field of study (ISCED-F 2013)"),
    "starts_on": _l("First day"),
    "ends_on": _l("Last day"),
    "fee_amount": _l("Fee"),
    "fee_currency": _l("Currency"),
    "seats": _l("Seats"),
    "timezone": _l("Time zone"),
    "opens_at": _l("Applications open"),
    "closes_at": _l("Deadline"),
    "eligible_levels": _l("Study levels"),
    "min_gpa": _l("Minimum GPA (0–100)"),
    "required_language": _l("Required language"),
    "required_cefr": _l("Minimum level in it"),
    "citizenships": _l("Citizenships"),
    "required_documents": _l("Documents to upload"),
    "promotion_mode": _l("When a seat frees"),
    "reviewers_see_scores": _l("Reviewers see each other's scores"),
    "published": _l("Published in the catalogue"),
    "quotas": _l("Seats reserved for partners"),
    "questions": _l("Extra questions"),
    "criteria": _l("Review rubric"),
    "coordinators": _l("Coordinators"),
    "reviewers": _l("Reviewers"),
}


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a group of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _int_or_zero(value: Any) -> int:
    """Coerce a select's value to an int; an empty choice is 0 (garbage raises)."""
    if value in ("", None):
        return 0
    return int(value)


def _multi(label: Any, **kwargs: Any) -> dict[str, Any]:
    return {
        "label": label,
        "invalid_value_message": _l("Please choose from the list."),
        "invalid_choice_message": _l("Not a valid choice: %(value)s."),
        **kwargs,
    }


def local_to_utc(local: datetime, zone: str) -> datetime | None:
    """Read a wall-clock time in a zone as an aware UTC time; None if the clock skipped it."""
    try:
        tz = ZoneInfo(zone)
        aware = local.replace(tzinfo=tz)
        utc = aware.astimezone(UTC)
        if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            return None
        return utc
    except (ValueError, OverflowError, KeyError):
        return None


def utc_to_local(value: datetime, zone: str) -> datetime:
    """Return the naive wall-clock time of an aware datetime in a zone."""
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _texts(name: str, *, required_en: bool, textarea: bool, max_length: int, markup: bool):
    """Make a sub-form with one text field per portal language ("titles-en", "titles-ru", …)."""
    attrs: dict[str, Any] = {}
    for lang in LANGS:
        validators: list[Any] = []
        if lang == "en" and required_en:
            validators.append(InputRequired(message=_l("Please give it in English at least.")))
        else:
            validators.append(Optional())
        validators.append(Length(max=max_length))
        if not markup:
            validators.append(NoMarkup())
        field_class = TextAreaField if textarea else StringField
        render_kw: dict[str, Any] = {"lang": lang}
        if textarea:
            render_kw["rows"] = 4
        attrs[lang] = field_class(
            LANGUAGE_NAMES[lang],
            validators=validators,
            filters=[clean_text if textarea else clean_line],
            render_kw=render_kw,
        )
    return type(name, (SubForm,), attrs)


TitleTexts = _texts("TitleTexts", required_en=True, textarea=False, max_length=200, markup=False)
DescriptionTexts = _texts(
    "DescriptionTexts", required_en=False, textarea=True, max_length=10_000, markup=True
)
PlaceTexts = _texts("PlaceTexts", required_en=False, textarea=False, max_length=200, markup=False)
FundingTexts = _texts(
    "FundingTexts", required_en=False, textarea=True, max_length=2000, markup=True
)


NOTHING = (None, "", 0, [])


def _blank(field: Field) -> bool:
    """Tell whether nothing was typed or chosen in a field."""
    raw = field.raw_data
    if raw is None:
        return field.data in NOTHING
    if all(not str(value).strip() for value in raw):
        return True
    # A list's empty choice ("—") is posted like any option: nothing is chosen all the same,
    # whatever value a page (or one still open from an older version) gives it.
    return isinstance(field, SelectField) and not field.process_errors and field.data in NOTHING


class RowForm(SubForm):
    """A row of a repeated group: a row left blank is ignored, not checked."""

    content_fields: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        """Tell whether every field that carries content is empty."""
        return all(_blank(self[name]) for name in self.content_fields)

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the row unless it is blank."""
        if self.is_blank():
            self._errors = None
            for f in self:
                f.errors = []
            return True
        return super().validate(extra_validators)


class QuotaRow(RowForm):
    """Seats reserved for the students of one partner university."""

    content_fields = ("institution", "seats")

    institution = SelectField(
        _l("Partner university"),
        coerce=_int_or_zero,
        choices=[],
        default=0,
        validate_choice=False,
    )
    seats = SmallIntegerField(
        _l("Reserved seats"),
        validators=[InputRequired(), NumberRange(min=0, max=100_000)],
        render_kw={"inputmode": "numeric", "min": 0},
    )

    def validate_institution(self, field: Field) -> None:
        """Require a university from the list."""
        if not field.data or field.data not in {value for value, _ in field.choices}:
            raise ValidationError(_l("Please choose a university from the list."))


def _question_row() -> type[RowForm]:
    attrs: dict[str, Any] = {
        "id": HiddenField(filters=[clean_line]),
        "kind": SelectField(
            _l("Kind of answer"),
            choices=[
                ("short", _l("Short text")),
                ("long", _l("Long text")),
                ("choice", _l("Choice from a list")),
            ],
            default="short",
        ),
    }
    for lang in LANGS:
        # English is checked by QuestionRow.validate_prompt_en (Optional would skip that).
        validators: list[Any] = (
            [Length(max=1000)] if lang == "en" else [Optional(), Length(max=1000)]
        )
        attrs[f"prompt_{lang}"] = TextAreaField(
            _l("Question (%(language)s)", language=LANGUAGE_NAMES[lang]),
            validators=validators,
            filters=[clean_text],
            render_kw={"lang": lang, "rows": 2},
        )
    attrs["choices"] = TextAreaField(
        _l("Options"),
        validators=[Optional(), Length(max=8000)],
        filters=[clean_text],
        description=_l('For a choice: one option a line, as "value|English label".'),
        render_kw={"rows": 3},
    )
    attrs["required"] = BooleanField(_l("An answer is required"), default=True)
    return type("QuestionRowBase", (RowForm,), attrs)


def parse_choices(text: str) -> list[tuple[str, str]]:
    """Read "value|label" lines into (value, label) pairs; raise ValidationError on a bad line."""
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        value, sep, label = line.partition("|")
        value, label = value.strip(), label.strip()
        if not sep:
            label = value
        if not value or not label:
            raise ValidationError(
                _l('Line %(number)d: write "value|English label".', number=number)
            )
        if len(value) > 80 or len(label) > 200:
            raise ValidationError(_l("Line %(number)d is too long.", number=number))
        pairs.append((value, label))
    return pairs


class QuestionRow(_question_row()):  # type: ignore[misc]
    """An extra question applicants answer."""

    content_fields = tuple(f"prompt_{lang}" for lang in LANGS) + ("choices",)

    def validate_prompt_en(self, field: Field) -> None:
        """Require the question in English."""
        if not field.data:
            raise ValidationError(_l("Please write the question in English at least."))

    def validate_choices(self, field: Field) -> None:
        """Require two or more distinct options for a choice question."""
        if self.kind.data != "choice":
            return
        pairs = parse_choices(field.data or "")
        if len(pairs) < 2:
            raise ValidationError(_l("A choice question needs at least two options."))
        if len(pairs) > MAX_CHOICES:
            raise ValidationError(_l("At most %(count)d options, please.", count=MAX_CHOICES))
        values = [value for value, _ in pairs]
        if len(values) != len(set(values)):
            raise ValidationError(_l("Each option's value must be different."))


def _criterion_row() -> type[RowForm]:
    attrs: dict[str, Any] = {"id": HiddenField(filters=[clean_line])}
    for lang in LANGS:
        attrs[f"name_{lang}"] = StringField(
            _l("Criterion (%(language)s)", language=LANGUAGE_NAMES[lang]),
            validators=[Length(max=200)] if lang == "en" else [Optional(), Length(max=200)],
            filters=[clean_line],
            render_kw={"lang": lang},
        )
    attrs["weight"] = FiniteDecimalField(
        _l("Weight"),
        places=2,
        default=Decimal(1),
        validators=[InputRequired()],
        render_kw={"inputmode": "decimal", "step": "0.01"},
    )
    attrs["max_score"] = SmallIntegerField(
        _l("Maximum score"),
        default=10,
        validators=[InputRequired(), NumberRange(min=1, max=100)],
        render_kw={"inputmode": "numeric", "min": 1, "max": 100},
    )
    return type("CriterionRowBase", (RowForm,), attrs)


class CriterionRow(_criterion_row()):  # type: ignore[misc]
    """One criterion of the review rubric."""

    content_fields = tuple(f"name_{lang}" for lang in LANGS)

    def validate_name_en(self, field: Field) -> None:
        """Require the criterion's name in English."""
        if not field.data:
            raise ValidationError(_l("Please name the criterion in English at least."))

    def validate_weight(self, field: Field) -> None:
        """Accept a weight above 0 and at most 100."""
        if field.data is None:
            return
        if field.data <= 0:
            raise ValidationError(_l("The weight must be greater than 0."))
        if field.data > 100:
            raise ValidationError(_l("The weight can be at most 100."))
        if field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError(_l("Use at most two decimal places."))


class ProgramForm(KopirForm):
    """Everything the catalogue shows about a programme, its rules, rubric and staff."""

    # Set by the view: the programme being edited (None when creating) and who edits it.
    program_id: int | None = None
    actor_id: int | None = None
    actor_is_coordinator = False
    slug_taken: Any = None  # a callable (slug, program_id) -> bool, set by the view

    slug = StringField(
        _l("Address name"),
        validators=[InputRequired(), Length(min=2, max=80)],
        filters=[clean_line, lambda v: v.lower() if isinstance(v, str) else v],
        description=_l(
            "Lowercase Latin letters, digits and hyphens; the programme's page is /programs/…"
        ),
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    kind = SelectField(_l("Kind"), choices=[])
    host = SelectField(
        _l("Host university"), coerce=_int_or_zero, choices=[], default=0, validate_choice=False
    )
    published = BooleanField(_l("Published in the catalogue"), default=True)

    titles = FormField(TitleTexts, label=_l("Title"))
    descriptions = FormField(DescriptionTexts, label=_l("Description"))
    place = FormField(PlaceTexts, label=_l("Place"))
    funding = FormField(FundingTexts, label=_l("Funding"))

    language = SelectField(_l("Language of instruction"), choices=[], default="")
    isced_code = SelectField(_l("Field of study (ISCED-F 2013)"), choices=[], default="")
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    fee_amount = FiniteDecimalField(
        _l("Fee"),
        places=2,
        default=Decimal(0),
        validators=[InputRequired(), NumberRange(min=0, max=99_999_999)],
        description=_l("0 if there is no fee."),
        render_kw={"inputmode": "decimal", "step": "0.01", "min": 0},
    )
    fee_currency = SelectField(_l("Currency"), choices=[(c, c) for c in CURRENCIES], default="KZT")

    seats = SmallIntegerField(
        _l("Seats"),
        validators=[InputRequired(), NumberRange(min=0, max=100_000)],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    partners = MultiCheckboxField(**_multi(_l("Partner universities"), coerce=int, choices=[]))
    quotas = FieldList(FormField(QuotaRow), min_entries=2, max_entries=40)

    timezone = SelectField(
        _l("Time zone"),
        choices=[],
        default="Asia/Almaty",
        validate_choice=False,
        description=_l("The window below is entered and shown in this time zone."),
    )
    opens_at = DateTimeLocalField(
        _l("Applications open"),
        format=WINDOW_FORMATS,
        validators=[InputRequired()],
        description=_l("Local date and time in the programme's time zone."),
    )
    closes_at = DateTimeLocalField(
        _l("Deadline"),
        format=WINDOW_FORMATS,
        validators=[InputRequired()],
        description=_l("Local date and time in the programme's time zone."),
    )

    eligible_levels = MultiCheckboxField(**_multi(_l("Study levels"), coerce=int, choices=[]))
    min_gpa = FiniteDecimalField(
        _l("Minimum GPA (0–100)"),
        places=1,
        validators=[Optional(), NumberRange(min=0, max=100)],
        description=_l("On the portal's 0–100 scale; leave empty for no minimum."),
        render_kw={"inputmode": "decimal", "step": "0.1"},
    )
    required_language = SelectField(_l("Required language"), choices=[], default="")
    required_cefr = SelectField(_l("Minimum level in it"), choices=[], default="")
    citizenships = SelectMultipleField(
        **_multi(
            _l("Citizenships"),
            choices=[],
            description=_l("Leave empty to welcome every citizenship."),
            render_kw={"size": 8},
        )
    )
    required_documents = MultiCheckboxField(**_multi(_l("Documents to upload"), choices=[]))

    questions = FieldList(FormField(QuestionRow), min_entries=2, max_entries=30)
    criteria = FieldList(FormField(CriterionRow), min_entries=3, max_entries=30)

    coordinators = MultiCheckboxField(**_multi(_l("Coordinators"), coerce=int, choices=[]))
    reviewers = MultiCheckboxField(**_multi(_l("Reviewers"), coerce=int, choices=[]))
    reviewers_see_scores = BooleanField(_l("Reviewers see each other's scores"))
    promotion_mode = SelectField(
        _l("When a seat frees"),
        choices=[
            ("automatic", _l("Promote the best waitlisted applicant at once")),
            ("confirm", _l("Ask a coordinator first")),
        ],
        default="automatic",
    )

    confirm_rule_change = BooleanField(
        _l("I confirm: change the rules or window although applications were submitted")
    )

    # ----- single fields -------------------------------------------------------------------

    def validate_slug(self, field: Field) -> None:
        """Accept lowercase letters, digits and single hyphens, not taken by another programme."""
        if not field.data or not SLUG.fullmatch(field.data):
            raise ValidationError(
                _l("Use lowercase Latin letters a–z, digits and single hyphens only.")
            )
        if self.slug_taken is not None and self.slug_taken(field.data, self.program_id):
            raise ValidationError(_l("Another programme already has this address name."))

    def validate_host(self, field: Field) -> None:
        """Require a university from the list."""
        if not field.data or field.data not in {value for value, _ in field.choices}:
            raise ValidationError(_l("Please choose a university from the list."))

    def validate_language(self, field: Field) -> None:
        """Require the language of instruction."""
        if not field.data:
            raise ValidationError(_l("Please choose the language of instruction."))

    def validate_starts_on(self, field: Field) -> None:
        """Keep the year plausible."""
        _check_year(field.data)

    def validate_ends_on(self, field: Field) -> None:
        """Keep the year plausible and the last day on or after the first."""
        if field.data is None:  # not a date: the field already says so
            return
        _check_year(field.data)
        if self.starts_on.data and not self.starts_on.errors and field.data < self.starts_on.data:
            raise ValidationError(_l("The last day cannot come before the first day."))

    def validate_fee_amount(self, field: Field) -> None:
        """Refuse fractions of a cent."""
        if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
            raise ValidationError(_l("Use at most two decimal places."))

    def validate_timezone(self, field: Field) -> None:
        """Accept any IANA time zone name."""
        if field.data not in ZONES:
            raise ValidationError(_l("Please choose a time zone from the list."))

    def validate_opens_at(self, field: Field) -> None:
        """Keep the year plausible and the time real in the zone."""
        self._check_window_time(field)

    def validate_closes_at(self, field: Field) -> None:
        """Keep the deadline after the opening."""
        self._check_window_time(field)
        opens, closes = self.window_utc()
        if opens is not None and closes is not None and closes <= opens:
            raise ValidationError(_l("The deadline must come after the opening."))

    def _check_window_time(self, field: Field) -> None:
        if field.data is None:
            return
        _check_year(field.data)
        if self.timezone.errors or self.timezone.data not in ZONES:
            return
        if local_to_utc(field.data, self.timezone.data) is None:
            raise ValidationError(
                _l("This time does not exist in that time zone (the clocks skip it).")
            )

    def validate_min_gpa(self, field: Field) -> None:
        """Refuse more than one decimal place."""
        if field.data is not None and field.data != field.data.quantize(Decimal("0.1")):
            raise ValidationError(_l("Use at most one decimal place."))

    def validate_required_cefr(self, field: Field) -> None:
        """Require a level with a language and a language with a level."""
        if self.required_language.data and not field.data:
            raise ValidationError(_l("Please choose the minimum level in that language."))
        if field.data and not self.required_language.data:
            raise ValidationError(_l("Please choose the language this level is for."))

    # ----- groups --------------------------------------------------------------------------

    def validate_quotas(self, field: Field) -> None:
        """Refuse a university twice, one that is no partner, or more seats than the programme."""
        rows = [row.form for row in field.entries if not row.form.is_blank()]
        chosen = [row.institution.data for row in rows if row.institution.data]
        if len(chosen) != len(set(chosen)):
            raise ValidationError(_l("Each university can have one quota."))
        partners = set(self.partners.data or [])
        if any(inst not in partners for inst in chosen):
            raise ValidationError(
                _l("Seats can be reserved only for universities ticked as partners above.")
            )
        total = sum(row.seats.data or 0 for row in rows)
        if self.seats.data is not None and not self.seats.errors and total > self.seats.data:
            raise ValidationError(
                _l(
                    "The reserved seats (%(reserved)d) exceed the programme's seats (%(seats)d).",
                    reserved=total,
                    seats=self.seats.data,
                )
            )

    def validate_reviewers(self, field: Field) -> None:
        """Refuse a person named both coordinator and reviewer; keep the editing coordinator."""
        both = set(field.data or []) & set(self.coordinators.data or [])
        if both:
            raise ValidationError(
                _l("A person can be a coordinator or a reviewer of a programme, not both.")
            )

    def validate_coordinators(self, field: Field) -> None:
        """Do not let a coordinator remove themselves (an admin can)."""
        if (
            self.actor_is_coordinator
            and self.program_id is not None
            and self.actor_id not in (field.data or [])
        ):
            raise ValidationError(
                _l("You cannot remove yourself from the coordinators; ask an administrator.")
            )

    # ----- results -------------------------------------------------------------------------

    def window_utc(self) -> tuple[datetime | None, datetime | None]:
        """Return the window as aware UTC datetimes (None where it is missing or invalid)."""
        zone = self.timezone.data
        if zone not in ZONES:
            return None, None
        result: list[datetime | None] = []
        for f in (self.opens_at, self.closes_at):
            if f.data is None or f.errors or not (MIN_YEAR <= f.data.year <= MAX_YEAR):
                result.append(None)
            else:
                result.append(local_to_utc(f.data, zone))
        return result[0], result[1]

    def filled_rows(self, name: str) -> list[Any]:
        """Return the sub-forms of a repeated group that are not blank."""
        return [row.form for row in self[name].entries if not row.form.is_blank()]


def _check_year(value: date | datetime | None) -> None:
    if value is not None and not (MIN_YEAR <= value.year <= MAX_YEAR):
        raise ValidationError(
            _l("Please give a year between %(low)d and %(high)d.", low=MIN_YEAR, high=MAX_YEAR)
        )
