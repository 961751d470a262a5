"""Validate identity data: national ID numbers, name transliteration and phone numbers."""

from portal.identity.national_ids import (
    IdError,
    check_iin,
    check_kg_pin,
    check_national_id,
    check_snils,
    iin_birth_date,
    iin_gender,
    normalize_national_id,
    normalize_snils,
)
from portal.identity.phones import normalize_phone, phone_region
from portal.identity.translit import (
    has_mixed_scripts,
    is_cyrillic_name,
    is_latin_passport_name,
    latin_from_cyrillic,
    suggest_latin_name,
)

__all__ = [
    "IdError",
    "check_iin",
    "check_kg_pin",
    "check_national_id",
    "check_snils",
    "has_mixed_scripts",
    "iin_birth_date",
    "iin_gender",
    "is_cyrillic_name",
    "is_latin_passport_name",
    "latin_from_cyrillic",
    "normalize_national_id",
    "normalize_phone",
    "normalize_snils",
    "phone_region",
    "suggest_latin_name",
]
