"""Upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from portal.forms import KopirForm


class UploadForm(KopirForm):
    """Attach one file of one kind to an application."""

    kind = SelectField(_l("Document"), choices=[])
    file = FileField(
        _l("File (PDF, JPEG or PNG)"),
        validators=[FileRequired(_l("Please choose a file."))],
        render_kw={"accept": "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"},
    )
