"""Tests for portal.reference: ISCED-F fields, levels, GPA scales, countries and languages."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import Babel, LazyString, force_locale

from portal.reference import (
    BROAD_FIELDS,
    CEFR_LEVELS,
    COUNTRY_CODES,
    EQF_LEVELS,
    GENDERS,
    GPA_SCALES,
    ISCED_FIELDS,
    LANGUAGE_CODES,
    alphabet_key,
    broad_of,
    cefr_at_least,
    cefr_choices,
    cefr_rank,
    country_choices,
    country_name,
    gender_choices,
    gpa_choices,
    gpa_range,
    isced_choices,
    isced_grouped_choices,
    isced_name,
    language_choices,
    language_name,
    normalize_gpa,
)

LOCALES = ("en", "ru", "kk", "ky")


@pytest.fixture
def app_ctx() -> Iterator[Flask]:
    """Push an app context of a minimal Flask app with Flask-Babel."""
    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        yield app


# ISCED-F


def test_isced_codes_are_three_digits_with_existing_broad_field() -> None:
    """Check every narrow code has 3 digits and belongs to a known broad field."""
    assert len(ISCED_FIELDS) == 39
    for code in ISCED_FIELDS:
        assert len(code) == 3
        assert code.isdigit()
        assert broad_of(code) in BROAD_FIELDS
    assert list(ISCED_FIELDS) == sorted(ISCED_FIELDS)


def test_broad_fields_are_the_official_twelve() -> None:
    """Check the 11 broad fields plus 99 are present, in code order."""
    assert list(BROAD_FIELDS) == [f"{n:02d}" for n in range(11)] + ["99"]


def test_every_broad_field_except_unknown_has_narrow_fields() -> None:
    """Check no broad field other than 99 is left without narrow fields."""
    used = {broad_of(code) for code in ISCED_FIELDS}
    assert used == set(BROAD_FIELDS) - {"99"}


def test_interdisciplinary_fields_are_included() -> None:
    """Check the official x8 inter-disciplinary narrow fields are listed."""
    assert {"018", "028", "038", "048", "058", "068", "078", "088", "098", "108"} <= set(
        ISCED_FIELDS
    )


def test_isced_strings_are_lazy() -> None:
    """Check names are lazy strings, so the catalogue can translate them."""
    assert all(isinstance(name, LazyString) for name in ISCED_FIELDS.values())
    assert all(isinstance(name, LazyString) for name in BROAD_FIELDS.values())


@pytest.mark.usefixtures("app_ctx")
def test_isced_choices() -> None:
    """Check choices carry the code in the label and keep code order."""
    choices = isced_choices()
    assert [code for code, _ in choices] == list(ISCED_FIELDS)
    assert ("061", "061 Information and Communication Technologies (ICTs)") in choices
    assert all(isinstance(label, str) for _, label in choices)
    with force_locale("ru"):
        assert isced_choices()[0] == ("001", "001 Basic programmes and qualifications")


@pytest.mark.usefixtures("app_ctx")
def test_isced_grouped_choices() -> None:
    """Check grouped choices nest narrow fields under their broad field."""
    groups = isced_grouped_choices()
    assert next(iter(groups)) == "00 Generic programmes and qualifications"
    assert groups["04 Business, administration and law"] == [
        ("041", "041 Business and administration"),
        ("042", "042 Law"),
        (
            "048",
            (
                "048 Inter-disciplinary programmes and qualifications involving business, "
                "administration and law"
            ),
        ),
    ]
    assert sum(len(items) for items in groups.values()) == len(ISCED_FIELDS)


@pytest.mark.usefixtures("app_ctx")
def test_isced_name() -> None:
    """Check names resolve for narrow and broad codes and fail for others."""
    assert isced_name("042") == "Law"
    assert isced_name("10") == "Services"
    assert isced_name("99") == "Field unknown"
    with pytest.raises(KeyError):
        isced_name("999")


@pytest.mark.parametrize(("code", "broad"), [("061", "06"), ("0613", "06"), ("10", "10")])
def test_broad_of(code: str, broad: str) -> None:
    """Check the broad field is the first two digits."""
    assert broad_of(code) == broad


@pytest.mark.parametrize("code", ["", "6", "abc", "12345", "11", "115", "٠٦١"])
def test_broad_of_rejects_bad_codes(code: str) -> None:
    """Check malformed codes and unknown broad fields raise ValueError."""
    with pytest.raises(ValueError):
        broad_of(code)


# Levels


@pytest.mark.usefixtures("app_ctx")
def test_eqf_levels() -> None:
    """Check the three EQF levels render in English by default."""
    assert {level: str(label) for level, label in EQF_LEVELS.items()} == {
        6: "Bachelor (EQF 6)",
        7: "Master (EQF 7)",
        8: "Doctorate (EQF 8)",
    }


@pytest.mark.parametrize(
    ("level", "rank"),
    [
        ("A1", 1),
        ("A2", 2),
        ("B1", 3),
        ("B2", 4),
        ("C1", 5),
        ("C2", 6),
        ("native", 7),
        ("b2", 4),
        (" C1 ", 5),
        ("NATIVE", 7),
        ("D1", 0),
        ("", 0),
        (None, 0),
    ],
)
def test_cefr_rank(level: str | None, rank: int) -> None:
    """Check ranks for each level, case-insensitively, and 0 for unknown."""
    assert cefr_rank(level) == rank


def test_cefr_at_least() -> None:
    """Check level comparisons, native speakers and missing levels."""
    assert cefr_at_least("B2", "B2")
    assert cefr_at_least("C1", "B2")
    assert not cefr_at_least("B1", "B2")
    assert cefr_at_least("native", "C2")
    assert not cefr_at_least("C2", "native")
    assert not cefr_at_least(None, "A1")
    assert not cefr_at_least("fluent", "A1")
    assert cefr_at_least(None, None)
    assert cefr_at_least("A1", "")
    with pytest.raises(ValueError):
        cefr_at_least("B2", "Z9")


@pytest.mark.usefixtures("app_ctx")
def test_cefr_choices() -> None:
    """Check the six levels come first and native last, with its label."""
    choices = cefr_choices()
    assert [code for code, _ in choices] == [*CEFR_LEVELS, "native"]
    assert choices[-1] == ("native", "Native speaker")


def test_gpa_ranges() -> None:
    """Check the bounds of each scale."""
    assert gpa_range("kz4") == (Decimal(0), Decimal("4.0"))
    assert gpa_range("five") == (Decimal(2), Decimal(5))
    assert gpa_range("hundred") == (Decimal(0), Decimal(100))
    with pytest.raises(ValueError):
        gpa_range("ects")


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        (0, "kz4", "0.0"),
        (4, "kz4", "100.0"),
        (3.67, "kz4", "91.8"),
        (Decimal("3.0"), "kz4", "75.0"),
        (2, "five", "0.0"),
        (5, "five", "100.0"),
        (4, "five", "66.7"),
        (Decimal("3.5"), "five", "50.0"),
        (3, "five", "33.3"),
        (Decimal("4.95"), "five", "98.3"),
        (0, "hundred", "0.0"),
        (100, "hundred", "100.0"),
        (Decimal("87.25"), "hundred", "87.3"),
        (87.24, "hundred", "87.2"),
        (Decimal("-0"), "kz4", "0.0"),
    ],
)
def test_normalize_gpa(value: Decimal | float, scale: str, expected: str) -> None:
    """Check the 0-100 figure of edge and typical grades, rounded half up to one decimal."""
    result = normalize_gpa(value, scale)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "scale"),
    [
        (-0.1, "kz4"),
        (4.01, "kz4"),
        (Decimal("1.99"), "five"),
        (1, "five"),
        (5.5, "five"),
        (100.1, "hundred"),
        (-1, "hundred"),
        (float("nan"), "kz4"),
        (float("inf"), "hundred"),
        (Decimal("NaN"), "five"),
        (3, "ects"),
    ],
)
def test_normalize_gpa_rejects_bad_values(value: Decimal | float, scale: str) -> None:
    """Check out-of-range and non-finite values and unknown scales raise ValueError."""
    with pytest.raises(ValueError):
        normalize_gpa(value, scale)


@pytest.mark.parametrize("value", [True, "3.5", None])
def test_normalize_gpa_rejects_non_numbers(value: object) -> None:
    """Check booleans, strings and None raise TypeError."""
    with pytest.raises(TypeError):
        normalize_gpa(value, "kz4")  # type: ignore[arg-type]


@pytest.mark.usefixtures("app_ctx")
def test_gpa_choices() -> None:
    """Check the scale labels."""
    assert gpa_choices() == [
        ("kz4", "4.0 scale (Kazakhstan)"),
        ("five", "5-point scale"),
        ("hundred", "100-point scale"),
    ]
    assert set(GPA_SCALES) == {"kz4", "five", "hundred"}


@pytest.mark.usefixtures("app_ctx")
def test_genders() -> None:
    """Check all four ISO 5218 codes are kept."""
    assert set(GENDERS) == {0, 1, 2, 9}
    assert dict(gender_choices()) == {
        1: "Male",
        2: "Female",
        0: "Not known",
        9: "Not applicable",
    }


# Countries


@pytest.mark.parametrize("locale", LOCALES)
def test_country_choices_start_with_kz_ru_kg(locale: str) -> None:
    """Check the three home countries lead the list, once each."""
    codes = [code for code, _ in country_choices(locale)]
    assert codes[:3] == ["KZ", "RU", "KG"]
    assert len(codes) == len(set(codes)) == len(COUNTRY_CODES)


@pytest.mark.parametrize("locale", LOCALES)
def test_country_choices_rest_in_alphabet_order(locale: str) -> None:
    """Check everything after the home countries is sorted by the locale's alphabet."""
    rest = country_choices(locale)[3:]
    keys = [alphabet_key(name, locale) for _, name in rest]
    assert keys == sorted(keys)


def test_country_codes_are_iso_3166_alpha_2() -> None:
    """Check only real ISO 3166-1 codes are offered (249 of them)."""
    assert len(COUNTRY_CODES) == 249
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in COUNTRY_CODES)
    assert {"KZ", "RU", "KG", "UZ", "TJ", "TM", "AQ", "BV", "UM"} <= COUNTRY_CODES
    excluded = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "XK", "AC", "CP", "DG", "EA", "IC", "TA"}
    assert not excluded & COUNTRY_CODES


def test_country_names_differ_per_locale() -> None:
    """Check names come from the locale's CLDR data."""
    assert country_name("KZ", "kk") == "Қазақстан"
    assert country_name("KZ", "ru") == "Казахстан"
    assert country_name("KZ", "en") == "Kazakhstan"
    assert country_name("KG", "en") == "Kyrgyzstan"
    assert country_name("kz", "kk_KZ") == "Қазақстан"
    assert country_name("KZ", "kk-KZ") == "Қазақстан"
    assert len({country_name("KG", locale) for locale in LOCALES}) > 1


def test_country_name_rejects_non_iso_codes() -> None:
    """Check unknown or non-ISO codes raise KeyError."""
    for code in ("XK", "EU", "ZZ", "QQ"):
        with pytest.raises(KeyError):
            country_name(code, "en")


def test_country_choices_are_cached_but_not_shared() -> None:
    """Check callers get fresh lists they can mutate without harming the cache."""
    first = country_choices("ru")
    first.clear()
    assert len(country_choices("ru")) == len(COUNTRY_CODES)


# Alphabet ordering


def _ordered(words: list[str], locale: str) -> list[str]:
    """Sort words by alphabet_key for a locale."""
    return sorted(words, key=lambda word: alphabet_key(word, locale))


def test_kazakh_alphabet_order() -> None:
    """Check Kazakh letters sort in the Kazakh alphabet, not by code point."""
    assert _ordered(["Өзбекстан", "Оңтүстік Африка", "Пәкістан", "Оман"], "kk") == [
        "Оман",
        "Оңтүстік Африка",
        "Өзбекстан",
        "Пәкістан",
    ]
    assert _ordered(["Бахрейн", "Әзірбайжан", "Австрия"], "kk") == [
        "Австрия",
        "Әзірбайжан",
        "Бахрейн",
    ]
    assert _ordered(["Франция", "Үндістан", "Ұлыбритания", "Уганда"], "kk") == [
        "Уганда",
        "Ұлыбритания",
        "Үндістан",
        "Франция",
    ]
    assert _ordered(["Эстония", "Іле", "Ыстық"], "kk") == ["Ыстық", "Іле", "Эстония"]
    assert alphabet_key("Қытай", "kk") < alphabet_key("Латвия", "kk")
    assert alphabet_key("Қытай", "kk") > alphabet_key("Куба", "kk")


def test_kyrgyz_alphabet_order() -> None:
    """Check Kyrgyz letters Ң, Ө and Ү sort where the Kyrgyz alphabet puts them."""
    assert _ordered(["Пакистан", "Өзбекстан", "Оман"], "ky") == ["Оман", "Өзбекстан", "Пакистан"]
    assert _ordered(["Франция", "Түркия", "Үндүстан", "Уганда"], "ky") == [
        "Түркия",
        "Уганда",
        "Үндүстан",
        "Франция",
    ]
    assert alphabet_key("Аң", "ky") < alphabet_key("Ао", "ky")


def test_russian_alphabet_order() -> None:
    """Check Ё sorts as its own letter between Е and Ж, case-insensitively."""
    assert _ordered(["жук", "Ёлка", "ель"], "ru") == ["ель", "Ёлка", "жук"]
    assert alphabet_key("Армения", "ru") == alphabet_key("АРМЕНИЯ", "ru")


def test_alphabet_key_separators_digits_and_others() -> None:
    """Check separators come before letters, digits before letters, foreign letters after."""
    assert _ordered(["Санта", "Сан-Марино", "Сан Томе"], "ru")[-1] == "Санта"
    assert alphabet_key("1 курс", "ru") < alphabet_key("А", "ru")
    assert alphabet_key("Я", "ru") < alphabet_key("A", "ru")  # Latin A is not a Russian letter
    assert alphabet_key("Ω", "ru")[0][0] == alphabet_key("A", "ru")[0][0]


def test_alphabet_key_folds_accents_outside_the_alphabet() -> None:
    """Check accented Latin letters sort with their base letter in English."""
    assert _ordered(["Azerbaijan", "Åland Islands", "Albania"], "en") == [
        "Åland Islands",
        "Albania",
        "Azerbaijan",
    ]
    assert alphabet_key("Côte", "en") == alphabet_key("Cote", "en")
    assert alphabet_key("й", "ru") != alphabet_key("и", "ru")


# Languages


@pytest.mark.parametrize("locale", LOCALES)
def test_language_choices(locale: str) -> None:
    """Check kk, ky, ru, en lead, the rest is ISO 639-1 in alphabet order."""
    choices = language_choices(locale)
    codes = [code for code, _ in choices]
    assert codes[:4] == ["kk", "ky", "ru", "en"]
    assert len(codes) == len(set(codes))
    assert set(codes) <= LANGUAGE_CODES
    keys = [alphabet_key(name, locale) for _, name in choices[4:]]
    assert keys == sorted(keys)
    assert all(name[:1] == name[:1].upper() for _, name in choices)


def test_language_codes_are_iso_639_1() -> None:
    """Check the two-letter code list excludes withdrawn and three-letter codes."""
    assert len(LANGUAGE_CODES) == 183
    assert all(len(code) == 2 and code.islower() for code in LANGUAGE_CODES)
    assert "sh" not in LANGUAGE_CODES
    assert {"kk", "ky", "ru", "en", "uz", "tg", "tk", "tt"} <= LANGUAGE_CODES


def test_language_names() -> None:
    """Check names per locale, capitalised for menus, with English fallback."""
    assert language_name("kk", "en") == "Kazakh"
    assert language_name("kk", "ru") == "Казахский"
    assert language_name("EN", "ru") == "Английский"
    assert language_name("kk", "kk") != language_name("kk", "ky")
    unnamed = LANGUAGE_CODES - {code for code, _ in language_choices("kk")}
    for code in unnamed:
        assert language_name(code, "kk") == language_name(code, "en")
    with pytest.raises(KeyError):
        language_name("xx", "en")
    with pytest.raises(KeyError):
        language_name("kaz", "en")
