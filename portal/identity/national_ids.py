"""Validate and normalise personal national ID numbers from Kazakhstan, Russia and Kyrgyzstan."""

from __future__ import annotations

import enum
import re
from datetime import date

__all__ = [
    "IdError",
    "check_iin",
    "check_kg_pin",
    "check_national_id",
    "check_snils",
    "iin_birth_date",
    "iin_gender",
    "national_id_key",
    "normalize_national_id",
    "normalize_snils",
]


class IdError(str, enum.Enum):
    """Name the reason a national ID number is rejected."""

    FORMAT = "format"
    CHECKSUM = "checksum"
    DATE = "date"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    GENDER_MISMATCH = "gender_mismatch"
    # The digit that gives the sex (in an IIN also the century of birth) has no meaning.
    SEX_DIGIT = "sex_digit"
    # Well formed, but a number the registry never gives to anyone.
    NOT_ISSUED = "not_issued"


# ISO 5218 sex codes. 0 (unknown) and 9 (not applicable) never trigger a mismatch.
_MALE = 1
_FEMALE = 2

# --- Kazakhstan: IIN -------------------------------------------------------------------------

_IIN_RE = re.compile(r"[0-9]{12}")
_IIN_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_IIN_FALLBACK_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# Digit 7 gives the century and the sex together; odd digits are men.
_IIN_CENTURY_SEX = {
    "1": (1800, _MALE),
    "2": (1800, _FEMALE),
    "3": (1900, _MALE),
    "4": (1900, _FEMALE),
    "5": (2000, _MALE),
    "6": (2000, _FEMALE),
}


def _without_spaces(value: str) -> str:
    """Return value with every whitespace character removed."""
    return "".join(value.split())


def _iin_check_digit(first11: str) -> int | None:
    """Return the check digit for the first 11 IIN digits, or None when none exists."""
    for weights in (_IIN_WEIGHTS, _IIN_FALLBACK_WEIGHTS):
        remainder = (
            sum(int(digit) * weight for digit, weight in zip(first11, weights, strict=True)) % 11
        )
        if remainder != 10:
            return remainder
    # Both passes gave 10: the registry never issues such a number.
    return None


def _birth_date(year: int, month: int, day: int, *, earliest_year: int = 1) -> date | None:
    """Return the date if it exists, is not before earliest_year and is not in the future."""
    if year < earliest_year:
        return None
    try:
        born = date(year, month, day)
    except ValueError:
        return None
    # A birth date after today can only be a typo.
    if born > date.today():
        return None
    return born


def _iin_person(digits: str) -> tuple[date, int] | None:
    """Decode birth date and ISO 5218 sex from 12 IIN digits, or None if impossible."""
    century_sex = _IIN_CENTURY_SEX.get(digits[6])
    if century_sex is None:
        return None
    century, sex = century_sex
    born = _birth_date(century + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]))
    return None if born is None else (born, sex)


def _compare_person(
    actual: tuple[date, int],
    birth_date: date | None,
    gender: int | None,
) -> IdError | None:
    """Compare decoded birth date and sex with the declared ones, birth date first."""
    born, sex = actual
    if birth_date is not None and birth_date != born:
        return IdError.BIRTH_DATE_MISMATCH
    # Only a declared male/female can contradict the number; 0 and 9 carry no claim.
    if gender in (_MALE, _FEMALE) and gender != sex:
        return IdError.GENDER_MISMATCH
    return None


def check_iin(
    value: str, *, birth_date: date | None = None, gender: int | None = None
) -> IdError | None:
    """Validate a Kazakhstan IIN and return the first problem found, or None if it is valid."""
    digits = _without_spaces(value)
    if not _IIN_RE.fullmatch(digits):
        return IdError.FORMAT
    # What the person can check against their own life comes first: the century/sex digit,
    # the birth date, then how both compare with the form. Only then the check digit, which
    # merely says "some digit is wrong"; a typo in the date usually breaks both anyway.
    if digits[6] not in _IIN_CENTURY_SEX:
        return IdError.SEX_DIGIT
    person = _iin_person(digits)
    if person is None:
        return IdError.DATE
    mismatch = _compare_person(person, birth_date, gender)
    if mismatch is not None:
        return mismatch
    if _iin_check_digit(digits[:11]) != int(digits[11]):
        return IdError.CHECKSUM
    return None


def iin_birth_date(value: str) -> date | None:
    """Decode the birth date from an IIN without verifying its check digit."""
    digits = _without_spaces(value)
    if not _IIN_RE.fullmatch(digits):
        return None
    person = _iin_person(digits)
    return None if person is None else person[0]


def iin_gender(value: str) -> int | None:
    """Decode the ISO 5218 sex from an IIN without verifying its check digit."""
    digits = _without_spaces(value)
    if not _IIN_RE.fullmatch(digits):
        return None
    century_sex = _IIN_CENTURY_SEX.get(digits[6])
    return None if century_sex is None else century_sex[1]


# --- Russia: SNILS ---------------------------------------------------------------------------

_SNILS_RE = re.compile(r"[0-9]{11}")
_SNILS_SEPARATORS_RE = re.compile(r"[\s-]")
# The Pension Fund's rule, "8. Algorithm of the insurance number's check number" in its board's
# act on personified-accounting formats (ConsultantPlus, cons_doc_LAW_124607): the check number
# is verified only for numbers greater than 001-001-998 (those were issued before the rule).
_SNILS_UNCHECKED_MAX = 1_001_998


def _snils_digits(value: str) -> str | None:
    """Return the 11 SNILS digits with separators removed, or None if malformed."""
    digits = _SNILS_SEPARATORS_RE.sub("", value)
    return digits if _SNILS_RE.fullmatch(digits) else None


def _snils_check_number(first9: str) -> int:
    """Return the two-digit SNILS check number for the first nine digits."""
    total = sum(int(digit) * (9 - index) for index, digit in enumerate(first9))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    remainder = total % 101
    return 0 if remainder == 100 else remainder


def check_snils(value: str) -> IdError | None:
    """Validate a Russian SNILS and return the problem found, or None if it is valid."""
    digits = _snils_digits(value)
    if digits is None:
        return IdError.FORMAT
    # Account numbers count from 1; 000-000-000 is the blank printed on forms, never issued.
    # Besides that, the Pension Fund's published rule (above) has only the check number. A "no
    # digit three times in a row" rule circulates in programming exercises but in no official
    # text; refusing on it could lock a person out with their real number, so it is not applied.
    if int(digits[:9]) == 0:
        return IdError.NOT_ISSUED
    if int(digits[:9]) <= _SNILS_UNCHECKED_MAX:
        return None
    if _snils_check_number(digits[:9]) != int(digits[9:]):
        return IdError.CHECKSUM
    return None


def normalize_snils(value: str) -> str:
    """Format a SNILS as XXX-XXX-XXX YY; raise ValueError if it is not 11 digits."""
    digits = _snils_digits(value)
    if digits is None:
        raise ValueError("SNILS must have 11 digits")
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"


# --- Kyrgyzstan: personal identification number (PIN) ----------------------------------------

# First digit is the sex (1 female, 2 male), then DDMMYYYY, then a five-digit serial.
# The serial has no published check digit, so none is verified.
_KG_PIN_RE = re.compile(r"[0-9]{14}")
_KG_PIN_SEX = {"1": _FEMALE, "2": _MALE}
# Nobody alive was born earlier; an older year is a typo such as 0990 for 1990.
_KG_EARLIEST_YEAR = 1900


def check_kg_pin(
    value: str, *, birth_date: date | None = None, gender: int | None = None
) -> IdError | None:
    """Validate a Kyrgyz personal PIN and return the first problem found, or None if valid."""
    digits = _without_spaces(value)
    if not _KG_PIN_RE.fullmatch(digits):
        return IdError.FORMAT
    # Fourteen digits with a wrong first one is a mistyped PIN, not some other kind of number.
    if digits[0] not in _KG_PIN_SEX:
        return IdError.SEX_DIGIT
    born = _birth_date(
        int(digits[5:9]), int(digits[3:5]), int(digits[1:3]), earliest_year=_KG_EARLIEST_YEAR
    )
    if born is None:
        return IdError.DATE
    return _compare_person((born, _KG_PIN_SEX[digits[0]]), birth_date, gender)


# --- Dispatch ----------------------------------------------------------------------------------

_OTHER_MAX_LENGTH = 32
_OTHER_EXTRA_CHARS = frozenset("0123456789 -")


def _other_id_is_well_formed(text: str) -> bool:
    """Return True for 1-32 letters, ASCII digits, spaces and hyphens with a letter or digit."""
    return (
        0 < len(text) <= _OTHER_MAX_LENGTH
        and all(char.isalpha() or char in _OTHER_EXTRA_CHARS for char in text)
        and any(char.isalnum() for char in text)
    )


def check_national_id(
    country: str,
    value: str,
    *,
    birth_date: date | None = None,
    gender: int | None = None,
) -> IdError | None:
    """Validate a national ID for an ISO 3166-1 alpha-2 country; None means valid."""
    code = country.strip().upper()
    if code == "KZ":
        return check_iin(value, birth_date=birth_date, gender=gender)
    if code == "RU":
        # SNILS encodes neither birth date nor sex, so there is nothing to compare.
        return check_snils(value)
    if code == "KG":
        return check_kg_pin(value, birth_date=birth_date, gender=gender)
    return None if _other_id_is_well_formed(value.strip()) else IdError.FORMAT


def normalize_national_id(country: str, value: str) -> str:
    """Return the storage form of a national ID; raise ValueError if it is malformed."""
    code = country.strip().upper()
    if check_national_id(code, value) is IdError.FORMAT:
        raise ValueError(f"malformed national ID for {code}")
    if code in ("KZ", "KG"):
        return _without_spaces(value)
    if code == "RU":
        return normalize_snils(value)
    return value.strip().upper()


def national_id_key(country: str | None, value: str | None) -> str:
    """Return what two spellings of one stored ID share, or "" when there is nothing to compare.

    Stored IDs (normalize_national_id) differ only by spaces and hyphens: the key of an IIN,
    SNILS or PIN is its digits. portal.profiles.queries compares in SQL the same way.
    """
    if not country or not value:
        return ""
    return value.replace(" ", "").replace("-", "").upper()
