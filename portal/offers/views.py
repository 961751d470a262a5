"""The student's side of an offer (download, answer) and the public verification page."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.access import can_decide, load_or_404, role_required
from portal.applications.models import Application
from portal.auth.models import Role
from portal.extensions import limiter
from portal.offers import services
from portal.offers.forms import RespondForm, VerifyForm
from portal.offers.models import STATUS_LABELS, Offer
from portal.offers.models import Response as Answer
from portal.storage import get_storage

bp = Blueprint("offers", __name__)

# A letter is a few hundred kilobytes; anything much larger cannot be one of ours.
VERIFY_MAX_BYTES = 5 * 1024 * 1024


def _may_read_letters(application: Application) -> bool:
    return application.student_id == current_user.id or can_decide(application)


def _offer_of(application_id: int, offer_id: int) -> Offer:
    application = load_or_404(Application, application_id, _may_read_letters)
    offer = load_or_404(Offer, offer_id)
    if offer.application_id != application.id:
        abort(404)
    return offer


@bp.get("/applications/<int:application_id>/letters/<int:offer_id>.pdf")
@role_required(Role.STUDENT, Role.COORDINATOR, Role.ADMIN)
def download(application_id: int, offer_id: int) -> Response:
    """Send a stored letter, exactly the bytes issued."""
    offer = _offer_of(application_id, offer_id)
    data = get_storage().load(offer.storage_key)
    response = send_file(
        BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{offer.reference}.pdf",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/applications/<int:application_id>/offer")
@role_required(Role.STUDENT)
def respond(application_id: int) -> Response:
    """Accept or decline the offer of the letter version the student had in front of them."""
    application = load_or_404(
        Application, application_id, lambda a: a.student_id == current_user.id
    )
    form = RespondForm()
    back = redirect(url_for("applications.detail", application_id=application.id))
    if not form.validate_on_submit():
        flash(_("Your answer could not be read. Please try again."), "danger")
        return back
    try:
        offer_id = int(form.offer_id.data or 0)
    except ValueError:
        offer_id = 0
    answer = Answer.CONFIRMED if form.accept.data else Answer.DECLINED
    if not form.accept.data and not form.decline.data:
        flash(_("Choose to accept or to decline the offer."), "warning")
        return back
    try:
        services.respond(application, offer_id, answer, student=current_user)
    except services.OfferError as exc:
        flash(str(exc), "warning")
        return back
    if answer == Answer.CONFIRMED:
        flash(_("You accepted the offer. Welcome!"), "success")
    else:
        flash(_("You declined the offer."), "info")
    return back


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("RATELIMIT_VERIFY", "30 per minute"))
def verify_form() -> str | Response:
    """Check a letter by its code, or by uploading the PDF (compared byte for byte)."""
    form = VerifyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("offers/verify_form.html", form=form), 400
        upload = form.letter.data
        if upload and getattr(upload, "filename", ""):
            data = upload.stream.read(VERIFY_MAX_BYTES + 1)
            if len(data) > VERIFY_MAX_BYTES or not data:
                form.letter.errors = [_("This file is not a letter issued by Kopir.")]
                return render_template("offers/verify_form.html", form=form), 422
            offer = services.find_by_pdf(data)
            if offer is None:
                return render_template("offers/verify_form.html", form=form, mismatch=True), 422
            return _result(offer, file_matched=True)
        code = (form.code.data or "").strip()
        if code:
            return redirect(url_for("offers.verify", code=_clean_code(code)))
        form.code.errors = [_("Enter the code printed under the QR code, or upload the PDF.")]
        return render_template("offers/verify_form.html", form=form), 422
    return render_template("offers/verify_form.html", form=form)


def _clean_code(code: str) -> str:
    # People type what they see: spaces, dashes and capitals do not matter.
    kept = "".join(ch for ch in code.lower() if ch.isalnum())
    return kept[:64] or "-"


@bp.get("/verify/<code>")
@limiter.limit(lambda: current_app.config.get("RATELIMIT_VERIFY", "30 per minute"))
def verify(code: str) -> str | tuple[str, int]:
    """Say whether the letter with this code stands, and show what the letter shows."""
    offer = services.find_by_code(_clean_code(code))
    if offer is None:
        return render_template("offers/verify_result.html", offer=None, form=VerifyForm()), 404
    return _result(offer)


def _result(offer: Offer, *, file_matched: bool = False) -> str:
    return render_template(
        "offers/verify_result.html",
        offer=offer,
        printed=offer.printed,
        status_label=STATUS_LABELS[offer.status],
        # Whether the student said yes is not on the letter, so it is not shown; only that an
        # offer lapsed (declined or expired), which a visa officer must not miss.
        lapsed=offer.response in (Answer.DECLINED, Answer.EXPIRED),
        issued_on=date.fromisoformat(offer.printed["issued_on"]),
        file_matched=file_matched,
        form=VerifyForm(),
    )
