"""Storing and replacing uploaded documents."""

from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from portal.applications.models import Application
from portal.applications.services import ApplicationError
from portal.applications.states import State
from portal.db import utcnow
from portal.documents.models import Document
from portal.documents.sniff import Rejection, clean_original_name, sniff
from portal.extensions import db
from portal.storage import get_storage


def rejection_message(rejection: Rejection) -> str:
    """Explain a refused file in the user's language."""
    from portal.i18n import filesize

    limit = filesize(current_app.config["UPLOAD_MAX_BYTES"])
    return {
        Rejection.EMPTY: _("The file is empty."),
        Rejection.TOO_LARGE: _("The file is larger than %(size)s.", size=limit),
        Rejection.UNKNOWN_TYPE: _(
            "Only PDF, JPEG and PNG files are accepted; this file is "
            "something else, whatever its name says."
        ),
        Rejection.CORRUPT: _(
            "The file is damaged or carries extra content; please export it again and retry."
        ),
        Rejection.ACTIVE_CONTENT: _(
            "PDF files with scripts, attachments or forms are not "
            "accepted; please print it to a plain PDF and retry."
        ),
        Rejection.IMAGE_TOO_BIG: _("The image has too many pixels; please scale it down."),
        Rejection.ENCRYPTED: _("The PDF is protected by a password; please upload it without one."),
    }[rejection]


class UploadRefused(Exception):
    """A file that is not stored, with the message for the student."""


def store_document(application: Application, kind: str, upload: FileStorage) -> Document:
    """Check a file by its content, store it, and replace the earlier one of the same kind."""
    if application.state != State.DRAFT:
        raise ApplicationError(_("This application was submitted and can no longer be changed."))
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    # Read one byte past the limit: enough to know the file is too large, never the whole stream.
    data = upload.stream.read(limit + 1)
    result = sniff(data, max_bytes=limit, max_pixels=current_app.config["UPLOAD_MAX_PIXELS"])
    if isinstance(result, Rejection):
        raise UploadRefused(rejection_message(result))
    storage = get_storage()
    key = storage.new_key(result.extension)
    try:
        storage.save(key, data)
    except OSError as exc:
        raise UploadRefused(
            _(
                "The file could not be stored (the server's disk may be full). Nothing was "
                "saved; please try again later."
            )
        ) from exc
    # Should the transaction fail after this, the file must not outlive it.
    g.setdefault("stored_files", []).append(key)
    now = utcnow()
    for previous in application.current_documents():
        if previous.kind == kind:
            previous.superseded_at = now
    document = Document(
        application=application,
        kind=kind,
        original_name=clean_original_name(upload.filename or ""),
        media_type=result.media_type,
        size=result.size,
        sha256=result.sha256,
        storage_key=key,
        uploaded_at=now,
    )
    db.session.add(document)
    return document


def remove_document(document: Document) -> None:
    """Take a document off a draft (the stored file stays for the record)."""
    if document.application.state != State.DRAFT:
        raise ApplicationError(_("This application was submitted and can no longer be changed."))
    document.superseded_at = utcnow()
