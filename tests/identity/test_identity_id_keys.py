"""The key under which two spellings of one national identifier are compared."""

from __future__ import annotations

import pytest

from portal.identity import national_id_key, normalize_national_id


@pytest.mark.parametrize(
    ("country", "first", "second"),
    [
        ("RU", "112-233-445 95", "11223344595"),
        ("RU", "112 233 445 95", "112-233-445-95"),
        ("KZ", "900525301239", "9005 2530 1239"),
        ("KG", "22505199000012", "2 25051990 00012"),
        ("UZ", "AB-123 X", "ab123x"),
    ],
)
def test_national_id_key_joins_spellings_of_one_number(
    country: str, first: str, second: str
) -> None:
    assert national_id_key(country, first) == national_id_key(country, second) != ""
    assert national_id_key(country, normalize_national_id(country, second)) == national_id_key(
        country, first
    )


def test_national_id_key_of_digits_is_the_digits() -> None:
    assert national_id_key("RU", normalize_national_id("RU", "11223344595")) == "11223344595"
    assert national_id_key("KZ", "900525301239") == "900525301239"


@pytest.mark.parametrize(("country", "value"), [("KZ", ""), ("KZ", None), ("", "900525301239")])
def test_national_id_key_is_empty_without_a_number_or_country(
    country: str, value: str | None
) -> None:
    assert national_id_key(country, value) == ""
