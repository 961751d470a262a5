"""Tests for Kazakh IIN, Russian SNILS and Kyrgyz PIN validation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from portal.identity import (
    IdError,
    check_iin,
    check_kg_pin,
    check_national_id,
    check_snils,
    iin_birth_date,
    iin_gender,
    normalize_national_id,
    normalize_snils,
)

MALE, FEMALE, UNKNOWN, NOT_APPLICABLE = 1, 2, 0, 9
# IdError values (a str enum, so equal to these); named by value so that this module still
# loads, and its tests fail one by one, on code that lacks them.
SEX_DIGIT, NOT_ISSUED = "sex_digit", "not_issued"

# --- Independent reference implementations, written from the published rules ------------------

IIN_WEIGHTS = range(1, 12)
IIN_FALLBACK_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def iin_first_remainder(first11: str) -> int:
    """Return the first-pass IIN remainder (weights 1..11, mod 11)."""
    return sum(int(d) * w for d, w in zip(first11, IIN_WEIGHTS, strict=True)) % 11


def iin_check_digit(first11: str) -> int | None:
    """Return the IIN check digit for 11 digits, or None if both passes give 10."""
    remainder = iin_first_remainder(first11)
    if remainder == 10:
        remainder = sum(int(d) * w for d, w in zip(first11, IIN_FALLBACK_WEIGHTS, strict=True)) % 11
    return None if remainder == 10 else remainder


def with_iin_check(first11: str) -> str:
    """Append the check digit to 11 IIN digits; fail the test if none exists."""
    digit = iin_check_digit(first11)
    assert digit is not None, f"{first11} has no IIN check digit"
    return first11 + str(digit)


def make_iin(born: date, gender: int, serial: int = 1234) -> str:
    """Build a valid IIN, moving to the next serial if the requested one has no check digit."""
    century_digit = {18: 1, 19: 3, 20: 5}[born.year // 100] + (gender == FEMALE)
    for candidate in range(serial, serial + 10_000):
        first11 = f"{born:%y%m%d}{century_digit}{candidate % 10_000:04d}"
        if iin_check_digit(first11) is not None:
            return with_iin_check(first11)
    raise AssertionError("unreachable: at most 1 in 11 serials lacks a check digit")


def iin_oracle_valid(digits: str) -> bool:
    """Decide IIN validity independently: check digit, century digit, real past date."""
    if iin_check_digit(digits[:11]) != int(digits[11]):
        return False
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}.get(digits[6])
    if century is None:
        return False
    try:
        born = date(century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    return born <= date.today()


def snils_check_number(first9: str) -> int:
    """Return the SNILS check number per the Pension Fund rule."""
    total = sum(int(d) * w for d, w in zip(first9, range(9, 0, -1), strict=True))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    return 0 if total % 101 == 100 else total % 101


def make_snils(first9: str) -> str:
    """Build a formatted SNILS with its check number."""
    check = snils_check_number(first9)
    return f"{first9[:3]}-{first9[3:6]}-{first9[6:]} {check:02d}"


# Birth dates a valid IIN can hold: the 1800s, 1900s and 2000s, never in the future.
past_dates = st.dates(min_value=date(1800, 1, 1), max_value=date.today())
genders = st.sampled_from([MALE, FEMALE])


@st.composite
def valid_iins(draw: st.DrawFn) -> str:
    """Draw a valid IIN from a random date, sex and serial."""
    born, gender = draw(past_dates), draw(genders)
    century_digit = {18: 1, 19: 3, 20: 5}[born.year // 100] + (gender == FEMALE)
    first11 = f"{born:%y%m%d}{century_digit}{draw(st.integers(0, 9999)):04d}"
    assume(iin_check_digit(first11) is not None)
    return with_iin_check(first11)


# --- IIN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iin", "born", "gender"),
    [
        ("900525301239", date(1990, 5, 25), MALE),
        ("021109600454", date(2002, 11, 9), FEMALE),
        ("851214400782", date(1985, 12, 14), FEMALE),
        ("000101500001", date(2000, 1, 1), MALE),
        ("991231405675", date(1999, 12, 31), FEMALE),
        # First remainder is 10, so the check digit comes from the fallback weights.
        ("900525300309", date(1990, 5, 25), MALE),
    ],
)
def test_known_valid_iins(iin: str, born: date, gender: int) -> None:
    assert iin_check_digit(iin[:11]) == int(iin[11])
    assert check_iin(iin) is None
    assert check_iin(iin, birth_date=born, gender=gender) is None
    assert iin_birth_date(iin) == born
    assert iin_gender(iin) == gender


def test_fallback_weights_example_really_uses_them() -> None:
    assert iin_first_remainder("90052530030") == 10


def test_helper_builds_iins_for_every_century_and_sex() -> None:
    for born in (date(1899, 12, 31), date(1950, 2, 28), date(2000, 2, 29), date(2010, 7, 1)):
        for gender in (MALE, FEMALE):
            iin = make_iin(born, gender)
            assert check_iin(iin, birth_date=born, gender=gender) is None
            assert iin_gender(iin) == gender


@pytest.mark.parametrize("spaced", ["900525 301239", " 9005 2530 1239 ", "900525\u00a0301239"])
def test_iin_spaces_are_ignored(spaced: str) -> None:
    assert check_iin(spaced) is None
    assert iin_birth_date(spaced) == date(1990, 5, 25)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "90052530123",  # 11 digits
        "9005253012390",  # 13 digits
        "90052530123X",
        "900525-301239",
        "\uff19\uff10\uff10\uff15\uff12\uff15\uff13\uff10\uff11\uff12\uff13\uff19",  # fullwidth
        "\u0669\u0660\u0660\u0665\u0662\u0665\u0663\u0660\u0661\u0662\u0663\u0669",  # Arabic
        "900525301239\n1",
    ],
)
def test_iin_format_errors(value: str) -> None:
    assert check_iin(value) is IdError.FORMAT
    assert iin_birth_date(value) is None
    assert iin_gender(value) is None


def test_iin_wrong_check_digit() -> None:
    assert check_iin("900525301238") is IdError.CHECKSUM


def test_iin_with_no_possible_check_digit_is_rejected() -> None:
    first11 = "90052530036"
    assert iin_check_digit(first11) is None
    for last in "0123456789":
        assert check_iin(first11 + last) is IdError.CHECKSUM


@pytest.mark.parametrize(
    "first11",
    [
        "90132530123",  # month 13
        "90023030123",  # 30 February
        "01022950123",  # 29 February 2001
    ],
)
def test_iin_impossible_dates(first11: str) -> None:
    iin = with_iin_check(first11)
    assert check_iin(iin) is IdError.DATE
    assert iin_birth_date(iin) is None


@pytest.mark.parametrize("first11", ["90052500123", "90052570123", "90052590123"])
def test_iin_impossible_century_digit(first11: str) -> None:
    iin = with_iin_check(first11)
    assert check_iin(iin) == SEX_DIGIT
    assert iin_birth_date(iin) is None
    assert iin_gender(iin) is None


def wrong_check(first11: str) -> str:
    """Append a check digit that is not the right one."""
    right = iin_check_digit(first11)
    return first11 + str(((right or 0) + 1) % 10)


@pytest.mark.parametrize(
    ("first11", "expected"),
    [
        ("90132530123", IdError.DATE),  # month 13
        ("90023030123", IdError.DATE),  # 30 February
        ("90052570123", SEX_DIGIT),  # century digit 7
        ("90132570123", SEX_DIGIT),  # both: the century comes first, as it is read first
    ],
)
def test_iin_date_and_century_are_reported_before_the_check_digit(
    first11: str, expected: str
) -> None:
    # The person can check a date or a century against their own life; "some digit is wrong"
    # tells them nothing they can act on.
    assert check_iin(wrong_check(first11)) == expected
    assert check_national_id("KZ", wrong_check(first11)) == expected


def test_iin_mismatch_is_reported_before_the_check_digit() -> None:
    iin = wrong_check("90052530123")
    assert check_iin(iin) is IdError.CHECKSUM
    assert check_iin(iin, birth_date=date(1990, 5, 26)) is IdError.BIRTH_DATE_MISMATCH
    assert check_iin(iin, gender=FEMALE) is IdError.GENDER_MISMATCH


def test_iin_leap_day_is_a_date() -> None:
    iin = make_iin(date(2000, 2, 29), FEMALE)
    assert check_iin(iin) is None


def test_iin_future_birth_date_is_rejected() -> None:
    future = date.today() + timedelta(days=400)
    iin = with_iin_check(f"{future:%y%m%d}50001")
    assert check_iin(iin) is IdError.DATE


def test_iin_birth_date_mismatch() -> None:
    iin = make_iin(date(1990, 5, 25), MALE)
    assert check_iin(iin, birth_date=date(1990, 5, 26)) is IdError.BIRTH_DATE_MISMATCH
    # Same day and month a century apart is still a different person.
    assert check_iin(iin, birth_date=date(2090, 5, 25)) is IdError.BIRTH_DATE_MISMATCH


def test_iin_gender_mismatch() -> None:
    male = make_iin(date(1990, 5, 25), MALE)
    female = make_iin(date(1990, 5, 25), FEMALE)
    assert check_iin(male, gender=FEMALE) is IdError.GENDER_MISMATCH
    assert check_iin(female, gender=MALE) is IdError.GENDER_MISMATCH


@pytest.mark.parametrize("gender", [UNKNOWN, NOT_APPLICABLE, None])
def test_iin_gender_without_claim_is_not_compared(gender: int | None) -> None:
    assert check_iin(make_iin(date(1990, 5, 25), FEMALE), gender=gender) is None


def test_iin_birth_date_mismatch_is_reported_before_gender() -> None:
    iin = make_iin(date(1990, 5, 25), MALE)
    result = check_iin(iin, birth_date=date(1991, 1, 1), gender=FEMALE)
    assert result is IdError.BIRTH_DATE_MISMATCH


def test_iin_decoders_ignore_the_check_digit() -> None:
    assert iin_birth_date("900525301230") == date(1990, 5, 25)
    assert iin_gender("900525401230") == FEMALE


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_twelve_digits_agree_with_the_reference(digits: str) -> None:
    result = check_iin(digits)
    assert result is None or isinstance(result, IdError)
    assert result is not IdError.FORMAT
    assert (result is None) == iin_oracle_valid(digits)


@given(valid_iins())
def test_generated_iins_are_valid(iin: str) -> None:
    assert check_iin(iin, birth_date=iin_birth_date(iin), gender=iin_gender(iin)) is None


@given(valid_iins(), st.integers(0, 11), st.integers(1, 9))
def test_single_digit_change(iin: str, position: int, shift: int) -> None:
    new_digit = (int(iin[position]) + shift) % 10
    changed = iin[:position] + str(new_digit) + iin[position + 1 :]
    result = check_iin(changed)
    # Exact agreement with the reference covers every case, including the lucky ones.
    assert (result is None) == iin_oracle_valid(changed)

    if result in (IdError.DATE, SEX_DIGIT):
        # A change in the date or century digit that makes them impossible is named as such.
        assert position <= 6 and iin_birth_date(changed) is None
    elif position == 11:
        # The check digit never feeds its own computation, so any change to it is caught.
        assert result is IdError.CHECKSUM
    elif position == 10 and iin_first_remainder(iin[:11]) != 10:
        # Digit 11 has weight 11 = 0 (mod 11) in the first pass: the checksum cannot see it.
        # It is a serial digit, so the date is untouched and the changed IIN stays valid.
        assert result is None
    elif iin_first_remainder(iin[:11]) != 10 and iin_first_remainder(changed[:11]) != 10:
        # Weights 1-10 times a shift of 1-9 are never 0 mod 11 (11 is prime), so the first
        # remainder, which is the check digit here, must differ: the checksum catches it.
        assert result is IdError.CHECKSUM
    # Remaining cases switch between the two weight sets; a change may then go unnoticed
    # by chance, and the reference comparison above is the whole claim.


def test_digit_eleven_blind_spot_is_real() -> None:
    iin = "900525301239"
    assert iin_first_remainder(iin[:11]) != 10
    for digit in "0123456789":
        assert check_iin(iin[:10] + digit + iin[11]) is None


# --- SNILS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "snils",
    [
        "112-233-445 95",
        "11223344595",
        "112 233 445 95",
        " 112-233-445-95 ",
        "100-582-052 99",  # sum 99: check is the sum
        "050-234-316 00",  # sum 100
        "016-103-396 00",  # sum 101
        "136-571-200 49",  # sum 150: 150 mod 101
        "820-981-233 00",  # sum 201: mod 101 gives 100, which becomes 00
        "999-999-997 00",  # sum 403: mod 101 gives 100, which becomes 00
    ],
)
def test_valid_snils(snils: str) -> None:
    assert check_snils(snils) is None
    assert check_national_id("RU", snils) is None


@pytest.mark.parametrize(
    ("first9", "check"),
    [
        ("112233445", 95),
        ("100582052", 99),
        ("050234316", 0),
        ("016103396", 0),
        ("136571200", 49),
        ("820981233", 0),
        ("999999997", 0),
    ],
)
def test_snils_reference_check_numbers(first9: str, check: int) -> None:
    assert snils_check_number(first9) == check


@pytest.mark.parametrize(
    "snils", ["112-233-445 94", "050-234-316 01", "820-981-233 01", "999-999-997 99"]
)
def test_snils_checksum_errors(snils: str) -> None:
    assert check_snils(snils) is IdError.CHECKSUM


@pytest.mark.parametrize(
    "snils",
    [
        "",
        "112-233-445 9",
        "112-233-445 955",
        "050-234-316 100",  # check number 100 is written 00, never 100
        "112.233.445 95",
        "112-233-44a 95",
        "СНИЛС",
    ],
)
def test_snils_format_errors(snils: str) -> None:
    assert check_snils(snils) is IdError.FORMAT


@pytest.mark.parametrize("snils", ["001-001-998 00", "001-001-998 99", "000-000-001 37"])
def test_early_snils_are_not_checksummed(snils: str) -> None:
    assert check_snils(snils) is None


@pytest.mark.parametrize(
    "snils", ["000-000-000 00", "00000000000", "000 000 000 00", "000-000-000 37"]
)
def test_the_blank_snils_is_never_issued(snils: str) -> None:
    # Its first nine digits are below 001-001-998, so the check number cannot refuse it.
    assert check_snils(snils) == NOT_ISSUED
    assert check_national_id("RU", snils) == NOT_ISSUED


@pytest.mark.parametrize("first9", ["111222333", "100000001", "555123999"])
def test_snils_with_a_digit_three_times_in_a_row_is_not_refused(first9: str) -> None:
    # The "no digit three times in a row" rule is in no Pension Fund text: a real number with
    # a correct check number must pass.
    assert check_snils(make_snils(first9)) is None


def test_first_checksummed_snils() -> None:
    assert check_snils(make_snils("001001999")) is None
    assert check_snils("001-001-999 00") is IdError.CHECKSUM


def test_normalize_snils() -> None:
    assert normalize_snils("11223344595") == "112-233-445 95"
    assert normalize_snils(" 112 233 445 95") == "112-233-445 95"
    with pytest.raises(ValueError, match="11 digits"):
        normalize_snils("1122334459")


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_snils_agrees_with_the_reference(first9: str) -> None:
    snils = make_snils(first9)
    assert normalize_snils(snils.replace("-", "").replace(" ", "")) == snils
    if int(first9) == 0:
        assert check_snils(snils) == NOT_ISSUED
        return
    assert check_snils(snils) is None
    if int(first9) > 1_001_998:
        wrong = (snils_check_number(first9) + 1) % 100
        assert check_snils(f"{first9}{wrong:02d}") is IdError.CHECKSUM


# --- Kyrgyz PIN --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pin", "born", "gender"),
    [
        ("22505199000012", date(1990, 5, 25), MALE),
        ("10101200112345", date(2001, 1, 1), FEMALE),
        ("12902200000001", date(2000, 2, 29), FEMALE),
        ("23112194599999", date(1945, 12, 31), MALE),
    ],
)
def test_valid_kg_pins(pin: str, born: date, gender: int) -> None:
    assert check_kg_pin(pin) is None
    assert check_kg_pin(pin, birth_date=born, gender=gender) is None
    assert check_national_id("KG", pin, birth_date=born, gender=gender) is None


def test_kg_pin_spaces_are_ignored() -> None:
    assert check_kg_pin("2 25051990 00012") is None


@pytest.mark.parametrize(
    "pin",
    [
        "",
        "2250519900001",  # 13 digits
        "225051990000123",  # 15 digits
        "2250519900001A",
    ],
)
def test_kg_pin_format_errors(pin: str) -> None:
    assert check_kg_pin(pin) is IdError.FORMAT


@pytest.mark.parametrize(
    "pin",
    [
        "32505199000012",  # sex digit 3
        "02505199000012",  # sex digit 0
        "93102199000012",  # sex digit 9 and 31 February: the sex digit is read first
    ],
)
def test_kg_pin_sex_digit_errors(pin: str) -> None:
    assert check_kg_pin(pin) == SEX_DIGIT
    assert check_national_id("KG", pin) == SEX_DIGIT


@pytest.mark.parametrize(
    "pin",
    [
        "23102199000012",  # 31 February
        "20001199000012",  # day 00
        "22513199000012",  # month 13
        "22902200100001",  # 29 February 2001
        "20101189900001",  # 1899
        "20101099000001",  # year 0990
    ],
)
def test_kg_pin_date_errors(pin: str) -> None:
    assert check_kg_pin(pin) is IdError.DATE


def test_kg_pin_future_date() -> None:
    future = date.today() + timedelta(days=2)
    assert check_kg_pin(f"1{future:%d%m%Y}00001") is IdError.DATE


def test_kg_pin_mismatches() -> None:
    male = "22505199000012"
    assert check_kg_pin(male, gender=FEMALE) is IdError.GENDER_MISMATCH
    assert check_kg_pin("1" + male[1:], gender=MALE) is IdError.GENDER_MISMATCH
    assert check_kg_pin(male, birth_date=date(1990, 5, 24)) is IdError.BIRTH_DATE_MISMATCH
    assert check_kg_pin(male, gender=UNKNOWN) is None


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date.today()),
    genders,
    st.integers(0, 99_999),
)
def test_any_kg_serial_is_accepted(born: date, gender: int, serial: int) -> None:
    # There is no public check digit, so every serial must pass.
    sex_digit = "2" if gender == MALE else "1"
    pin = f"{sex_digit}{born:%d%m%Y}{serial:05d}"
    assert check_kg_pin(pin, birth_date=born, gender=gender) is None


# --- Dispatch and normalisation ----------------------------------------------------------------


def test_dispatch_by_country() -> None:
    iin = make_iin(date(1990, 5, 25), MALE)
    assert check_national_id("KZ", iin) is None
    assert check_national_id(" kz ", iin, gender=FEMALE) is IdError.GENDER_MISMATCH
    assert check_national_id("KZ", "112-233-445 95") is IdError.FORMAT
    assert check_national_id("RU", iin) is IdError.FORMAT
    # SNILS carries neither birth date nor sex, so nothing is compared.
    ru = check_national_id("RU", "112-233-445 95", birth_date=date(2000, 1, 1), gender=FEMALE)
    assert ru is None
    assert check_national_id("kg", "22505199000012", gender=FEMALE) is IdError.GENDER_MISMATCH


@pytest.mark.parametrize(
    "value", ["AB1234567", "12345678901234", "X-1 2", "a", "Ё123", "A" * 32, "  AB 12  "]
)
def test_other_countries_accept_plain_ids(value: str) -> None:
    assert check_national_id("UZ", value) is None


@pytest.mark.parametrize(
    "value",
    ["", "   ", "A" * 33, "<script>", "AB/123", "AB_123", "AB.123", "---", "AB\t12"],
)
def test_other_countries_reject_malformed_ids(value: str) -> None:
    assert check_national_id("DE", value) is IdError.FORMAT


def test_normalize_national_id() -> None:
    assert normalize_national_id("KZ", " 9005 2530 1239 ") == "900525301239"
    assert normalize_national_id("kg", "2 25051990 00012") == "22505199000012"
    assert normalize_national_id("RU", "11223344595") == "112-233-445 95"
    assert normalize_national_id("uz", "  ab-123 x ") == "AB-123 X"


@pytest.mark.parametrize(
    ("country", "value"), [("KZ", "9005"), ("RU", "112"), ("KG", "3250519900001"), ("TR", "")]
)
def test_normalize_national_id_rejects_malformed(country: str, value: str) -> None:
    with pytest.raises(ValueError, match="malformed"):
        normalize_national_id(country, value)


def test_normalize_keeps_checksum_errors_normalisable() -> None:
    # Normalising is about shape; validity is check_national_id's job.
    assert normalize_national_id("RU", "11223344594") == "112-233-445 94"


def test_id_error_values_are_stable_strings() -> None:
    assert [error.value for error in IdError] == [
        "format",
        "checksum",
        "date",
        "birth_date_mismatch",
        "gender_mismatch",
        "sex_digit",
        "not_issued",
    ]
    assert IdError("checksum") is IdError.CHECKSUM
