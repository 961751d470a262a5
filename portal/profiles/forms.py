"""The student profile form, checked field by field and across fields."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DecimalField,
    Field,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import (
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.forms import (
    KopirForm,
    NoMarkup,
    SingleScriptWords,
    SmallIntegerField,
    SubForm,
    clean_line,
)
from portal.i18n import number
from portal.identity import (
    IdError,
    alphabet_with_letters,
    check_national_id,
    is_latin_passport_name,
    letters_outside_alphabet,
    name_alphabet,
    normalize_national_id,
    normalize_phone,
)
from portal.offers.typeface import PrintableInLetter
from portal.reference import CEFR_LEVELS, GPA_SCALES, gpa_range, normalize_gpa

ID_ERRORS = {
    IdError.FORMAT: _l("This number does not have the right format."),
    IdError.CHECKSUM: _l("This number's check digit is wrong; please check for a typo."),
    IdError.DATE: _l("This number contains an impossible date."),
    IdError.BIRTH_DATE_MISMATCH: _l("This number's date of birth differs from the one above."),
    IdError.GENDER_MISMATCH: _l("This number's gender digit differs from the gender above."),
    IdError.SEX_DIGIT: _l("This number's sex digit is impossible; please check it."),
    IdError.NOT_ISSUED: _l(
        "No one is ever given this number. Please type the number from your own document."
    ),
}
# Where the country's number has a known layout, say which digits to look at.
ID_ERRORS_BY_COUNTRY = {
    ("KZ", IdError.DATE): _l(
        "The first six digits of an IIN are the date of birth (YYMMDD), and here they are not "
        "a possible date. Please check them."
    ),
    ("KZ", IdError.SEX_DIGIT): _l(
        "The 7th digit of an IIN (century of birth and sex) must be 1 to 6. Please check it."
    ),
    ("KG", IdError.DATE): _l(
        "Digits 2 to 9 of a PIN are the date of birth (DDMMYYYY), and here they are not a "
        "possible date. Please check them."
    ),
    ("KG", IdError.SEX_DIGIT): _l(
        "The first digit of a PIN (sex) must be 1 or 2. Please check it."
    ),
}


def id_error_message(country: str, error: IdError) -> str:
    """Return the message for a refused national ID in the user's language."""
    key = ((country or "").strip().upper(), error)
    return str(ID_ERRORS_BY_COUNTRY.get(key, ID_ERRORS[error]))


# The alphabets a native-script name may use (codes in portal.identity.NAME_ALPHABETS).
NAME_ALPHABET_LABELS = {
    "kk": _l("Kazakh Cyrillic"),
    "ru": _l("Russian Cyrillic"),
    "ky": _l("Kyrgyz Cyrillic"),
    "cyrl": _l("Another Cyrillic alphabet"),
    "latn": _l("Latin alphabet"),
}

ID_HINTS = {
    "KZ": _l("IIN: 12 digits."),
    "RU": _l("SNILS: 11 digits, e.g. 112-233-445 95."),
    "KG": _l("PIN: 14 digits."),
}

_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")


def _native_name_check(form: Form, field: Field) -> None:
    """Accept letters, spaces, hyphens and apostrophes."""
    value = field.data or ""
    for ch in value:
        if ch in " -'’":
            continue
        if not unicodedata.category(ch).startswith(("L", "M")):
            raise ValidationError(
                _l("Please use letters only (spaces, hyphens and apostrophes are fine).")
            )


def _latin_name_check(form: Form, field: Field) -> None:
    """Accept the Latin letters a passport's machine-readable zone uses."""
    if field.data and not is_latin_passport_name(field.data):
        raise ValidationError(
            _l("Type the name exactly as in your passport, in Latin letters A–Z.")
        )


def _upper(value: str | None) -> str | None:
    return re.sub(r"\s+", "", value).upper() if isinstance(value, str) else value


class FiniteDecimalField(DecimalField):
    """A decimal field that refuses NaN, infinities and absurdly long numbers."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse the number, then refuse what is not a plain finite value."""
        if valuelist and len(valuelist[0].strip()) > 12:
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


class LanguageSkillForm(SubForm):
    """One language and the level the student has in it."""

    language = SelectField(_l("Language"), choices=[], validate_choice=False, default="")
    level = SelectField(
        _l("Level"),
        choices=[("", "—")]
        + [(lvl, lvl) for lvl in CEFR_LEVELS]
        + [("native", _l("Native speaker"))],
        default="",
    )

    def validate_level(self, field: Field) -> None:
        """Require a level for a chosen language and a known language code."""
        if self.language.data and self.language.data not in dict(self.language.choices):
            raise ValidationError(_l("Please choose a language from the list."))
        if self.language.data and not field.data:
            raise ValidationError(_l("Please choose your level."))
        if field.data and not self.language.data:
            raise ValidationError(_l("Please choose the language."))


# The native name is printed in the offer letter, whose typeface has Latin and Cyrillic letters.
_printable = PrintableInLetter(
    _l(
        "The offer letter cannot print these characters of your name: %(chars)s. Please write "
        "your name in Cyrillic or Latin letters."
    )
)


class ProfileForm(KopirForm):
    """Everything a student tells about themselves once."""

    native_given_names = StringField(
        _l("Given names in your alphabet"),
        validators=[
            Optional(),
            Length(max=100),
            NoMarkup(),
            _native_name_check,
            SingleScriptWords(),
            _printable,
        ],
        filters=[clean_line],
        render_kw={"autocomplete": "given-name", "data-translit-source": "given"},
    )
    native_family_name = StringField(
        _l("Family name in your alphabet"),
        validators=[
            Optional(),
            Length(max=100),
            NoMarkup(),
            _native_name_check,
            SingleScriptWords(),
            _printable,
        ],
        filters=[clean_line],
        render_kw={"autocomplete": "family-name", "data-translit-source": "family"},
    )
    # Empty means "as usual for my citizenship", decided when the profile is read, so that a
    # student who never opens this list is not labelled Kazakh (see identity.name_alphabet).
    native_name_lang = SelectField(
        _l("Alphabet of that name"),
        choices=[("", _l("Automatic, from my citizenship"))] + list(NAME_ALPHABET_LABELS.items()),
        default="",
        description=_l(
            "Automatic: Kazakh Cyrillic for citizens of Kazakhstan, Russian Cyrillic for Russia, "
            "Kyrgyz Cyrillic for Kyrgyzstan; otherwise the alphabet the name is typed in."
        ),
        render_kw={"data-translit-lang": "1"},
    )
    latin_given_names = StringField(
        _l("Given names as in your passport (Latin)"),
        validators=[Optional(), Length(max=100), _latin_name_check],
        filters=[clean_line],
        description=_l("Exactly as printed in your passport; we only suggest a spelling."),
        render_kw={"data-translit-target": "given", "autocapitalize": "characters"},
    )
    latin_family_name = StringField(
        _l("Family name as in your passport (Latin)"),
        validators=[Optional(), Length(max=100), _latin_name_check],
        filters=[clean_line],
        render_kw={"data-translit-target": "family", "autocapitalize": "characters"},
    )
    birth_date = DateField(
        _l("Date of birth"),
        validators=[Optional()],
        render_kw={"autocomplete": "bday"},
    )
    gender = SelectField(_l("Gender"), choices=[], coerce=str, default="")
    citizenship = SelectField(_l("Citizenship"), choices=[], default="")
    national_id = StringField(
        _l("National identification number"),
        validators=[Optional(), Length(max=32)],
        filters=[clean_line],
        description=_l("Kazakhstan: IIN, Russia: SNILS, Kyrgyzstan: PIN."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    passport_number = StringField(
        _l("Passport number"),
        validators=[Optional(), Length(max=20)],
        filters=[clean_line, _upper],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    phone = TelField(
        _l("Mobile phone"),
        validators=[Optional(), Length(max=32)],
        filters=[clean_line],
        description=_l("With the country code, e.g. +7 701 123 4567 or +996 555 123 456."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    home_institution = SelectField(_l("Home university"), choices=[], coerce=int, default=0)
    # Staff count and filter applicants by these names, so a lookalike letter would make a
    # university of its own in every chart: the same check as for people's names.
    home_institution_other = StringField(
        _l("University name, if not in the list"),
        validators=[Optional(), Length(max=200), NoMarkup(), SingleScriptWords(hyphen_joins=False)],
        filters=[clean_line],
    )
    faculty = StringField(
        _l("Faculty or school"),
        validators=[Optional(), Length(max=200), NoMarkup(), SingleScriptWords(hyphen_joins=False)],
        filters=[clean_line],
    )
    study_level = SelectField(_l("Study level"), choices=[], coerce=str, default="")
    isced_code = SelectField(_l("Field of study (ISCED-F 2013)"), choices=[], default="")
    year_of_study = SmallIntegerField(
        _l("Year of study"),
        validators=[Optional(), NumberRange(min=1, max=10)],
        render_kw={"inputmode": "numeric", "min": 1, "max": 10},
    )
    gpa = FiniteDecimalField(
        _l("Grade point average"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=100)],
        render_kw={"inputmode": "decimal", "step": "0.01"},
    )
    gpa_scale = SelectField(_l("Grading scale"), choices=[], default="")
    languages = FieldList(FormField(LanguageSkillForm), min_entries=4, max_entries=8)

    def validate_birth_date(self, field: Field) -> None:
        """Refuse impossible or implausible birth dates."""
        if field.data is None:
            return
        today = date.today()
        if field.data > today:
            raise ValidationError(_l("The date of birth cannot be in the future."))
        if field.data.year < 1930 or (today.year - field.data.year) < 12:
            raise ValidationError(_l("Please check the year of birth."))

    def validate_native_given_names(self, field: Field) -> None:
        """Keep the given names to the letters of the name's alphabet."""
        self._check_alphabet(field)

    def validate_native_family_name(self, field: Field) -> None:
        """Keep the family name to the letters of the name's alphabet."""
        self._check_alphabet(field)

    def _check_alphabet(self, field: Field) -> None:
        """Refuse letters the name's alphabet (chosen or the citizenship's) does not have."""
        if field.errors or not field.data:
            return  # one message at a time: the field's own checks said what to fix first
        names = f"{self.native_given_names.data or ''} {self.native_family_name.data or ''}"
        alphabet = name_alphabet(self.native_name_lang.data or None, self.citizenship.data, names)
        outside = letters_outside_alphabet(field.data, alphabet)
        if not outside:
            return
        values = {
            "letters": ", ".join(outside[:8]),
            "alphabet": NAME_ALPHABET_LABELS[alphabet],
            "latin": NAME_ALPHABET_LABELS["latn"],
        }
        # Suggest an alphabet for the whole name, both fields alike: the citizenship's own if it
        # has every letter, else the smallest one that does.
        usual = name_alphabet(None, self.citizenship.data, names)
        if usual not in ("cyrl", "latn") and not letters_outside_alphabet(names, usual):
            suggestion: str | None = usual
        else:
            suggestion = alphabet_with_letters([char for char in names if char.isalpha()])
        if alphabet != "latn" and alphabet_with_letters(outside) == "latn":
            raise ValidationError(
                _l(
                    "Latin letters (%(letters)s) are not in this name's alphabet, "
                    "“%(alphabet)s”. Please write the name in Cyrillic, or choose “%(latin)s” "
                    "as its alphabet if it has no Cyrillic spelling.",
                    **values,
                )
            )
        if suggestion is not None:
            raise ValidationError(
                _l(
                    "The letters %(letters)s are not in this name's alphabet, “%(alphabet)s”. "
                    "If your name is written with them, choose “%(suggestion)s” as its alphabet.",
                    suggestion=NAME_ALPHABET_LABELS[suggestion],
                    **values,
                )
            )
        raise ValidationError(
            _l(
                "The letters %(letters)s are not in this name's alphabet, “%(alphabet)s”. "
                "Please retype them.",
                **values,
            )
        )

    def validate_national_id(self, field: Field) -> None:
        """Check the number by the rules of the citizenship's country."""
        if not field.data:
            return
        country = self.citizenship.data or ""
        gender = int(self.gender.data) if self.gender.data in ("1", "2") else None
        error = check_national_id(
            country, field.data, birth_date=self.birth_date.data, gender=gender
        )
        if error is not None:
            raise ValidationError(id_error_message(country, error))
        field.data = normalize_national_id(country, field.data)

    def validate_passport_number(self, field: Field) -> None:
        """Accept 5 to 20 Latin letters and digits."""
        if field.data and not _PASSPORT.fullmatch(field.data):
            raise ValidationError(_l("Use 5 to 20 Latin letters and digits, as in the passport."))

    def validate_phone(self, field: Field) -> None:
        """Keep the number in E.164, reading it in the citizenship's country."""
        if not field.data:
            return
        e164 = normalize_phone(field.data, self.citizenship.data or None)
        if e164 is None:
            raise ValidationError(
                _l("This is not a valid phone number. Include the country code, e.g. +7 or +996.")
            )
        field.data = e164

    def validate_home_institution(self, field: Field) -> None:
        """Ask for a name when the university is not in the list."""
        if field.data == -1 and not self.home_institution_other.data:
            raise ValidationError(_l("Please type the name of your university below."))

    def validate_gpa(self, field: Field) -> None:
        """Check the GPA against its scale's range."""
        if field.data is None:
            return
        if self.gpa_scale.data not in GPA_SCALES:
            raise ValidationError(_l("Please choose the grading scale as well."))
        low, high = gpa_range(self.gpa_scale.data)
        if not (low <= field.data <= high):
            raise ValidationError(
                _l(
                    "On this scale the value must be between %(low)s and %(high)s.",
                    low=number(low),
                    high=number(high),
                )
            )

    def validate_languages(self, field: Field) -> None:
        """Refuse the same language twice."""
        chosen = [entry.language.data for entry in field.entries if entry.language.data]
        if len(chosen) != len(set(chosen)):
            raise ValidationError(_l("Each language can be listed once."))

    def normalized_gpa(self) -> Decimal | None:
        """Return the GPA on the portal's 0–100 scale."""
        if self.gpa.data is None or not self.gpa_scale.data:
            return None
        return normalize_gpa(self.gpa.data, self.gpa_scale.data)
