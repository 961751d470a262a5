"""The questions the student-page tests' programme asks, and their answers, in four languages."""

MOUNTAIN = {
    "en": "Your favourite mountain",
    "ru": "Ваша любимая гора",
    "kk": "Сүйікті тауыңыз",
    "ky": "Сүйүктүү тооңуз",
}
SLEEP = {
    "en": "Where will you sleep?",
    "ru": "Где вы будете ночевать?",
    "kk": "Қайда түнейсіз?",
    "ky": "Кайда түнөйсүз?",
}
TENT = {"en": "In a tent", "ru": "В палатке", "kk": "Шатырда", "ky": "Чатырда"}
HOSTEL = {"en": "In a hostel", "ru": "В хостеле", "kk": "Хостелде", "ky": "Жатаканада"}
