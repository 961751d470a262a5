"""Field helpers shared by the forms of several domains."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, IntegerField, widgets
from wtforms import Form as PlainForm
from wtforms.validators import ValidationError
from wtforms.widgets import core as widgets_core

from portal.identity import mixed_script_words


class _BabelTranslations:
    """Let WTForms' own messages come from the project's catalogue, in the user's language.

    WTForms ships no Kyrgyz catalogue, so its messages are translated with ours; the markers
    below put them there. Formatting stays with WTForms, hence the raw (unformatted) calls.
    """

    def gettext(self, string: str) -> str:
        """Translate a message."""
        return get_translations().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message with a plural."""
        return get_translations().ngettext(singular, plural, n)


_TRANSLATIONS = _BabelTranslations()

WTFORMS_HTML_PARAMS = widgets_core.html_params


def html_params(**kwargs: Any) -> Markup:
    """Write HTML attributes exactly as WTForms' html_params does, without Markup.format.

    WTForms formats each attribute through string.Formatter (Markup.format): a page's widgets
    spent a twentieth of its CPU there. Same output, pinned by tests/core/test_widget_markup.py.
    """
    params = []
    for key, value in sorted(kwargs.items()):
        key = widgets_core.clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))  # noqa: S704  (each key and value escaped above)


# Every widget (and Field.label) calls the module's function, or the widget's staticmethod.
widgets_core.html_params = html_params
widgets.html_params = html_params
widgets_core.Input.html_params = staticmethod(html_params)
widgets_core.Button.html_params = staticmethod(html_params)


class _Meta:
    def get_translations(self, form: Any) -> _BabelTranslations:
        return _TRANSLATIONS


class KopirForm(FlaskForm):
    """Base of the portal's forms: CSRF from Flask-WTF, messages from our catalogue."""

    class Meta(_Meta):
        """Translate WTForms' messages with the project's catalogue."""


class SubForm(PlainForm):
    """Base of forms nested in another (no CSRF of their own), translated likewise."""

    class Meta(_Meta):
        """Translate WTForms' messages with the project's catalogue."""


def _wtforms_messages() -> None:  # pragma: no cover - never called; marks strings for extraction
    from flask_babel import gettext, ngettext

    gettext("This field is required.")
    gettext("Not a valid choice.")
    gettext("Not a valid date value.")
    gettext("Not a valid decimal value.")
    gettext("Not a valid integer value.")
    gettext("Not a valid float value.")
    gettext("Invalid input.")
    gettext("Invalid Choice: could not coerce.")
    gettext("Field must be equal to %(other_name)s.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Number must be at least %(min)s.")
    gettext("Number must be at most %(max)s.")
    gettext("Field must be between %(min)d and %(max)d characters long.")
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    )


def clean_text(value: Any) -> Any:
    """Normalise typed text: NFC, no control or bidi-override characters, trimmed."""
    if not isinstance(value, str):
        return value
    # Browsers send a textarea's line breaks as CRLF but count them as one character against
    # maxlength: keep them as LF so Length(max=…) agrees with what the user was allowed to type.
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    value = "".join(
        ch
        for ch in value
        if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    )
    return value.strip()


_WHITESPACE_RUN = re.compile(r"\s+")


def clean_line(value: Any) -> Any:
    """Normalise text typed on one line: as clean_text, with line breaks and tabs as one space."""
    value = clean_text(value)
    if not isinstance(value, str):
        return value
    # A single-line field cannot type a line break: one in a name, a subject or a code was
    # pasted or forged, and would break a letter, an e-mail header or an export row.
    return _WHITESPACE_RUN.sub(" ", value)


class SmallIntegerField(IntegerField):
    """An integer field that refuses absurdly long numbers before anything compares them."""

    def process_formdata(self, valuelist: list[str]) -> None:
        """Parse at most six digits (WTForms' range check overflows on huge integers)."""
        if valuelist and len(valuelist[0].strip()) > 6:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)


class NoMarkup:
    """Refuse text that looks like HTML, since names end up in letters and exports."""

    def __call__(self, form: Any, field: Field) -> None:
        """Raise when the data holds angle brackets."""
        if field.data and ("<" in field.data or ">" in field.data):
            raise ValidationError(_l("Please use letters, not the characters < and >."))


class SingleScriptWords:
    """Refuse words that mix lookalike Latin and Cyrillic letters ("KазНУ" with a Latin K).

    Such a word looks right but is another string: a name no search finds, a university that
    counts twice in every chart. Names keep hyphenated words whole ("Ivan-Иван" is refused);
    the names of things let a hyphen separate, as in "IT-университет".
    """

    def __init__(self, *, hyphen_joins: bool = True) -> None:
        self.hyphen_joins = hyphen_joins

    def __call__(self, form: Any, field: Field) -> None:
        """Raise naming the words that mix scripts."""
        words = mixed_script_words(field.data or "", hyphen_joins=self.hyphen_joins)
        if words:
            raise ValidationError(
                _l(
                    "These words mix Latin and Cyrillic letters that look alike: %(words)s. "
                    "Please retype them in one alphabet.",
                    words=", ".join(words[:5]),
                )
            )
