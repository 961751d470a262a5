"""Demo data for `make run`: real-looking institutions, programmes of every kind, one account per role."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from portal.applications.models import Application
from portal.applications.states import State
from portal.auth.models import Role, User, new_session_key
from portal.auth.passwords import hash_password
from portal.db import utcnow
from portal.extensions import db
from portal.institutions.models import Institution
from portal.offers.models import LetterTemplate
from portal.profiles.models import LanguageSkill, StudentProfile
from portal.programs.models import (
    Program,
    ProgramQuestion,
    ProgramQuota,
    ProgramStaff,
    RubricCriterion,
)

DEMO_PASSWORD = "kopir-demo-2026"

INSTITUTIONS = [
    {
        "schac": "vku.edu.kz",
        "country": "KZ",
        "timezone": "Asia/Almaty",
        "names": {
            "en": "Sarsen Amanzholov East Kazakhstan University",
            "ru": "Восточно-Казахстанский университет имени Сарсена Аманжолова",
            "kk": "Сәрсен Аманжолов атындағы Шығыс Қазақстан университеті",
            "ky": "Сарсен Аманжолов атындагы Чыгыш Казакстан университети",
        },
        "city": {"en": "Öskemen", "ru": "Усть-Каменогорск", "kk": "Өскемен", "ky": "Өскемен"},
    },
    {
        "schac": "ektu.kz",
        "country": "KZ",
        "timezone": "Asia/Almaty",
        "names": {
            "en": "D. Serikbayev East Kazakhstan Technical University",
            "ru": "Восточно-Казахстанский технический университет им. Д. Серикбаева",
            "kk": "Д. Серікбаев атындағы Шығыс Қазақстан техникалық университеті",
            "ky": "Д. Серикбаев атындагы Чыгыш Казакстан техникалык университети",
        },
        "city": {"en": "Öskemen", "ru": "Усть-Каменогорск", "kk": "Өскемен", "ky": "Өскемен"},
    },
    {
        "schac": "kaznu.kz",
        "country": "KZ",
        "timezone": "Asia/Almaty",
        "names": {
            "en": "Al-Farabi Kazakh National University",
            "ru": "Казахский национальный университет имени аль-Фараби",
            "kk": "Әл-Фараби атындағы Қазақ ұлттық университеті",
            "ky": "Аль-Фараби атындагы Казак улуттук университети",
        },
        "city": {"en": "Almaty", "ru": "Алматы", "kk": "Алматы", "ky": "Алматы"},
    },
    {
        "schac": "nsu.ru",
        "country": "RU",
        "timezone": "Asia/Novosibirsk",
        "names": {
            "en": "Novosibirsk State University",
            "ru": "Новосибирский государственный университет",
            "kk": "Новосібір мемлекеттік университеті",
            "ky": "Новосибирск мамлекеттик университети",
        },
        "city": {"en": "Novosibirsk", "ru": "Новосибирск", "kk": "Новосібір", "ky": "Новосибирск"},
    },
    {
        "schac": "nstu.ru",
        "country": "RU",
        "timezone": "Asia/Novosibirsk",
        "names": {
            "en": "Novosibirsk State Technical University",
            "ru": "Новосибирский государственный технический университет",
            "kk": "Новосібір мемлекеттік техникалық университеті",
            "ky": "Новосибирск мамлекеттик техникалык университети",
        },
        "city": {"en": "Novosibirsk", "ru": "Новосибирск", "kk": "Новосібір", "ky": "Новосибирск"},
    },
    {
        "schac": "msu.ru",
        "country": "RU",
        "timezone": "Europe/Moscow",
        "names": {
            "en": "Lomonosov Moscow State University",
            "ru": "Московский государственный университет имени М. В. Ломоносова",
            "kk": "М. В. Ломоносов атындағы Мәскеу мемлекеттік университеті",
            "ky": "М. В. Ломоносов атындагы Москва мамлекеттик университети",
        },
        "city": {"en": "Moscow", "ru": "Москва", "kk": "Мәскеу", "ky": "Москва"},
    },
    {
        "schac": "knu.kg",
        "country": "KG",
        "timezone": "Asia/Bishkek",
        "names": {
            "en": "Jusup Balasagyn Kyrgyz National University",
            "ru": "Кыргызский национальный университет имени Жусупа Баласагына",
            "kk": "Жүсіп Баласағұн атындағы Қырғыз ұлттық университеті",
            "ky": "Жусуп Баласагын атындагы Кыргыз улуттук университети",
        },
        "city": {"en": "Bishkek", "ru": "Бишкек", "kk": "Бішкек", "ky": "Бишкек"},
    },
    {
        "schac": "auca.kg",
        "country": "KG",
        "timezone": "Asia/Bishkek",
        "names": {
            "en": "American University of Central Asia",
            "ru": "Американский университет в Центральной Азии",
            "kk": "Орталық Азиядағы Америка университеті",
            "ky": "Борбордук Азиядагы Америка университети",
        },
        "city": {"en": "Bishkek", "ru": "Бишкек", "kk": "Бішкек", "ky": "Бишкек"},
    },
]


def _local(day: date, zone: str, at: time = time(23, 59)) -> datetime:
    """Return the aware instant of a wall-clock time in a zone."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))


def _programs(today: date) -> list[dict]:
    """Describe the demo programmes, with windows placed around today."""
    return [
        {
            "slug": "altai-summer-school-geoecology",
            "kind": "summer_school",
            "host": "vku.edu.kz",
            "titles": {
                "en": "Altai Summer School in Geoecology",
                "ru": "Алтайская летняя школа по геоэкологии",
                "kk": "Геоэкология бойынша Алтай жазғы мектебі",
                "ky": "Геоэкология боюнча Алтай жайкы мектеби",
            },
            "descriptions": {
                "en": "Three weeks of field work in the Altai mountains: glaciers, rivers and "
                "the people who live by them. Lectures in English, field trips in Russian.",
                "ru": "Три недели полевой работы в горах Алтая: ледники, реки и люди, которые "
                "живут рядом с ними. Лекции на английском, выезды на русском.",
                "kk": "Алтай тауларындағы үш апталық далалық жұмыс: мұздықтар, өзендер және "
                "олардың жағасында тұратын адамдар. Дәрістер ағылшын тілінде.",
                "ky": "Алтай тоолорундагы үч жумалык талаа иши: мөңгүлөр, дарыялар жана "
                "алардын жээгинде жашаган адамдар. Лекциялар англис тилинде.",
            },
            "language": "en",
            "isced": "052",
            "dates": (today + timedelta(days=200), today + timedelta(days=221)),
            "place": {
                "en": "Öskemen and Katon-Karagay",
                "ru": "Усть-Каменогорск и Катон-Карагай",
                "kk": "Өскемен және Катонқарағай",
                "ky": "Өскемен жана Катон-Карагай",
            },
            "fee": Decimal("0"),
            "currency": "KZT",
            "funding": {
                "en": "Tuition, housing and field trips are covered.",
                "ru": "Обучение, проживание и выезды оплачиваются.",
                "kk": "Оқу, тұру және экспедициялар төленеді.",
                "ky": "Окуу, жатакана жана экспедициялар төлөнөт.",
            },
            "seats": 20,
            "window": (today - timedelta(days=20), today + timedelta(days=25)),
            "levels": [6, 7],
            "min_gpa": Decimal("60"),
            "required_language": "en",
            "required_cefr": "B1",
            "citizenships": [],
            "documents": ["passport", "transcript"],
            "partners": ["nsu.ru", "knu.kg"],
            "questions": [
                (
                    "long",
                    {
                        "en": "Describe a field or lab project you took part in.",
                        "ru": "Опишите полевой или лабораторный проект, в котором вы участвовали.",
                        "kk": "Өзіңіз қатысқан далалық не зертханалық жобаны сипаттаңыз.",
                        "ky": "Өзүңүз катышкан талаа же лабораториялык долбоорду сүрөттөңүз.",
                    },
                ),
                (
                    "choice",
                    {
                        "en": "Can you take part in a four-day mountain hike?",
                        "ru": "Можете ли вы участвовать в четырёхдневном горном походе?",
                        "kk": "Төрт күндік тау жорығына қатыса аласыз ба?",
                        "ky": "Төрт күндүк тоо жүрүшүнө катыша аласызбы?",
                    },
                ),
            ],
        },
        {
            "slug": "nsu-exchange-semester-mathematics",
            "kind": "exchange_semester",
            "host": "nsu.ru",
            "titles": {
                "en": "Exchange Semester in Mathematics at NSU",
                "ru": "Семестр по обмену: математика в НГУ",
                "kk": "НМУ-да математика бойынша алмасу семестрі",
                "ky": "НМУда математика боюнча алмашуу семестри",
            },
            "descriptions": {
                "en": "A spring semester at the Mechanics and Mathematics Faculty in "
                "Akademgorodok, with credits recognised at home.",
                "ru": "Весенний семестр на механико-математическом факультете в Академгородке "
                "с перезачётом кредитов.",
                "kk": "Академқалашықтағы механика-математика факультетінде көктемгі семестр, "
                "кредиттер танылады.",
                "ky": "Академгородоктогу механика-математика факультетинде жазгы семестр, "
                "кредиттер таанылат.",
            },
            "language": "ru",
            "isced": "054",
            "dates": (today + timedelta(days=70), today + timedelta(days=180)),
            "place": {
                "en": "Novosibirsk, Akademgorodok",
                "ru": "Новосибирск, Академгородок",
                "kk": "Новосібір, Академқалашық",
                "ky": "Новосибирск, Академгородок",
            },
            "fee": Decimal("0"),
            "currency": "RUB",
            "funding": {
                "en": "Tuition waived; a monthly stipend of 15,000 RUB.",
                "ru": "Без платы за обучение; стипендия 15 000 руб. в месяц.",
                "kk": "Оқу ақысыз; айына 15 000 рубль стипендия.",
                "ky": "Окуу акысыз; айына 15 000 рубль стипендия.",
            },
            "seats": 6,
            "window": (today - timedelta(days=10), today + timedelta(days=12)),
            "levels": [6],
            "min_gpa": Decimal("70"),
            "required_language": "ru",
            "required_cefr": "B2",
            "citizenships": ["KZ", "KG"],
            "documents": ["passport", "transcript", "motivation_letter"],
            "partners": ["vku.edu.kz", "knu.kg"],
            "quotas": {"vku.edu.kz": 2, "knu.kg": 2},
            "questions": [],
        },
        {
            "slug": "bishkek-double-degree-economics",
            "kind": "double_degree",
            "host": "knu.kg",
            "titles": {
                "en": "Double Master's Degree in Regional Economics",
                "ru": "Двойная магистратура по региональной экономике",
                "kk": "Аймақтық экономика бойынша қос магистратура",
                "ky": "Аймактык экономика боюнча кош магистратура",
            },
            "descriptions": {
                "en": "Two years, two diplomas: one year in Bishkek, one at home.",
                "ru": "Два года, два диплома: год в Бишкеке, год дома.",
                "kk": "Екі жыл, екі диплом: бір жыл Бішкекте, бір жыл өз университетіңізде.",
                "ky": "Эки жыл, эки диплом: бир жыл Бишкекте, бир жыл өз университетиңизде.",
            },
            "language": "ru",
            "isced": "031",
            "dates": (today + timedelta(days=270), today + timedelta(days=270 + 640)),
            "place": {"en": "Bishkek", "ru": "Бишкек", "kk": "Бішкек", "ky": "Бишкек"},
            "fee": Decimal("120000"),
            "currency": "KGS",
            "funding": {
                "en": "Half of the fee is covered for the best five applicants.",
                "ru": "Половина оплаты покрывается для пяти лучших кандидатов.",
                "kk": "Үздік бес үміткердің ақысының жартысы төленеді.",
                "ky": "Мыкты беш талапкердин акысынын жарымы төлөнөт.",
            },
            "seats": 10,
            "window": (today - timedelta(days=5), today + timedelta(days=60)),
            "levels": [7],
            "min_gpa": None,
            "required_language": "ru",
            "required_cefr": "B1",
            "citizenships": [],
            "documents": ["passport", "transcript", "cv"],
            "partners": ["vku.edu.kz", "nstu.ru"],
            "questions": [
                (
                    "short",
                    {
                        "en": "Your planned master's thesis topic",
                        "ru": "Планируемая тема магистерской диссертации",
                        "kk": "Жоспарланған магистрлік диссертация тақырыбы",
                        "ky": "Пландалган магистрдик диссертациянын темасы",
                    },
                ),
            ],
        },
        {
            "slug": "nstu-research-internship-power-electronics",
            "kind": "research_internship",
            "host": "nstu.ru",
            "titles": {
                "en": "Research Internship in Power Electronics",
                "ru": "Научная стажировка по силовой электронике",
                "kk": "Күштік электроника бойынша ғылыми тағылымдама",
                "ky": "Күчтүү электроника боюнча илимий стажировка",
            },
            "descriptions": {
                "en": "Eight weeks in a laboratory working on converters for renewable energy.",
                "ru": "Восемь недель в лаборатории преобразователей для возобновляемой энергетики.",
                "kk": "Жаңартылатын энергетикаға арналған түрлендіргіштер зертханасында сегіз апта.",
                "ky": "Кайра жаралуучу энергетика үчүн өзгөрткүчтөр лабораториясында сегиз жума.",
            },
            "language": "ru",
            "isced": "071",
            "dates": (today + timedelta(days=120), today + timedelta(days=176)),
            "place": {
                "en": "Novosibirsk",
                "ru": "Новосибирск",
                "kk": "Новосібір",
                "ky": "Новосибирск",
            },
            "fee": Decimal("0"),
            "currency": "RUB",
            "funding": {
                "en": "Housing in the university dormitory is free.",
                "ru": "Проживание в общежитии бесплатно.",
                "kk": "Жатақханада тұру тегін.",
                "ky": "Жатаканада жашоо акысыз.",
            },
            "seats": 4,
            "window": (today - timedelta(days=3), today + timedelta(days=40)),
            "levels": [7, 8],
            "min_gpa": Decimal("75"),
            "required_language": None,
            "required_cefr": None,
            "citizenships": [],
            "documents": ["cv", "portfolio"],
            "partners": ["ektu.kz"],
            "questions": [],
        },
        {
            "slug": "almaty-summer-school-kazakh-language",
            "kind": "summer_school",
            "host": "kaznu.kz",
            "titles": {
                "en": "Summer School of Kazakh Language and Culture",
                "ru": "Летняя школа казахского языка и культуры",
                "kk": "Қазақ тілі мен мәдениетінің жазғы мектебі",
                "ky": "Казак тили жана маданияты жайкы мектеби",
            },
            "descriptions": {
                "en": "Four weeks of Kazakh classes at every level, with excursions in Almaty.",
                "ru": "Четыре недели занятий казахским языком на любом уровне и экскурсии по Алматы.",
                "kk": "Барлық деңгейге арналған төрт апталық қазақ тілі сабақтары және Алматыға саяхат.",
                "ky": "Бардык деңгээлдер үчүн төрт жумалык казак тили сабактары жана Алматыга саякат.",
            },
            "language": "kk",
            "isced": "023",
            "dates": (today + timedelta(days=190), today + timedelta(days=218)),
            "place": {"en": "Almaty", "ru": "Алматы", "kk": "Алматы", "ky": "Алматы"},
            "fee": Decimal("150000"),
            "currency": "KZT",
            "funding": {
                "en": "Ten places with full fee waivers.",
                "ru": "Десять мест с полным освобождением от оплаты.",
                "kk": "Толық ақысыз он орын.",
                "ky": "Толук акысыз он орун.",
            },
            "seats": 30,
            "window": (today - timedelta(days=30), today + timedelta(days=90)),
            "levels": [6, 7, 8],
            "min_gpa": None,
            "required_language": None,
            "required_cefr": None,
            "citizenships": [],
            "documents": ["passport"],
            "partners": [],
            "questions": [],
        },
        {
            "slug": "auca-exchange-semester-social-sciences",
            "kind": "exchange_semester",
            "host": "auca.kg",
            "titles": {
                "en": "Exchange Semester in Social Sciences at AUCA",
                "ru": "Семестр по обмену: социальные науки в АУЦА",
                "kk": "ОАAУ-да әлеуметтік ғылымдар бойынша алмасу семестрі",
                "ky": "БАААУда коомдук илимдер боюнча алмашуу семестри",
            },
            "descriptions": {
                "en": "A liberal-arts semester in English in Bishkek.",
                "ru": "Семестр свободных искусств на английском языке в Бишкеке.",
                "kk": "Бішкекте ағылшын тіліндегі гуманитарлық семестр.",
                "ky": "Бишкекте англис тилиндеги гуманитардык семестр.",
            },
            "language": "en",
            "isced": "031",
            "dates": (today + timedelta(days=240), today + timedelta(days=350)),
            "place": {"en": "Bishkek", "ru": "Бишкек", "kk": "Бішкек", "ky": "Бишкек"},
            "fee": Decimal("0"),
            "currency": "USD",
            "funding": {
                "en": "Tuition waived under the partnership agreement.",
                "ru": "Обучение бесплатно по партнёрскому соглашению.",
                "kk": "Серіктестік келісімі бойынша оқу тегін.",
                "ky": "Өнөктөштүк келишими боюнча окуу акысыз.",
            },
            "seats": 8,
            "window": (today + timedelta(days=15), today + timedelta(days=75)),
            "levels": [6],
            "min_gpa": Decimal("65"),
            "required_language": "en",
            "required_cefr": "B2",
            "citizenships": [],
            "documents": ["passport", "transcript", "language_certificate"],
            "partners": ["vku.edu.kz"],
            "questions": [],
        },
        {
            "slug": "msu-summer-school-data-science",
            "kind": "summer_school",
            "host": "msu.ru",
            "titles": {
                "en": "Moscow Summer School in Data Science",
                "ru": "Московская летняя школа по науке о данных",
                "kk": "Деректер ғылымы бойынша Мәскеу жазғы мектебі",
                "ky": "Маалымат илими боюнча Москва жайкы мектеби",
            },
            "descriptions": {
                "en": "Two weeks of machine learning and statistics. Applications are closed.",
                "ru": "Две недели машинного обучения и статистики. Приём заявок закрыт.",
                "kk": "Машиналық оқыту мен статистиканың екі аптасы. Өтінім қабылдау жабық.",
                "ky": "Машиналык окутуу жана статистиканын эки жумасы. Арыз кабыл алуу жабык.",
            },
            "language": "ru",
            "isced": "061",
            "dates": (today + timedelta(days=30), today + timedelta(days=44)),
            "place": {"en": "Moscow", "ru": "Москва", "kk": "Мәскеу", "ky": "Москва"},
            "fee": Decimal("0"),
            "currency": "RUB",
            "funding": {
                "en": "Fully funded.",
                "ru": "Полностью финансируется.",
                "kk": "Толық қаржыландырылады.",
                "ky": "Толук каржыланат.",
            },
            "seats": 25,
            "window": (today - timedelta(days=60), today - timedelta(days=2)),
            "levels": [6, 7],
            "min_gpa": None,
            "required_language": None,
            "required_cefr": None,
            "citizenships": [],
            "documents": ["transcript"],
            "partners": ["kaznu.kz"],
            "questions": [],
        },
        {
            "slug": "ektu-research-internship-metallurgy",
            "kind": "research_internship",
            "host": "ektu.kz",
            "titles": {
                "en": "Research Internship in Non-ferrous Metallurgy",
                "ru": "Научная стажировка по цветной металлургии",
                "kk": "Түсті металлургия бойынша ғылыми тағылымдама",
                "ky": "Түстүү металлургия боюнча илимий стажировка",
            },
            "descriptions": {
                "en": "Six weeks at the metallurgy laboratory with an industrial partner.",
                "ru": "Шесть недель в лаборатории металлургии с индустриальным партнёром.",
                "kk": "Өнеркәсіптік серіктеспен металлургия зертханасында алты апта.",
                "ky": "Өнөр жай өнөктөшү менен металлургия лабораториясында алты жума.",
            },
            "language": "ru",
            "isced": "072",
            "dates": (today + timedelta(days=150), today + timedelta(days=192)),
            "place": {"en": "Öskemen", "ru": "Усть-Каменогорск", "kk": "Өскемен", "ky": "Өскемен"},
            "fee": Decimal("0"),
            "currency": "KZT",
            "funding": {
                "en": "A stipend and housing are provided.",
                "ru": "Предоставляются стипендия и жильё.",
                "kk": "Стипендия мен тұрғын үй беріледі.",
                "ky": "Стипендия жана турак жай берилет.",
            },
            "seats": 5,
            "window": (today - timedelta(days=7), today + timedelta(days=33)),
            "levels": [7, 8],
            "min_gpa": None,
            "required_language": "ru",
            "required_cefr": "B2",
            "citizenships": [],
            "documents": ["cv", "recommendation"],
            "partners": ["nstu.ru", "knu.kg"],
            "questions": [],
        },
    ]


ACCOUNTS = [
    ("admin@kopir.demo", Role.ADMIN, None),
    ("coordinator@kopir.demo", Role.COORDINATOR, "vku.edu.kz"),
    ("reviewer@kopir.demo", Role.REVIEWER, "vku.edu.kz"),
    # A second reviewer from another university, so every applicant can get two reviews.
    ("reviewer2@kopir.demo", Role.REVIEWER, "nsu.ru"),
    ("partner@kopir.demo", Role.PARTNER, "knu.kg"),
    ("student@kopir.demo", Role.STUDENT, None),
]


RUBRIC = [
    ({"en": "Motivation", "ru": "Мотивация", "kk": "Уәждеме", "ky": "Мотивация"}, 2),
    (
        {
            "en": "Academic record",
            "ru": "Успеваемость",
            "kk": "Үлгерім",
            "ky": "Окуудагы жетишкендик",
        },
        1,
    ),
    ({"en": "Language skills", "ru": "Знание языков", "kk": "Тіл білу", "ky": "Тил билүү"}, 1),
]

@functools.cache
def _demo_password_hash() -> str:
    return hash_password(DEMO_PASSWORD)


def _set_demo_password(user: User) -> None:
    """Give an account the published demo password, hashed once for all the demo accounts."""
    user.password_hash = _demo_password_hash()
    user.session_key = new_session_key()


@dataclass(frozen=True)
class DemoStudent:
    """A demo student, consistent with the rules a real profile is checked against."""

    email: str
    locale: str
    citizenship: str
    home: str  # SCHAC code of the home university
    native: tuple[str, str]  # given names, family name
    latin: tuple[str, str]  # as in the passport
    gender: int  # ISO 5218
    birth_date: date
    # IIN (KZ) and PIN (KG) encode the birth date and sex, and an IIN and a SNILS have a check
    # digit: tests/core/test_demo.py checks each against the profile.
    national_id: str
    passport: str
    phone: str
    faculty: str
    level: int  # EQF
    isced: str
    year: int
    gpa: str
    scale: str
    languages: tuple[tuple[str, str], ...]


# Applicants from the three countries, so the coordinator's queue has something to decide.
APPLICANTS = [
    DemoStudent(
        "aigerim@kopir.demo", "kk", "KZ", "vku.edu.kz", ("Айгерім", "Сейітқалиева"),
        ("AIGERIM", "SEITKALIYEVA"), 2, date(2005, 3, 14), "050314603179", "N14523687",
        "+77054718263", "Faculty of Natural Sciences and Geography", 6, "052", 3, "3.65", "kz4",
        (("kk", "native"), ("ru", "C1"), ("en", "B2")),
    ),
    DemoStudent(
        "daniyar@kopir.demo", "kk", "KZ", "ektu.kz", ("Данияр", "Өміров"),
        ("DANIYAR", "OMIROV"), 1, date(2004, 9, 27), "040927514525", "N09875214",
        "+77772093518", "School of Earth Sciences", 6, "052", 4, "3.10", "kz4",
        (("kk", "native"), ("ru", "C2"), ("en", "B1")),
    ),
    DemoStudent(
        "ivan@kopir.demo", "ru", "RU", "nsu.ru", ("Иван", "Щукин"),
        ("IVAN", "SHCHUKIN"), 1, date(2005, 11, 2), "148-523-706 75", "758214936",
        "+79134652817", "Faculty of Geology and Geophysics", 6, "052", 3, "4.6", "five",
        (("ru", "native"), ("en", "B2")),
    ),
    DemoStudent(
        "olga@kopir.demo", "ru", "RU", "nstu.ru", ("Ольга", "Юрьева"),
        ("OLGA", "IUREVA"), 2, date(2003, 6, 18), "163-907-452 83", "763109458",
        "+79237184025", "Faculty of Mechanics and Technology", 7, "052", 1, "4.2", "five",
        (("ru", "native"), ("en", "C1")),
    ),
    DemoStudent(
        "aibek@kopir.demo", "ky", "KG", "knu.kg", ("Айбек", "Үсөнов"),
        ("AIBEK", "USONOV"), 1, date(2004, 1, 30), "23001200400847", "AC2918364",
        "+996555274913", "Faculty of Geography, Ecology and Tourism", 6, "052", 4, "88",
        "hundred", (("ky", "native"), ("ru", "C1"), ("en", "B1")),
    ),
    DemoStudent(
        "nurzat@kopir.demo", "ky", "KG", "auca.kg", ("Нурзат", "Бөрүбаева"),
        ("NURZAT", "BORUBAEVA"), 2, date(2006, 8, 9), "10908200601293", "AC3407519",
        "+996700318526", "Environmental Management and Sustainability", 6, "052", 2, "91",
        "hundred", (("ky", "native"), ("ru", "C2"), ("en", "C1")),
    ),
]
DEMO_APPLIED_TO = "altai-summer-school-geoecology"
ALTAI_ANSWERS = {
    "long": "Two summers of river sampling with my department: we measured turbidity and "
    "heavy metals below a reservoir, upstream and downstream of a mine, and mapped them in QGIS.",
    "choice": "yes",
}
ALTAI_MOTIVATION = (
    "I want to study the glaciers of the Altai with people who have measured them for decades, "
    "and to bring the methods home: the rivers of my region are fed by mountain glaciers too, "
    "and my thesis needs field data that only a season in the mountains can give."
)


# Master's students who already accepted an offer of the Bishkek double master's degree: the
# coordinator can nominate them, and the Bishkek partner can answer.
CONFIRMED_APPLICANTS = [
    DemoStudent(
        "madina@kopir.demo", "kk", "KZ", "vku.edu.kz", ("Мадина", "Жұмабаева"),
        ("MADINA", "ZHUMABAYEVA"), 2, date(2002, 12, 5), "021205605289", "N11620473",
        "+77015829364", "Faculty of Economics", 7, "031", 1, "3.80", "kz4",
        (("kk", "native"), ("ru", "C2"), ("en", "B2")),
    ),
    DemoStudent(
        "sergei@kopir.demo", "ru", "RU", "nsu.ru", ("Сергей", "Волков"),
        ("SERGEI", "VOLKOV"), 1, date(2003, 2, 21), "157-284-391 93", "751946208",
        "+79139057241", "Faculty of Economics", 7, "031", 1, "4.6", "five",
        (("ru", "native"), ("en", "B1")),
    ),
]
DEMO_CONFIRMED_IN = "bishkek-double-degree-economics"
BISHKEK_ANSWERS = {"short": "Small business and regional inequality along the Kazakh-Kyrgyz border"}
BISHKEK_MOTIVATION = (
    "I want to compare regional development in Central Asia and work on it at home: a year in "
    "Bishkek, with its economists and its data on cross-border trade, would let me write a "
    "thesis that both universities can supervise and that my region can use."
)


def _profile(person: DemoStudent, by_schac: dict[str, Institution]) -> StudentProfile:
    from portal.reference import normalize_gpa

    return StudentProfile(
        native_given_names=person.native[0],
        native_family_name=person.native[1],
        native_name_lang=person.locale,
        latin_given_names=person.latin[0],
        latin_family_name=person.latin[1],
        birth_date=person.birth_date,
        gender=person.gender,
        citizenship=person.citizenship,
        national_id=person.national_id,
        passport_number=person.passport,
        phone=person.phone,
        home_institution=by_schac[person.home],
        faculty=person.faculty,
        study_level=person.level,
        isced_code=person.isced,
        year_of_study=person.year,
        gpa=Decimal(person.gpa),
        gpa_scale=person.scale,
        gpa_normalized=normalize_gpa(Decimal(person.gpa), person.scale),
        languages=[LanguageSkill(language=lang, level=level) for lang, level in person.languages],
    )


def _pdf(lines: list[str]) -> bytes:
    """Return a one-page A4 PDF showing a few lines of text (Latin-1) in Helvetica."""

    def literal(text: str) -> str:
        text = text.encode("latin-1", "replace").decode("latin-1")
        return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"

    shown = " ".join(f"{literal(line)} '" for line in lines)
    content = f"BT /F1 13 Tf 64 790 Td 20 TL {shown} ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    return pdf_file(objects)


def pdf_file(objects: list[bytes], *, header: bytes = b"%PDF-1.4\n") -> bytes:
    """Return a PDF file of these numbered objects (the first is the catalogue), with its xref."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _document(person: DemoStudent, kind: str, by_schac: dict[str, Institution]) -> FileStorage:
    """Make the scan a demo student uploads for one required document kind."""
    title = kind.replace("_", " ").capitalize()
    pdf = _pdf(
        [
            f"{title}: {' '.join(person.latin)}",
            by_schac[person.home].name("en"),
            f"{person.faculty}, year {person.year}",
            "Demo document of the Kopir portal: not a real one.",
        ]
    )
    return FileStorage(io.BytesIO(pdf), filename=f"{kind}.pdf", content_type="application/pdf")


def _seed_applicants(
    program: Program,
    by_schac: dict[str, Institution],
    users: dict[str, User],
    applicants: list[DemoStudent],
    motivation: str,
    answers: dict[str, str],
) -> list[Application]:
    """Have each new demo student apply as a student does: the portal's own checks apply."""
    from portal.applications.services import (
        save_answers,
        save_motivation,
        start_application,
        submit_application,
    )
    from portal.documents.services import store_document

    made = []
    for person in applicants:
        if person.email in users:
            continue
        student = User(
            email=person.email, role=Role.STUDENT, locale=person.locale, verified_at=utcnow()
        )
        _set_demo_password(student)
        student.profile = _profile(person, by_schac)
        db.session.add(student)
        users[person.email] = student
        application = start_application(student, program)
        save_motivation(application, motivation)
        save_answers(application, {str(q.id): answers[q.kind] for q in program.questions})
        for kind in program.required_documents:
            store_document(application, kind, _document(person, kind, by_schac))
        db.session.flush()  # the e-mail the submission queues links to the application's id
        # Refuses an incomplete or ineligible application, so the demo cannot contradict itself.
        submit_application(application, actor=student)
        made.append(application)
    return made


def _seed_confirmed(
    program: Program, by_schac: dict[str, Institution], users: dict[str, User]
) -> int:
    """Take two students the whole way: accepted, offer letter issued, offer accepted."""
    from portal.applications.decisions import decide
    from portal.offers.models import Response
    from portal.offers.services import issue_offer, respond

    coordinator = users["coordinator@kopir.demo"]
    made = _seed_applicants(
        program, by_schac, users, CONFIRMED_APPLICANTS, BISHKEK_MOTIVATION, BISHKEK_ANSWERS
    )
    for application in made:
        decide(application, State.ACCEPTED, actor=coordinator)
        offer = issue_offer(application, actor=coordinator)
        respond(application, offer.id, Response.CONFIRMED, student=application.student)
    return len(made)


# Who signs the offer letters of each host: (name per letter language, title per language). A
# Cyrillic letter gives the name in the signatory's own Cyrillic spelling.
SIGNATORIES = {
    "vku.edu.kz": (
        {"en": "Aigul Serikkyzy", "kk": "Айгүл Серікқызы", "ru": "Айгуль Серикқызы", "ky": "Айгүл Серікқызы"},
        {
            "en": "Director, International Office",
            "kk": "Халықаралық бөлімнің директоры",
            "ru": "Директор международного отдела",
            "ky": "Эл аралык бөлүмдүн директору",
        },
    ),
    "nsu.ru": (
        {"en": "Elena Sokolova", "ru": "Елена Соколова", "kk": "Елена Соколова", "ky": "Елена Соколова"},
        {
            "en": "Vice-Rector for International Affairs",
            "ru": "Проректор по международной деятельности",
            "kk": "Халықаралық қызмет жөніндегі проректор",
            "ky": "Эл аралык иштер боюнча проректор",
        },
    ),
    "knu.kg": (
        {"en": "Bakyt Toktogulov", "ky": "Бакыт Токтогулов", "ru": "Бакыт Токтогулов", "kk": "Бакыт Токтогулов"},
        {
            "en": "Head of the International Office",
            "ky": "Эл аралык бөлүмдүн башчысы",
            "ru": "Начальник международного отдела",
            "kk": "Халықаралық бөлімнің басшысы",
        },
    ),
}


def _letter_templates(program: Program, schac: str) -> list[LetterTemplate]:
    names, titles = SIGNATORIES.get(schac, ({}, {}))
    return [
        LetterTemplate(
            program=program,
            locale=locale,
            body="",
            conditions="",
            signatory_name=names.get(locale) or names.get("en", ""),
            signatory_title=titles.get(locale, ""),
        )
        for locale in ("en", "ru", "kk", "ky")
        if names
    ]


def _demo_link() -> str | None:
    """Return a link from the first e-mail the demo queued, if it queued any."""
    from portal.mail import OutgoingMail

    body = db.session.scalar(
        sa.select(OutgoingMail.body_text)
        .where(OutgoingMail.recipient.endswith("@kopir.demo"))
        .order_by(OutgoingMail.id)
        .limit(1)
    )
    match = re.search(r"https?://\S+", body or "")
    return match.group(0) if match else None


def _origin(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.scheme}://{parts.netloc}"


def seed(today: date | None = None) -> Iterator[str]:
    """Create what is missing of the demo data and describe what is there."""
    today = today or utcnow().date()
    earlier = _demo_link()
    by_schac: dict[str, Institution] = {
        i.schac: i for i in db.session.scalars(sa.select(Institution))
    }
    for spec in INSTITUTIONS:
        if spec["schac"] not in by_schac:
            institution = Institution(**spec)
            db.session.add(institution)
            by_schac[spec["schac"]] = institution
    db.session.flush()

    users: dict[str, User] = {u.email: u for u in db.session.scalars(sa.select(User))}
    for email, role, schac in ACCOUNTS:
        if email not in users:
            user = User(
                email=email,
                role=role,
                institution=by_schac[schac] if schac else None,
                verified_at=utcnow(),
                # No language of their own yet: the first login keeps the one the visitor chose.
                locale=None,
            )
            _set_demo_password(user)
            db.session.add(user)
            users[email] = user
        yield f"  {role.value:<12} {email:<26} password: {DEMO_PASSWORD}"
    db.session.flush()

    existing = set(db.session.scalars(sa.select(Program.slug)))
    for spec in _programs(today):
        if spec["slug"] in existing:
            continue
        host = by_schac[spec["host"]]
        zone = host.timezone
        opens, closes = spec["window"]
        program = Program(
            slug=spec["slug"],
            kind=spec["kind"],
            host=host,
            titles=spec["titles"],
            descriptions=spec["descriptions"],
            language=spec["language"],
            isced_code=spec["isced"],
            starts_on=spec["dates"][0],
            ends_on=spec["dates"][1],
            place=spec["place"],
            fee_amount=spec["fee"],
            fee_currency=spec["currency"],
            funding=spec["funding"],
            seats=spec["seats"],
            timezone=zone,
            opens_at=_local(opens, zone, time(9, 0)),
            closes_at=_local(closes, zone),
            eligible_levels=spec["levels"],
            min_gpa=spec["min_gpa"],
            required_language=spec["required_language"],
            required_cefr=spec["required_cefr"],
            citizenships=spec["citizenships"],
            required_documents=spec["documents"],
            partners=[by_schac[s] for s in spec["partners"]],
        )
        for position, (kind, prompts) in enumerate(spec["questions"], start=1):
            choices = []
            if kind == "choice":
                choices = [
                    {"value": "yes", "labels": {"en": "Yes", "ru": "Да", "kk": "Иә", "ky": "Ооба"}},
                    {"value": "no", "labels": {"en": "No", "ru": "Нет", "kk": "Жоқ", "ky": "Жок"}},
                ]
            program.questions.append(
                ProgramQuestion(position=position, kind=kind, prompts=prompts, choices=choices)
            )
        for schac, seats in spec.get("quotas", {}).items():
            program.quotas.append(ProgramQuota(institution=by_schac[schac], seats=seats))
        program.staff.append(ProgramStaff(user=users["coordinator@kopir.demo"], role="coordinator"))
        program.staff.append(ProgramStaff(user=users["reviewer@kopir.demo"], role="reviewer"))
        program.staff.append(ProgramStaff(user=users["reviewer2@kopir.demo"], role="reviewer"))
        for position, (names, weight) in enumerate(RUBRIC, start=1):
            program.criteria.append(
                RubricCriterion(
                    position=position, names=names, weight=Decimal(weight), max_score=10
                )
            )
        program.refresh_search_text()
        db.session.add(program)
        db.session.add_all(_letter_templates(program, spec["host"]))
    db.session.flush()
    applied_to = db.session.scalar(sa.select(Program).where(Program.slug == DEMO_APPLIED_TO))
    if applied_to is not None:
        _seed_applicants(
            applied_to, by_schac, users, APPLICANTS, ALTAI_MOTIVATION, ALTAI_ANSWERS
        )
        db.session.flush()
        yield f"  {len(APPLICANTS)} demo applicants (same password) applied to {DEMO_APPLIED_TO}"
    confirmed_in = db.session.scalar(sa.select(Program).where(Program.slug == DEMO_CONFIRMED_IN))
    if confirmed_in is not None and _seed_confirmed(confirmed_in, by_schac, users):
        db.session.flush()
    if confirmed_in is not None:
        yield (
            f"  {len(CONFIRMED_APPLICANTS)} students accepted their offer of {DEMO_CONFIRMED_IN}:"
            " nominate them, then answer as partner@kopir.demo"
        )
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Program))
    yield f"  {count} programmes, {len(by_schac)} institutions"
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if earlier and base and not earlier.startswith(base + "/"):
        # Letters keep their QR codes: data made for another address is not rewritten.
        yield (
            f"  Note: the demo data was made earlier for {_origin(earlier)}: its "
            f"letters and e-mails link there, not to {base}. Empty the database and seed "
            "again to remake them."
        )
