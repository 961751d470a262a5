"""What the offer letter's typeface can print, checked where text that reaches a letter is typed."""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from portal.offers.pdf import LETTER_FONT


@functools.cache
def letter_font_characters() -> frozenset[int] | None:
    """Return the code points the letter's typeface has; None when it is not installed here."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        # Fixed arguments, nothing the user typed: ask fontconfig, as WeasyPrint does, which file
        # the letter's family is.
        found = subprocess.run(  # noqa: S603
            [fc_match, "--format=%{family}\n%{file}", LETTER_FONT],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.splitlines()
        if len(found) != 2 or LETTER_FONT not in found[0].split(","):
            return None  # rendering letters fails on its own, saying the typeface is missing
        from fontTools.ttLib import TTFont

        with TTFont(found[1], fontNumber=0, lazy=True) as font:
            return frozenset(font.getBestCmap())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def unprintable(text: str) -> list[str]:
    """Return the characters of the text the letter's typeface has no glyph for, sorted."""
    covered = letter_font_characters()
    if covered is None:
        return []  # no typeface to compare with: rendering refuses the letter on its own
    return sorted(
        {
            ch
            for ch in text
            if ord(ch) not in covered and not unicodedata.category(ch).startswith(("Z", "C"))
        }
    )


class PrintableInLetter:
    """Refuse characters the letter's typeface has no glyph for (emoji, other scripts).

    WeasyPrint would set them in another font, which the letter refuses: the wording would
    stop every letter of the programme, so it is refused here, saying which characters.
    """

    def __init__(self, message: Any = None) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        """Raise when the text holds characters the typeface cannot print."""
        missing = unprintable(field.data or "")
        if missing:
            message = self.message or _l(
                "The letter's typeface cannot print these characters: %(chars)s. Please "
                "remove them."
            )
            raise ValidationError(str(message) % {"chars": " ".join(missing[:10])})
