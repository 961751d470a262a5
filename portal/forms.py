"""Field helpers shared by the forms of several domains."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.validators import ValidationError


def clean_text(value: Any) -> Any:
    """Normalise typed text: NFC, no control or bidi-override characters, trimmed."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value)
    value = "".join(
        ch
        for ch in value
        if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    return value.strip()


class NoMarkup:
    """Refuse text that looks like HTML, since names end up in letters and exports."""

    def __call__(self, form: Any, field: Field) -> None:
        """Raise when the data holds angle brackets."""
        if field.data and ("<" in field.data or ">" in field.data):
            raise ValidationError(_l("Please use letters, not the characters < and >."))
