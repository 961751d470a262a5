"""Scripts of names: lookalike letters in the names of things, the alphabet of a native name."""

from __future__ import annotations

import pytest

from portal.identity import (
    NAME_ALPHABETS,
    alphabet_with_letters,
    chosen_name_alphabet,
    has_mixed_scripts,
    is_legacy_kazakh_default,
    letters_outside_alphabet,
    lookalike_key,
    mixed_script_words,
    name_alphabet,
    snapshot_name_alphabet,
    unify_lookalikes,
)

RUSSIAN_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
KAZAKH_EXTRA = "әғқңөұүһі"
KYRGYZ_EXTRA = "ңөү"

# --- Mixed scripts in the names of things --------------------------------------------------------

# "КазНУ" typed with a Latin K and a (as a keyboard switched halfway produces).
KAZNU_LOOKALIKE = "Ka\u0437\u041d\u0423"


def test_the_lookalike_really_mixes_scripts() -> None:
    assert KAZNU_LOOKALIKE != "КазНУ"
    assert has_mixed_scripts(KAZNU_LOOKALIKE)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"{KAZNU_LOOKALIKE} им. аль-Фараби", [KAZNU_LOOKALIKE]),
        ("IT-университет", []),  # a hyphenated compound of two real words
        ("Факультет IT-технологий", []),
        ("Astana IT University", []),
        ("Tomsk Stаte University", ["Stаte"]),  # Cyrillic а
        ("КазНУ", []),
    ],
)
def test_names_of_things_split_words_at_hyphens(text: str, words: list[str]) -> None:
    assert mixed_script_words(text, hyphen_joins=False) == words


def test_names_of_people_keep_hyphenated_words_whole() -> None:
    assert mixed_script_words("Ivan-Иван") == ["Ivan-Иван"]
    assert mixed_script_words("Ivan-Иван", hyphen_joins=False) == []


@pytest.mark.parametrize(
    ("typed", "unified"),
    [
        (KAZNU_LOOKALIKE, "КазНУ"),
        ("Tomsk Stаte University", "Tomsk State University"),  # Cyrillic а in a Latin word
        ("KАЗНУ", "КАЗНУ"),
        ("КазНУ им. аль-Фараби", "КазНУ им. аль-Фараби"),  # nothing mixed: unchanged
        ("IT-университет", "IT-университет"),
        ("Zаз", "Zаз"),  # Z has no Cyrillic twin and з no Latin one: left alone
    ],
)
def test_unify_lookalikes(typed: str, unified: str) -> None:
    assert unify_lookalikes(typed) == unified


def test_lookalike_key_joins_what_reads_the_same() -> None:
    key = lookalike_key("КазНУ")
    assert lookalike_key(KAZNU_LOOKALIKE) == key
    assert lookalike_key("  казну ") == key
    assert lookalike_key("\uff2ba\u0437\u041d\u0423") == key  # fullwidth Latin K
    assert lookalike_key("КазГУ") != key


# --- The alphabet of a native-script name ----------------------------------------------------


def test_name_alphabet_codes() -> None:
    assert NAME_ALPHABETS == ("kk", "ru", "ky", "cyrl", "latn")


@pytest.mark.parametrize(
    ("citizenship", "name", "alphabet"),
    [
        ("KZ", "Әлихан Бөкейханов", "kk"),
        ("KZ", "Иван Петров", "kk"),
        ("RU", "Иван Петров", "ru"),
        ("ru", "Иван Петров", "ru"),
        ("KG", "Айбек Үсөнов", "ky"),
        ("UZ", "Ўткир Каримов", "cyrl"),
        ("DE", "Jürgen Müller", "latn"),
        (None, "Иван", "cyrl"),
        (None, "", "latn"),
    ],
)
def test_the_alphabet_follows_the_citizenship_when_not_chosen(
    citizenship: str | None, name: str, alphabet: str
) -> None:
    assert name_alphabet(None, citizenship, name) == alphabet
    assert name_alphabet("", citizenship, name) == alphabet
    assert chosen_name_alphabet(None) is None


@pytest.mark.parametrize("chosen", ["kk", "ru", "ky", "cyrl", "latn"])
def test_a_chosen_alphabet_is_kept(chosen: str) -> None:
    assert name_alphabet(chosen, "KZ", "Иван") == chosen
    # Kazakh chosen by a Russian citizen for a name without Kazakh letters stays Kazakh.
    assert name_alphabet(chosen, "RU", "Иван Петров") == chosen
    assert chosen_name_alphabet(chosen) == chosen


@pytest.mark.parametrize(
    ("citizenship", "name", "read_as"),
    [
        ("RU", "Иван Петров", "ru"),  # the old default, not a choice
        ("KG", "Айбек Үсөнов", "ky"),  # Kyrgyz letters are not only Kazakh
        ("DE", "Jürgen Müller", "latn"),
        ("RU", "Әлия Серикова", "kk"),  # a Kazakh letter: Kazakh was really meant
        ("KG", "Айгүл Серікқызы", "kk"),
        ("KZ", "Иван Петров", "kk"),
    ],
)
def test_an_old_snapshots_kazakh_default_is_read_by_the_citizenship(
    citizenship: str, name: str, read_as: str
) -> None:
    given, family = name.split()
    old = {"native_given_names": given, "native_family_name": family, "citizenship": citizenship}
    assert snapshot_name_alphabet({**old, "native_name_lang": "kk"}) == read_as
    assert is_legacy_kazakh_default("kk", citizenship, name) == (read_as != "kk")
    # A snapshot that records the alphabet is read as it says.
    assert snapshot_name_alphabet({**old, "native_name_lang": "kk", "name_alphabet": "kk"}) == "kk"


def test_an_unknown_stored_code_counts_as_not_chosen() -> None:
    assert chosen_name_alphabet("xx") is None
    assert name_alphabet("xx", "RU", "Иван") == "ru"


@pytest.mark.parametrize(
    ("text", "alphabet", "outside"),
    [
        ("Әлихан Бөкейханов", "kk", []),
        ("Әлихан Бөкейханов", "ru", ["Ә", "ө"]),
        ("Айбек Үсөнов", "ky", []),
        ("Серікқызы", "ky", ["і", "қ"]),
        ("Alikhan", "kk", ["A", "l", "i", "k", "h", "a", "n"]),
        ("Євген", "ru", ["Є"]),
        ("Євген", "cyrl", []),
        ("Jürgen", "latn", []),
        ("Иван", "latn", ["И", "в", "а", "н"]),
        ("Ива\u0301н", "ru", []),  # a stress mark is not a letter
    ],
)
def test_letters_outside_alphabet(text: str, alphabet: str, outside: list[str]) -> None:
    assert letters_outside_alphabet(text, alphabet) == outside


@pytest.mark.parametrize(
    ("letters", "alphabet"),
    [(["И"], "ru"), (["ң"], "ky"), (["ә"], "kk"), (["ә", "ң"], "kk"), (["Є"], "cyrl")]
    + [(["B"], "latn"), (["Ω"], None), (["И", "B"], None)],
)
def test_alphabet_with_letters_is_the_smallest_that_has_them(
    letters: list[str], alphabet: str | None
) -> None:
    assert alphabet_with_letters(letters) == alphabet


@pytest.mark.parametrize("lang", ["kk", "ru", "ky"])
def test_every_letter_of_the_three_alphabets_is_in_its_own(lang: str) -> None:
    letters = RUSSIAN_LOWER + {"kk": KAZAKH_EXTRA, "ru": "", "ky": KYRGYZ_EXTRA}[lang]
    assert letters_outside_alphabet(letters + letters.upper(), lang) == []
