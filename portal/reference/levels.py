"""Study levels (EQF), language levels (CEFR), GPA scales and ISO 5218 genders."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

EQF_LEVELS: dict[int, LazyString] = {
    6: _l("Bachelor (EQF 6)"),
    7: _l("Master (EQF 7)"),
    8: _l("Doctorate (EQF 8)"),
}

CEFR_LEVELS: tuple[str, ...] = ("A1", "A2", "B1", "B2", "C1", "C2")
NATIVE = "native"
CEFR_LABELS: dict[str, str | LazyString] = {
    **{level: level for level in CEFR_LEVELS},
    NATIVE: _l("Native speaker"),
}
_CEFR_RANKS: dict[str, int] = {
    **{level: rank for rank, level in enumerate(CEFR_LEVELS, start=1)},
    NATIVE.upper(): len(CEFR_LEVELS) + 1,
}


@dataclass(frozen=True)
class GpaScale:
    """Describe a grading scale: its label and its lowest and highest grade."""

    label: LazyString
    low: Decimal
    high: Decimal


# A GPA is normalised to a 0-100 figure linearly between the scale's lowest and highest grade:
# kz4 -> gpa / 4 * 100; hundred -> gpa; five -> (gpa - 2) / 3 * 100, because Russian and Kyrgyz
# 5-point grades start at 2 (= fail), so a 2.0 average maps to 0 and a 5.0 average to 100.
GPA_SCALES: dict[str, GpaScale] = {
    "kz4": GpaScale(_l("4.0 scale (Kazakhstan)"), Decimal(0), Decimal("4.0")),
    "five": GpaScale(_l("5-point scale"), Decimal(2), Decimal(5)),
    "hundred": GpaScale(_l("100-point scale"), Decimal(0), Decimal(100)),
}

GENDERS: dict[int, LazyString] = {
    1: _l("Male"),
    2: _l("Female"),
    0: _l("Not known"),
    9: _l("Not applicable"),
}

_ONE_DECIMAL = Decimal("0.1")
_HUNDRED = Decimal(100)


def eqf_choices() -> list[tuple[int, str]]:
    """Return (level, label) pairs for the EQF levels in the current locale."""
    return [(level, str(label)) for level, label in EQF_LEVELS.items()]


def cefr_choices() -> list[tuple[str, str]]:
    """Return (level, label) pairs for A1 to C2 and native, in the current locale."""
    return [(level, str(label)) for level, label in CEFR_LABELS.items()]


def cefr_rank(level: str | None) -> int:
    """Rank a CEFR level: A1=1 … C2=6, native=7, anything else 0 (case-insensitive)."""
    if not isinstance(level, str):
        return 0
    return _CEFR_RANKS.get(level.strip().upper(), 0)


def cefr_at_least(level: str | None, minimum: str | None) -> bool:
    """Tell whether `level` meets `minimum`; an empty minimum is always met."""
    if not minimum:
        return True
    required = cefr_rank(minimum)
    if required == 0:
        raise ValueError(f"unknown CEFR level: {minimum!r}")
    return cefr_rank(level) >= required


def gpa_choices() -> list[tuple[str, str]]:
    """Return (key, label) pairs for the GPA scales in the current locale."""
    return [(key, str(scale.label)) for key, scale in GPA_SCALES.items()]


def gpa_range(scale: str) -> tuple[Decimal, Decimal]:
    """Return the lowest and highest grade of a GPA scale."""
    try:
        spec = GPA_SCALES[scale]
    except KeyError:
        raise ValueError(f"unknown GPA scale: {scale!r}") from None
    return spec.low, spec.high


def normalize_gpa(value: Decimal | float, scale: str) -> Decimal:
    """Map a GPA linearly onto 0-100 (scale minimum -> 0), rounded half up to one decimal."""
    low, high = gpa_range(scale)
    if isinstance(value, bool) or not isinstance(value, Decimal | float | int):
        raise TypeError(f"not a number: {value!r}")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if not low <= number <= high:
        raise ValueError(f"GPA {value} is outside the {scale} range {low}-{high}")
    normalised = (number - low) / (high - low) * _HUNDRED
    if normalised <= 0:  # also turns a negative zero into a plain zero
        normalised = Decimal(0)
    normalised = min(normalised, _HUNDRED)
    return normalised.quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def gender_choices() -> list[tuple[int, str]]:
    """Return (ISO 5218 code, label) pairs in the current locale."""
    return [(code, str(label)) for code, label in GENDERS.items()]
