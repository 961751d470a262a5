"""ISCED-F 2013 fields of education and training (UNESCO), broad and narrow levels."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# The 11 broad fields of ISCED-F 2013 plus "99 Field unknown", keyed by 2-digit code.
BROAD_FIELDS: dict[str, LazyString] = {
    "00": _l("Generic programmes and qualifications"),
    "01": _l("Education"),
    "02": _l("Arts and humanities"),
    "03": _l("Social sciences, journalism and information"),
    "04": _l("Business, administration and law"),
    "05": _l("Natural sciences, mathematics and statistics"),
    "06": _l("Information and Communication Technologies (ICTs)"),
    "07": _l("Engineering, manufacturing and construction"),
    "08": _l("Agriculture, forestry, fisheries and veterinary"),
    "09": _l("Health and welfare"),
    "10": _l("Services"),
    "99": _l("Field unknown"),
}

# Every narrow field of ISCED-F 2013 (3-digit code), including the official "x8"
# inter-disciplinary ones; the "not further defined" (x0) and "not elsewhere classified" (x9)
# coding conventions and the 4-digit detailed fields are deliberately left out.
ISCED_FIELDS: dict[str, LazyString] = {
    "001": _l("Basic programmes and qualifications"),
    "002": _l("Literacy and numeracy"),
    "003": _l("Personal skills and development"),
    "011": _l("Education"),
    "018": _l("Inter-disciplinary programmes and qualifications involving education"),
    "021": _l("Arts"),
    "022": _l("Humanities (except languages)"),
    "023": _l("Languages"),
    "028": _l("Inter-disciplinary programmes and qualifications involving arts and humanities"),
    "031": _l("Social and behavioural sciences"),
    "032": _l("Journalism and information"),
    "038": _l(
        "Inter-disciplinary programmes and qualifications involving social sciences, "
        "journalism and information"
    ),
    "041": _l("Business and administration"),
    "042": _l("Law"),
    "048": _l(
        "Inter-disciplinary programmes and qualifications involving business, "
        "administration and law"
    ),
    "051": _l("Biological and related sciences"),
    "052": _l("Environment"),
    "053": _l("Physical sciences"),
    "054": _l("Mathematics and statistics"),
    "058": _l(
        "Inter-disciplinary programmes and qualifications involving natural sciences, "
        "mathematics and statistics"
    ),
    "061": _l("Information and Communication Technologies (ICTs)"),
    "068": _l(
        "Inter-disciplinary programmes and qualifications involving Information and "
        "Communication Technologies (ICTs)"
    ),
    "071": _l("Engineering and engineering trades"),
    "072": _l("Manufacturing and processing"),
    "073": _l("Architecture and construction"),
    "078": _l(
        "Inter-disciplinary programmes and qualifications involving engineering, "
        "manufacturing and construction"
    ),
    "081": _l("Agriculture"),
    "082": _l("Forestry"),
    "083": _l("Fisheries"),
    "084": _l("Veterinary"),
    "088": _l(
        "Inter-disciplinary programmes and qualifications involving agriculture, "
        "forestry, fisheries and veterinary"
    ),
    "091": _l("Health"),
    "092": _l("Welfare"),
    "098": _l("Inter-disciplinary programmes and qualifications involving health and welfare"),
    "101": _l("Personal services"),
    "102": _l("Hygiene and occupational health services"),
    "103": _l("Security services"),
    "104": _l("Transport services"),
    "108": _l("Inter-disciplinary programmes and qualifications involving services"),
}


def broad_of(code: str) -> str:
    """Return the 2-digit broad field of an ISCED-F code of 2 to 4 digits."""
    if not (isinstance(code, str) and code.isascii() and code.isdigit() and 2 <= len(code) <= 4):
        raise ValueError(f"not an ISCED-F field code: {code!r}")
    broad = code[:2]
    if broad not in BROAD_FIELDS:
        raise ValueError(f"unknown ISCED-F broad field: {code!r}")
    return broad


def isced_name(code: str) -> str:
    """Return the name of a narrow (3-digit) or broad (2-digit) field in the current locale."""
    if code in ISCED_FIELDS:
        return str(ISCED_FIELDS[code])
    if code in BROAD_FIELDS:
        return str(BROAD_FIELDS[code])
    raise KeyError(code)


def isced_choices() -> list[tuple[str, str]]:
    """Return (code, "code name") pairs for every narrow field, in code order."""
    return [(code, f"{code} {name}") for code, name in ISCED_FIELDS.items()]


def isced_grouped_choices() -> dict[str, list[tuple[str, str]]]:
    """Return narrow-field choices grouped under "code name" broad-field labels (optgroups)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    labels = {code: f"{code} {name}" for code, name in BROAD_FIELDS.items()}
    for code, label in isced_choices():
        groups.setdefault(labels[broad_of(code)], []).append((code, label))
    return groups
