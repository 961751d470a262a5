"""Upload, remove and download the documents of an application."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.access import can_download_document, can_edit_application, load_or_404
from portal.applications.models import Application
from portal.applications.queries import step_page_loads
from portal.applications.services import ApplicationError
from portal.documents import services
from portal.documents.forms import UploadForm
from portal.documents.models import Document
from portal.documents.sniff import safe_download_name
from portal.programs.models import DOCUMENT_KINDS
from portal.storage import get_storage

bp = Blueprint("documents", __name__)


def kind_choices(application: Application) -> list[tuple[str, str]]:
    """Return the document kinds a student may upload: the required ones first."""
    required = application.program.required_documents
    rest = [k for k in DOCUMENT_KINDS if k not in required]
    return [(k, str(DOCUMENT_KINDS[k])) for k in [*required, *rest]]


@bp.route("/applications/<int:application_id>/documents", methods=["GET", "POST"])
@login_required
def manage(application_id: int) -> str | Response:
    """List the application's documents and take a new one."""
    application = load_or_404(
        Application,
        application_id,
        lambda a: a.student_id == current_user.id,
        options=step_page_loads(documents=True),
    )
    form = UploadForm()
    form.kind.choices = kind_choices(application)
    status = 200
    if form.validate_on_submit():
        if not can_edit_application(application):
            flash(_("This application was submitted and can no longer be changed."), "warning")
            return redirect(url_for("applications.detail", application_id=application.id))
        try:
            services.store_document(application, form.kind.data, form.file.data)
        except services.UploadRefused as exc:
            form.file.errors.append(str(exc))
            status = 422
        except ApplicationError as exc:
            flash(str(exc), "warning")
            return redirect(url_for("applications.detail", application_id=application.id))
        else:
            flash(_("The document is uploaded."), "success")
            target = url_for("documents.manage", application_id=application.id)
            if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                # The page's script shows upload progress; it navigates itself, keeping the flash.
                return jsonify({"location": target})
            return redirect(target)
    elif form.is_submitted():
        status = 422
    return render_template(
        "applications/documents.html",
        application=application,
        form=form,
        remove_form=UploadForm(),
        document_kinds=DOCUMENT_KINDS,
        step="documents",
    ), status


@bp.post("/documents/<int:document_id>/remove")
@login_required
def remove(document_id: int) -> Response:
    """Take a document off a draft."""
    document = load_or_404(
        Document, document_id, lambda d: d.application.student_id == current_user.id
    )
    from portal.applications.forms import ConfirmForm

    if ConfirmForm().validate_on_submit() and can_edit_application(document.application):
        services.remove_document(document)
        flash(_("The document is removed."), "info")
    return redirect(url_for("documents.manage", application_id=document.application_id))


@bp.get("/documents/<int:document_id>")
@login_required
def download(document_id: int) -> Response:
    """Send a document as an attachment, to its owner and the staff who may see it."""
    document = load_or_404(Document, document_id, can_download_document)
    return attachment(document)


def attachment(document: Document) -> Response:
    """Send a stored document as a download, named by its sniffed type, never shown inline."""
    name = safe_download_name(document.original_name, document.extension)
    # Old clients read filename=, current ones filename*= with the Cyrillic name intact.
    stem = name[: -len(document.extension)].encode("ascii", "ignore").decode()
    ascii_name = (stem.replace('"', "").strip() or "document") + document.extension
    response = Response(get_storage().load(document.storage_key), mimetype=document.media_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/documents/<int:document_id>/view")
@login_required
def view(document_id: int) -> Response:
    """Show a document in place (an image or a PDF checked for active content at upload)."""
    document = load_or_404(Document, document_id, can_download_document)
    response = Response(get_storage().load(document.storage_key), mimetype=document.media_type)
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Framed only by our own pages; the browser's PDF viewer needs no more than that.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
