"""The catalogue's filter form (a GET form: nothing changes, so no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SearchField, SelectField
from wtforms.validators import Length, Optional

from portal.forms import KopirForm, clean_text


class CatalogueForm(KopirForm):
    """Narrow the catalogue down."""

    class Meta:
        """Filters change nothing, so the form carries no CSRF token."""

        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)], filters=[clean_text])
    kind = SelectField(_l("Kind"), choices=[], default="")
    country = SelectField(_l("Host country"), choices=[], default="")
    language = SelectField(_l("Language of instruction"), choices=[], default="")
    field = SelectField(_l("Field of study"), choices=[], default="")
    open_now = BooleanField(_l("Open for applications now"))
