"""Transliterate Cyrillic names to passport Latin and check name strings for script abuse."""

from __future__ import annotations

import itertools
import re
import unicodedata

__all__ = [
    "has_mixed_scripts",
    "is_cyrillic_name",
    "is_latin_passport_name",
    "latin_from_cyrillic",
    "suggest_latin_name",
]

# ICAO Doc 9303, 7th edition (2015), part 3, as printed in Russian passports since 2014.
_RUSSIAN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia",
}  # fmt: skip

# Doc 9303 has no row for these letters; this is what Kazakhstan passports print in practice.
# Й stays ICAO "I": Kazakh and Kyrgyz documents sometimes print "Y", but not by any fixed rule,
# so the ICAO value is the one default that agrees with the rest of the table.
_KAZAKH = {
    **_RUSSIAN,
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}  # fmt: skip
_KYRGYZ = {**_RUSSIAN, "ң": "n", "ө": "o", "ү": "u"}

_TABLES = {"ru": _RUSSIAN, "kk": _KAZAKH, "ky": _KYRGYZ}
# Kazakh contains every letter of the other two alphabets, with the same mappings.
_ALL_LETTERS = _KAZAKH

# Phones and word processors turn the apostrophe into these; keep one canonical form.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})
_SEPARATORS = frozenset(" -'")

_CYRILLIC_LOWER = "".join(_ALL_LETTERS)
_CYRILLIC_LETTERS = frozenset(_CYRILLIC_LOWER + _CYRILLIC_LOWER.upper())
_LATIN_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NAME_MAX_LENGTH = 100

_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")


def _table_for(lang: str) -> dict[str, str]:
    """Return the table for a language tag such as "kk" or "kk-KZ", Russian if unknown."""
    primary = re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]
    return _TABLES.get(primary, _RUSSIAN)


def _is_latin_letter(char: str) -> bool:
    """Return True if char is a letter of the Latin script."""
    return char.isalpha() and "LATIN" in unicodedata.name(char, "").split()


def _is_cyrillic_letter(char: str) -> bool:
    """Return True if char is a letter of the Cyrillic script."""
    return char.isalpha() and "CYRILLIC" in unicodedata.name(char, "").split()


def _transliterate_letter(char: str, table: dict[str, str]) -> str:
    """Return the lower-case Latin for one letter, the letter itself if Latin, else ""."""
    lower = char.lower()
    if lower in table:
        return table[lower]
    # A letter from another supported alphabet is still better transliterated than lost.
    if lower in _ALL_LETTERS:
        return _ALL_LETTERS[lower]
    if _is_latin_letter(char):
        return lower
    return ""


def _transliterate_word(word: str, table: dict[str, str]) -> str:
    """Transliterate one run of letters, turning ALL-CAPS and Title-case words to Title case."""
    parts = [_transliterate_letter(char, table) for char in word]
    if word.isupper() or word.istitle():
        return "".join(parts).capitalize()
    # Mixed case such as "МакДональд": keep each source letter's case on its Latin letters.
    return "".join(
        part.capitalize() if char.isupper() else part
        for char, part in zip(word, parts, strict=True)
    )


def latin_from_cyrillic(text: str, lang: str = "ru") -> str:
    """Transliterate Cyrillic text to Latin using the ICAO table extended for lang."""
    table = _table_for(lang)
    # NFC joins a decomposed Й or Ё; remaining marks (such as stress accents) are dropped so
    # they cannot split a word and upset its case handling.
    composed = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    cleaned = "".join(
        " " if char.isspace() else char
        for char in composed
        if not unicodedata.category(char).startswith("M")
    )
    pieces: list[str] = []
    for is_letter, group in itertools.groupby(cleaned, key=str.isalpha):
        chunk = "".join(group)
        if is_letter:
            pieces.append(_transliterate_word(chunk, table))
        else:
            pieces.append("".join(char for char in chunk if char in _SEPARATORS))
    # Lower-casing or capitalising some Latin letters (İ, ß) yields combining marks or
    # other non-letters; drop them so the result holds only Latin letters and separators.
    return "".join(
        char for char in "".join(pieces) if char in _SEPARATORS or _is_latin_letter(char)
    )


def suggest_latin_name(native: str, lang: str) -> str:
    """Suggest a Title-case passport spelling for a name written in Cyrillic."""
    latin = latin_from_cyrillic(native, lang)
    titled = _LETTER_RUN_RE.sub(lambda match: match.group().capitalize(), latin)
    return " ".join(titled.split())


def has_mixed_scripts(text: str) -> bool:
    """Return True if any whitespace-separated word mixes Cyrillic and Latin letters."""
    # NFKC folds fullwidth and mathematical letters to plain Latin, which are lookalikes too.
    for word in unicodedata.normalize("NFKC", text).split():
        has_cyrillic = any(_is_cyrillic_letter(char) for char in word)
        if has_cyrillic and any(_is_latin_letter(char) for char in word):
            return True
    return False


def _is_name(text: str, letters: frozenset[str]) -> bool:
    """Return True for 1-100 characters of letters and separators with at least one letter."""
    return (
        0 < len(text) <= _NAME_MAX_LENGTH
        and all(char in letters or char in _SEPARATORS for char in text)
        and any(char in letters for char in text)
    )


def is_cyrillic_name(text: str) -> bool:
    """Return True for a name in Russian, Kazakh or Kyrgyz Cyrillic letters (NFC expected)."""
    return _is_name(text, _CYRILLIC_LETTERS)


def is_latin_passport_name(text: str) -> bool:
    """Return True for a name using only A-Z, a-z, spaces, hyphens and apostrophes."""
    return _is_name(text, _LATIN_LETTERS)
