"""E-mail about offer letters beyond the state changes (which applications/notifications sends)."""

from __future__ import annotations

from portal.applications.models import Application
from portal.offers.models import Offer


def queue_letter_mail(application: Application, offer: Offer, *, reissued: bool) -> None:
    """Tell the student that a new version of their letter replaces the one they had."""
    from portal.mail import queue_mail

    student = application.student
    queue_mail(
        student.email,
        "offer_reissued",
        student.locale,
        application=application,
        offer=offer,
        reissued=reissued,
    )
