"""Transliterate Cyrillic names to passport Latin and check name strings for script abuse."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

__all__ = [
    "NAME_ALPHABETS",
    "alphabet_with_letters",
    "chosen_name_alphabet",
    "has_mixed_scripts",
    "is_cyrillic_name",
    "is_latin_passport_name",
    "is_legacy_kazakh_default",
    "latin_from_cyrillic",
    "letters_outside_alphabet",
    "lookalike_key",
    "mixed_script_words",
    "name_alphabet",
    "snapshot_name_alphabet",
    "suggest_latin_name",
    "unify_lookalikes",
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


def _mixes_scripts(word: str) -> bool:
    """Return True if the word holds both Cyrillic and Latin letters."""
    return any(_is_cyrillic_letter(char) for char in word) and any(
        _is_latin_letter(char) for char in word
    )


def mixed_script_words(text: str, *, hyphen_joins: bool = True) -> list[str]:
    """Return the words of text that mix Cyrillic and Latin letters, as NFKC folds them.

    For a person's name a hyphen joins (Ivan-Иван is refused); in the name of a thing it
    separates, since Russian writes compounds such as "IT-университет".
    """
    # NFKC folds fullwidth and mathematical letters to plain Latin, which are lookalikes too.
    folded = unicodedata.normalize("NFKC", text)
    words = folded.split() if hyphen_joins else _LETTER_RUN_RE.findall(folded)
    return [word for word in words if _mixes_scripts(word)]


def has_mixed_scripts(text: str) -> bool:
    """Return True if any whitespace-separated word mixes Cyrillic and Latin letters."""
    return bool(mixed_script_words(text))


# Latin letters that print like a Cyrillic one (and back): what a keyboard switched halfway
# through a word produces. Only the pairs that look the same in ordinary typefaces.
_LATIN_TO_CYRILLIC = {
    "A": "А", "a": "а", "B": "В", "C": "С", "c": "с", "E": "Е", "e": "е", "H": "Н",
    "h": "һ", "I": "І", "i": "і", "K": "К", "k": "к", "M": "М", "O": "О", "o": "о",
    "P": "Р", "p": "р", "T": "Т", "X": "Х", "x": "х", "Y": "У", "y": "у",
}  # fmt: skip
_CYRILLIC_TO_LATIN = {cyrillic: latin for latin, cyrillic in _LATIN_TO_CYRILLIC.items()}


def _unify_word(word: str) -> str:
    """Rewrite a word that mixes scripts in the one script all its letters can take."""
    if not _mixes_scripts(word):
        return word
    latin = [char for char in word if _is_latin_letter(char)]
    cyrillic = [char for char in word if _is_cyrillic_letter(char)]
    to_cyrillic = all(char in _LATIN_TO_CYRILLIC for char in latin)
    to_latin = all(char in _CYRILLIC_TO_LATIN for char in cyrillic)
    if to_cyrillic and (not to_latin or len(cyrillic) >= len(latin)):
        return "".join(_LATIN_TO_CYRILLIC.get(char, char) for char in word)
    if to_latin:
        return "".join(_CYRILLIC_TO_LATIN.get(char, char) for char in word)
    return word


def unify_lookalikes(text: str) -> str:
    """Rewrite each run of letters that mixes lookalike Latin and Cyrillic in one script."""
    return _LETTER_RUN_RE.sub(lambda match: _unify_word(match.group()), text)


def lookalike_key(text: str) -> str:
    """Return one key for spellings that differ by lookalike letters, case and spacing."""
    folded = unify_lookalikes(unicodedata.normalize("NFKC", text))
    return " ".join(folded.casefold().split())


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


# --- The alphabet of a name in native script -------------------------------------------------

# The codes a profile stores for the alphabet its native-script name is written in: three
# Cyrillic alphabets with their own letters, any other Cyrillic one (Ukrainian є, Tajik ҷ, Uzbek
# ў...) and the Latin alphabet, for people whose name has no Cyrillic spelling.
NAME_ALPHABETS = ("kk", "ru", "ky", "cyrl", "latn")
_ALPHABET_BY_COUNTRY = {"KZ": "kk", "RU": "ru", "KG": "ky"}
_OWN_LETTERS = {
    code: frozenset("".join(table) + "".join(table).upper())
    for code, table in (("kk", _KAZAKH), ("ru", _RUSSIAN), ("ky", _KYRGYZ))
}
_KAZAKH_LETTERS = _OWN_LETTERS["kk"]


def _in_alphabet(char: str, alphabet: str) -> bool:
    """Return True if the letter belongs to the alphabet with that code."""
    if alphabet == "latn":
        return _is_latin_letter(char)
    if alphabet == "cyrl":
        return _is_cyrillic_letter(char)
    return char in _OWN_LETTERS[alphabet]


def letters_outside_alphabet(text: str, alphabet: str) -> list[str]:
    """Return the distinct letters of text that the alphabet lacks, in order of appearance."""
    found: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if char.isalpha() and not _in_alphabet(char, alphabet) and char not in found:
            found.append(char)
    return found


def _alphabet_of_country(citizenship: str | None, name: str) -> str:
    """Return the alphabet a citizen's name is written in when they did not say."""
    code = _ALPHABET_BY_COUNTRY.get((citizenship or "").strip().upper())
    if code is not None:
        return code
    # Elsewhere (or not yet said) the name itself tells: Cyrillic if it has a Cyrillic letter.
    return "cyrl" if any(_is_cyrillic_letter(char) for char in name) else "latn"


def is_legacy_kazakh_default(stored: str | None, citizenship: str | None, name: str) -> bool:
    """Tell whether a stored "kk" is most likely the old form's default, not a choice.

    Until the profile let a student leave the choice to their citizenship, the form stored
    "kk" for everyone who did not touch it. A "kk" of a citizen of another country whose name
    has no letter only Kazakh has is read as that old default: nothing tells it apart from a
    real choice, and such a name is written in their own country's alphabet as well. Used once
    by the migration that clears those defaults, and for profile snapshots taken before it.
    """
    if stored != "kk" or (citizenship or "").strip().upper() in ("", "KZ"):
        return False
    usual = _alphabet_of_country(citizenship, name)
    only_kazakh = _KAZAKH_LETTERS - _OWN_LETTERS.get(usual, _OWN_LETTERS["ru"])
    return not any(char in only_kazakh for char in name)


def chosen_name_alphabet(stored: str | None) -> str | None:
    """Return the alphabet the student chose, or None when it is to follow the citizenship."""
    return stored if stored in NAME_ALPHABETS else None


def name_alphabet(stored: str | None, citizenship: str | None, name: str) -> str:
    """Return the alphabet of a native-script name: the student's choice, else the usual one."""
    return chosen_name_alphabet(stored) or _alphabet_of_country(citizenship, name)


def snapshot_name_alphabet(snapshot: Mapping[str, Any]) -> str:
    """Return the alphabet of the native name in a profile frozen at submission.

    Snapshots record it as "name_alphabet"; older ones only have the form's stored value,
    which may be the old everyone-is-Kazakh default.
    """
    name = " ".join(
        str(snapshot[k]) for k in ("native_given_names", "native_family_name") if snapshot.get(k)
    )
    recorded = snapshot.get("name_alphabet")
    if recorded in NAME_ALPHABETS:
        return recorded
    stored = snapshot.get("native_name_lang")
    citizenship = snapshot.get("citizenship")
    if is_legacy_kazakh_default(stored, citizenship, name):
        stored = None
    return name_alphabet(stored, citizenship, name)


def alphabet_with_letters(letters: list[str]) -> str | None:
    """Return the smallest alphabet that has every one of the letters, or None."""
    for code in ("ru", "ky", "kk", "cyrl", "latn"):
        if all(_in_alphabet(char, code) for char in letters):
            return code
    return None
