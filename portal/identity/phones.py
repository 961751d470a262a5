"""Normalise phone numbers to E.164 with the phonenumbers library."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

__all__ = ["normalize_phone", "phone_region"]

# A formatted number with country code and punctuation fits easily; refusing longer input
# keeps pasted junk away from the parser's regular expressions.
_MAX_INPUT_LENGTH = 64
# Region codes that name no country: "001" is for non-geographic numbers, "ZZ" is unknown.
_NON_REGIONS = frozenset({"001", "ZZ"})


def _parse_valid(raw: str, region: str | None) -> PhoneNumber | None:
    """Parse raw and return it only if phonenumbers considers it a valid number."""
    if not isinstance(raw, str) or len(raw) > _MAX_INPUT_LENGTH:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    # E.164 cannot carry an extension, so storing one would silently change the contact.
    if number.extension:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(raw: str, default_region: str | None) -> str | None:
    """Return raw as an E.164 string, reading national formats in default_region, or None."""
    region = default_region.strip().upper() if default_region else None
    number = _parse_valid(raw, region)
    if number is None:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_region(e164: str) -> str | None:
    """Return the ISO 3166-1 region of an international number, or None if it has none."""
    number = _parse_valid(e164, None)
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    return None if region is None or region in _NON_REGIONS else region
