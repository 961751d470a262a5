"""Countries (ISO 3166-1 alpha-2) and languages (ISO 639-1) named from Babel's CLDR data."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from babel import Locale

# Codes Babel lists as territories that are not ISO 3166-1 alpha-2 country codes: exceptionally
# reserved codes (AC, CP, CQ, DG, EA, IC, TA), groupings (EU, EZ, UN, QO), pseudo-locales
# (XA, XB), Kosovo's user-assigned XK and the unknown region ZZ.
_NOT_ISO_3166 = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"}
)
# Two-letter codes Babel names that ISO 639-1 has withdrawn (Serbo-Croatian).
_NOT_ISO_639_1 = frozenset({"sh"})

PRIORITY_COUNTRIES: tuple[str, ...] = ("KZ", "RU", "KG")
PRIORITY_LANGUAGES: tuple[str, ...] = ("kk", "ky", "ru", "en")

_ALPHABETS: dict[str, str] = {
    "kk": "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯ",
    "ky": "АБВГДЕЁЖЗИЙКЛМНҢОӨПРСТУҮФХЦЧШЩЪЫЬЭЮЯ",
    "ru": "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
    "en": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
}
_LETTER_ORDERS: dict[str, dict[str, int]] = {
    language: {letter.casefold(): index for index, letter in enumerate(letters)}
    for language, letters in _ALPHABETS.items()
}

# Sort groups of alphabet_key: separators first (as in a dictionary), then digits, then the
# locale's letters in alphabet order, then everything else by casefolded code point.
_SEPARATOR, _DIGIT, _LETTER, _OTHER = range(4)


def _language_of(locale: str | Locale) -> str:
    """Return the bare language code ("kk") of a locale ("kk", "kk_KZ", "kk-KZ" or a Locale)."""
    if isinstance(locale, Locale):
        return locale.language
    return str(locale).replace("-", "_").split("_", 1)[0].lower()


def _locale_id(locale: str | Locale) -> str:
    """Normalise a locale to Babel's identifier, raising for unknown locales."""
    if isinstance(locale, Locale):
        return str(locale)
    return str(Locale.parse(str(locale).replace("-", "_")))


def _capitalize_first(text: str) -> str:
    """Upper-case the first character only, as CLDR does for names shown in menus."""
    return text[:1].upper() + text[1:]


def _unaccented(char: str) -> str:
    """Strip combining marks from a character's compatibility decomposition."""
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def alphabet_key(text: str, locale: str | Locale) -> tuple[tuple[int, int], ...]:
    """Build a sort key ordering `text` by the alphabet of `locale` (kk, ky, ru or en)."""
    order = _LETTER_ORDERS.get(_language_of(locale), {})
    key: list[tuple[int, int]] = []
    for original in text.casefold():
        for char in original if original in order else _unaccented(original):
            if char in order:
                key.append((_LETTER, order[char]))
            elif unicodedata.combining(char):
                continue
            elif char.isspace() or unicodedata.category(char)[0] in "PZ":
                key.append((_SEPARATOR, ord(char)))
            elif char.isdecimal():
                key.append((_DIGIT, unicodedata.decimal(char)))
            else:
                key.append((_OTHER, ord(char)))
    return tuple(key)


def _sorted_names(
    names: dict[str, str], first: tuple[str, ...], locale: str
) -> tuple[tuple[str, str], ...]:
    """Return (code, name) pairs: `first` in that order, the rest in alphabet order."""
    head = [(code, names[code]) for code in first if code in names]
    rest = [(code, name) for code, name in names.items() if code not in first]
    rest.sort(key=lambda item: (alphabet_key(item[1], locale), item[1], item[0]))
    return tuple(head + rest)


def _iso_countries(locale: Locale) -> dict[str, str]:
    """Return the ISO 3166-1 alpha-2 countries Babel names in `locale`."""
    return {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2
        and code.isascii()
        and code.isalpha()
        and code.isupper()
        and code not in _NOT_ISO_3166
    }


def _iso_languages(locale: Locale) -> dict[str, str]:
    """Return the ISO 639-1 languages Babel names in `locale`, capitalised for menus."""
    return {
        code: _capitalize_first(name)
        for code, name in locale.languages.items()
        if len(code) == 2
        and code.isascii()
        and code.isalpha()
        and code.islower()
        and code not in _NOT_ISO_639_1
    }


_ENGLISH = Locale("en")
COUNTRY_CODES: frozenset[str] = frozenset(_iso_countries(_ENGLISH))
LANGUAGE_CODES: frozenset[str] = frozenset(_iso_languages(_ENGLISH))


@lru_cache(maxsize=32)
def _country_table(locale_id: str) -> tuple[tuple[str, str], ...]:
    """Build and cache the ordered country choices of one locale."""
    names = _iso_countries(Locale.parse(locale_id))
    return _sorted_names(names, PRIORITY_COUNTRIES, locale_id)


@lru_cache(maxsize=32)
def _language_table(locale_id: str) -> tuple[tuple[str, str], ...]:
    """Build and cache the ordered language choices of one locale."""
    names = _iso_languages(Locale.parse(locale_id))
    return _sorted_names(names, PRIORITY_LANGUAGES, locale_id)


def country_choices(locale: str | Locale) -> list[tuple[str, str]]:
    """Return (code, name) pairs: KZ, RU, KG, then every other country in alphabet order."""
    return list(_country_table(_locale_id(locale)))


def country_name(code: str, locale: str | Locale) -> str:
    """Return the name of an ISO 3166-1 alpha-2 country in `locale` (English if unnamed)."""
    code = code.upper()
    if code not in COUNTRY_CODES:
        raise KeyError(code)
    names = dict(_country_table(_locale_id(locale)))
    return names.get(code) or _ENGLISH.territories[code]


def language_choices(locale: str | Locale) -> list[tuple[str, str]]:
    """Return (code, name) pairs: kk, ky, ru, en, then the languages named in `locale`."""
    return list(_language_table(_locale_id(locale)))


def language_name(code: str, locale: str | Locale) -> str:
    """Return the name of an ISO 639-1 language in `locale` (English if unnamed)."""
    code = code.lower()
    if code not in LANGUAGE_CODES:
        raise KeyError(code)
    names = dict(_language_table(_locale_id(locale)))
    return names.get(code) or _capitalize_first(_ENGLISH.languages[code])
