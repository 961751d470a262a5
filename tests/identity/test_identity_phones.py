"""Tests for phone number normalisation to E.164."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.identity import normalize_phone, phone_region


@pytest.mark.parametrize(
    ("raw", "region", "e164", "number_region"),
    [
        # Kazakhstan: mobile and Astana landline, national "8" prefix and international form.
        ("8 701 123 45 67", "KZ", "+77011234567", "KZ"),
        ("8 (777) 123-45-67", "KZ", "+77771234567", "KZ"),
        ("+7 747 123 45 67", None, "+77471234567", "KZ"),
        ("8 7172 12 34 56", "KZ", "+77172123456", "KZ"),
        # Russia: the +7 country code is shared, the number range decides the country.
        ("+7 916 123-45-67", "KZ", "+79161234567", "RU"),
        ("8 (916) 123-45-67", "RU", "+79161234567", "RU"),
        ("8 495 123 45 67", "RU", "+74951234567", "RU"),
        ("+79031234567", "RU", "+79031234567", "RU"),
        # Kyrgyzstan: national prefix 0, mobile and Bishkek landline.
        ("+996 555 123 456", None, "+996555123456", "KG"),
        ("0555 123 456", "KG", "+996555123456", "KG"),
        ("0700 123 456", "KG", "+996700123456", "KG"),
        ("0312 123 456", "KG", "+996312123456", "KG"),
        # International dialling prefixes differ: 00 in Kyrgyzstan, 810 in Russia.
        ("00996 555 123 456", "KG", "+996555123456", "KG"),
        ("810 996 555 123 456", "RU", "+996555123456", "KG"),
        # Non-geographic freephone: valid, but it belongs to no region.
        ("+800 1234 5678", None, "+80012345678", None),
    ],
)
def test_real_looking_numbers(
    raw: str, region: str | None, e164: str | None, number_region: str | None
) -> None:
    assert normalize_phone(raw, region) == e164
    if e164 is not None:
        assert phone_region(e164) == number_region


def test_shared_plus_seven_depends_on_default_region_only_for_national_format() -> None:
    # A national KZ mobile dialled with the RU default still lands in Kazakhstan's range.
    assert normalize_phone("8 701 123 45 67", "RU") == "+77011234567"
    assert phone_region("+77011234567") == "KZ"
    # Kyrgyz national format means something else under a +7 default region.
    assert normalize_phone("0555 123 456", "KG") == "+996555123456"
    assert normalize_phone("0555 123 456", "KZ") is None


@pytest.mark.parametrize("region", ["kz", " KZ ", "Kz"])
def test_region_is_case_insensitive(region: str) -> None:
    assert normalize_phone("8 701 123 45 67", region) == "+77011234567"


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "KZ"),
        ("   ", "KZ"),
        ("abc", "KZ"),
        ("+", None),
        ("123", "RU"),
        ("+7 123", None),
        ("8 701 123 45 67", None),  # national format without a region
        ("8 701 123 45 67", "XX"),  # unknown region
        ("8 701 123 45 67", ""),
        ("+7 701 123 45 67 89", None),  # too long for Kazakhstan
        ("8 727 123 45 67", "KZ"),  # unassigned range
        ("+77011234567 ext. 5", None),  # E.164 cannot hold an extension
        ("+7" + "1" * 200, None),
        ("+7 701 123 45 67" + " " * 100, None),  # guarded before parsing
        ("<script>alert(1)</script>", "KZ"),
        ("\x00\uffff\U0010ffff", "RU"),
    ],
)
def test_junk_is_rejected(raw: str, region: str | None) -> None:
    assert normalize_phone(raw, region) is None


@pytest.mark.parametrize("value", ["", "+", "77011234567", "+7 123", "+800 1234 5678", "junk"])
def test_phone_region_of_non_regional_input(value: str) -> None:
    assert phone_region(value) is None


@settings(deadline=None)
@given(
    st.text(max_size=300),
    st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["KZ", "RU", "KG", "US", "ZZ"])),
)
def test_normalize_never_raises(raw: str, region: str | None) -> None:
    result = normalize_phone(raw, region)
    if result is not None:
        assert result.startswith("+")
        assert result[1:].isascii()
        assert result[1:].isdigit()
        # E.164 output is a fixed point: normalising it again changes nothing.
        assert normalize_phone(result, None) == result


@settings(deadline=None)
@given(st.from_regex(r"\+?[0-9 ()\-]{0,20}", fullmatch=True), st.sampled_from(["KZ", "RU", "KG"]))
def test_digit_strings_never_raise(raw: str, region: str) -> None:
    result = normalize_phone(raw, region)
    assert result is None or normalize_phone(result, None) == result


@settings(deadline=None)
@given(st.text(max_size=300))
def test_phone_region_never_raises(value: str) -> None:
    region = phone_region(value)
    assert region is None or (len(region) == 2 and region.isupper())
