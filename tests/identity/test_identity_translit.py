"""Tests for Cyrillic-to-Latin transliteration and name script checks."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.identity import (
    has_mixed_scripts,
    is_cyrillic_name,
    is_latin_passport_name,
    latin_from_cyrillic,
    suggest_latin_name,
)

RUSSIAN_LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
KAZAKH_EXTRA = "әғқңөұүһі"
KYRGYZ_EXTRA = "ңөү"
ALL_CYRILLIC_LOWER = RUSSIAN_LOWER + KAZAKH_EXTRA
ALL_CYRILLIC = ALL_CYRILLIC_LOWER + ALL_CYRILLIC_LOWER.upper()

LATIN_A = "A"  # U+0041
CYRILLIC_A = "\u0410"


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Иванов Иван Иванович", "Ivanov Ivan Ivanovich"),
        ("Юрий Гагарин", "Iurii Gagarin"),
        ("Фёдор Достоевский", "Fedor Dostoevskii"),
        ("Наталья Воробьёва", "Natalia Vorobeva"),
        ("Никита Хрущёв", "Nikita Khrushchev"),
        ("Виктор Цой", "Viktor Tsoi"),
        ("Пётр Чайковский", "Petr Chaikovskii"),
        ("Ирина Щукина", "Irina Shchukina"),
        ("Эрнст Неизвестный", "Ernst Neizvestnyi"),
        ("Подъячев", "Podieiachev"),
        ("Мусина-Пушкина", "Musina-Pushkina"),
        ("Рыжов Ян", "Ryzhov Ian"),
    ],
)
def test_russian_names_follow_icao(cyrillic: str, latin: str) -> None:
    assert latin_from_cyrillic(cyrillic) == latin
    assert latin_from_cyrillic(cyrillic, "ru") == latin
    assert suggest_latin_name(cyrillic, "ru") == latin


def test_full_russian_table() -> None:
    expected = [
        "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p",
        "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "ie", "y", "", "e", "iu", "ia",
    ]  # fmt: skip
    assert [latin_from_cyrillic(letter) for letter in RUSSIAN_LOWER] == expected
    assert latin_from_cyrillic(RUSSIAN_LOWER) == "".join(expected)


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Әлихан Бөкейханов", "Alikhan Bokeikhanov"),
        ("Қасым-Жомарт Тоқаев", "Kasym-Zhomart Tokaev"),
        ("Нұрсұлтан Назарбаев", "Nursultan Nazarbaev"),
        ("Ғабит Мүсірепов", "Gabit Musirepov"),
        ("Шоқан Уәлиханов", "Shokan Ualikhanov"),
        ("Мұхтар Әуезов", "Mukhtar Auezov"),
        ("Абай Құнанбайұлы", "Abai Kunanbaiuly"),
        ("Айгүл Жаңабаева", "Aigul Zhanabaeva"),
        ("Һадиша Өтебай", "Hadisha Otebai"),
        ("ДІНМҰХАМЕД ҚОНАЕВ", "Dinmukhamed Konaev"),
    ],
)
def test_kazakh_names(cyrillic: str, latin: str) -> None:
    assert latin_from_cyrillic(cyrillic, "kk") == latin
    assert suggest_latin_name(cyrillic, "kk") == latin


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Чыңгыз Айтматов", "Chyngyz Aitmatov"),
        ("Сооронбай Жээнбеков", "Sooronbai Zheenbekov"),
        ("Бүбүсара Бейшеналиева", "Bubusara Beishenalieva"),
        ("Алмазбек Атамбаев", "Almazbek Atambaev"),
        ("Өмүрбек Текебаев", "Omurbek Tekebaev"),
        ("Токтогул Сатылганов", "Toktogul Satylganov"),
    ],
)
def test_kyrgyz_names(cyrillic: str, latin: str) -> None:
    assert latin_from_cyrillic(cyrillic, "ky") == latin
    assert suggest_latin_name(cyrillic, "ky") == latin


def test_every_kazakh_letter() -> None:
    assert latin_from_cyrillic(KAZAKH_EXTRA, "kk") == "agknouuhi"
    assert latin_from_cyrillic(KAZAKH_EXTRA.upper(), "kk") == "Agknouuhi"
    pairs = zip(KAZAKH_EXTRA, "agknouuhi", strict=True)
    for letter, latin in pairs:
        assert latin_from_cyrillic(letter, "kk") == latin
        assert latin_from_cyrillic(letter.upper(), "kk") == latin.upper()


def test_every_kyrgyz_letter() -> None:
    assert latin_from_cyrillic(KYRGYZ_EXTRA, "ky") == "nou"
    assert latin_from_cyrillic(KYRGYZ_EXTRA.upper(), "ky") == "Nou"


def test_short_i_stays_icao_i_in_every_language() -> None:
    for lang in ("ru", "kk", "ky"):
        assert latin_from_cyrillic("Айдай", lang) == "Aidai"


def test_letters_of_another_supported_alphabet_are_not_lost() -> None:
    assert latin_from_cyrillic("Әлия", "ru") == "Aliia"
    assert latin_from_cyrillic("Ұлан", "ky") == "Ulan"


@pytest.mark.parametrize("lang", ["kk-KZ", "KK", "kk_KZ"])
def test_language_tags_are_reduced_to_the_primary_subtag(lang: str) -> None:
    assert latin_from_cyrillic("Қайрат", lang) == "Kairat"


def test_unknown_language_falls_back_to_russian_table() -> None:
    assert latin_from_cyrillic("Щукин", "en") == "Shchukin"


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("ИВАНОВ", "Ivanov"),
        ("ЖАНАР ЩЕРБАКОВА", "Zhanar Shcherbakova"),
        ("Ж", "Zh"),
        ("иванов", "ivanov"),
        ("МакДональд", "MakDonald"),
        ("АННА-МАРИЯ", "Anna-Mariia"),
    ],
)
def test_case_handling(cyrillic: str, latin: str) -> None:
    assert latin_from_cyrillic(cyrillic) == latin


@pytest.mark.parametrize(
    ("text", "latin"),
    [
        ("О'Нил", "O'Nil"),
        ("О\u2019Нил", "O'Nil"),  # typographic apostrophe becomes ASCII
        ("Иван  Петров", "Ivan  Petrov"),
        ("Иван Smith", "Ivan Smith"),
        ("Иван2!", "Ivan"),
        ("<Иван>", "Ivan"),
        ("Иван;DROP", "IvanDrop"),
        ("Иван\tПетров", "Ivan Petrov"),
        ("Ива\u0301нов", "Ivanov"),  # stress mark
        ("ИВА\u0301НОВ", "Ivanov"),  # stress mark must not split the word
        ("Е\u0308лкин", "Elkin"),  # decomposed Ё
        ("И\u0306ошкар", "Ioshkar"),  # decomposed Й
        ("Ωмега", "Mega"),  # Greek is dropped; the word was Title case
        ("", ""),
    ],
)
def test_other_characters(text: str, latin: str) -> None:
    assert latin_from_cyrillic(text) == latin


@pytest.mark.parametrize(
    ("native", "suggestion"),
    [
        ("әлихан бөкейханов", "Alikhan Bokeikhanov"),
        ("  анна-мария   иванова ", "Anna-Mariia Ivanova"),
        ("о'нил", "O'Nil"),
        ("ЬЯ", "Ia"),
    ],
)
def test_suggestion_is_title_case(native: str, suggestion: str) -> None:
    assert suggest_latin_name(native, "kk") == suggestion


@given(st.text(alphabet=ALL_CYRILLIC + " -'", max_size=100), st.sampled_from(["ru", "kk", "ky"]))
def test_cyrillic_names_become_passport_latin(name: str, lang: str) -> None:
    suggestion = suggest_latin_name(name, lang)
    # Only the soft sign transliterates to nothing; every other letter leaves a trace.
    has_letters = any(char.isalpha() for char in name.replace("ь", "").replace("Ь", ""))
    if has_letters and len(suggestion) <= 100:
        assert is_latin_passport_name(suggestion)
    assert all(char.isascii() and (char.isalpha() or char in " -'") for char in suggestion)


@given(st.text(max_size=200), st.sampled_from(["ru", "kk", "ky", "xx"]))
def test_output_holds_only_latin_letters_and_separators(text: str, lang: str) -> None:
    for char in latin_from_cyrillic(text, lang) + suggest_latin_name(text, lang):
        assert char in " -'" or (char.isalpha() and "LATIN" in unicodedata.name(char))


# --- Mixed scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        CYRILLIC_A + "sel",  # Cyrillic А then Latin "sel"
        LATIN_A + "сель",  # Latin A then Cyrillic "сель"
        "Асеl",  # Latin l at the end
        "Иванов\u0061",  # Latin a appended
        "Әsel",
        "Ivan-Иван",  # a hyphen does not split a word
        "Бекова Аsel",
        "\uff21сель",  # fullwidth Latin A
        "\U0001d400сель",  # mathematical bold A
    ],
)
def test_mixed_scripts_detected(text: str) -> None:
    assert has_mixed_scripts(text)


@pytest.mark.parametrize(
    "text", ["Asel", "Асель", "Иван Smith", "", "Жаңабаева", "O'Neil", "Иван 2 Smith", "123"]
)
def test_single_script_words_are_fine(text: str) -> None:
    assert not has_mixed_scripts(text)


# --- Name validators ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Иванов Иван Иванович",
        "Әлихан Бөкейханов",
        "Қасым-Жомарт Тоқаев",
        "Чыңгыз Айтматов",
        "Бүбүсара",
        "Һадиша",
        "ДІНМҰХАМЕД",
        "Д'Артаньян",
        "Подъячев",
        "Ё",
        "Я" * 100,
        KAZAKH_EXTRA + KAZAKH_EXTRA.upper(),
        ALL_CYRILLIC,
    ],
)
def test_cyrillic_names_accepted(name: str) -> None:
    assert is_cyrillic_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        " ",
        "- '",
        "Я" * 101,
        CYRILLIC_A + "sel",
        "Asel",
        "Иван2",
        "<script>alert(1)</script>",
        "<script>",
        "Иван<b>",
        "Иван\n",
        "Иван\tПетров",
        "Олена Євтушенко",  # Ukrainian Є is outside the supported alphabets
        "И\u0306ван",  # decomposed Й: callers must NFC-normalise first
        "О\u2019Нил",
        "Иван.",
    ],
)
def test_cyrillic_names_rejected(name: str) -> None:
    assert not is_cyrillic_name(name)


@pytest.mark.parametrize(
    "name",
    ["ALIKHAN BOKEIKHANOV", "O'Neil", "Anna-Maria", "Kasym-Zhomart", "a", "Z" * 100],
)
def test_latin_passport_names_accepted(name: str) -> None:
    assert is_latin_passport_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "   ",
        "Zoë",
        "Z" * 101,
        "<script>",
        "John2",
        CYRILLIC_A + "sel",
        "\uff21sel",
        "Anna\u2019s",
        "Anna\n",
        "Müller",
    ],
)
def test_latin_passport_names_rejected(name: str) -> None:
    assert not is_latin_passport_name(name)


@given(st.text(max_size=120))
def test_validators_never_accept_markup_or_digits(text: str) -> None:
    for valid in (is_cyrillic_name(text), is_latin_passport_name(text)):
        if valid:
            assert not any(char in text for char in '<>&"/;0123456789')
            assert 1 <= len(text) <= 100
