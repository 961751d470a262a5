"""E-mail to the student when their application changes state."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from portal.applications.models import Application, ApplicationEvent
from portal.applications.states import STATE_LABELS, State, state_changed


def state_text(application: Application, to: str, state_label: object) -> str:
    """Say in a sentence what a move to this state means for the student (plain text).

    Plain text on purpose: the HTML message escapes it like any other value, so a title
    typed by a coordinator can never become markup.
    """
    from flask_babel import gettext as _

    program = application.program.title()
    sentences = {
        "submitted": _(
            'We received your application to "%(program)s". The coordinators will review it '
            "after the deadline; you can follow its status in the portal.",
            program=program,
        ),
        "withdrawn": _(
            'Your application to "%(program)s" is withdrawn, as you asked.', program=program
        ),
        "under_review": _(
            'Your application to "%(program)s" is now being reviewed.', program=program
        ),
        "accepted": _(
            'Good news: your application to "%(program)s" is accepted. Your offer letter will '
            "follow; you can follow every step in the portal.",
            program=program,
        ),
        "waitlisted": _(
            'Your application to "%(program)s" is on the waiting list. If a seat frees, we will '
            "write to you at once.",
            program=program,
        ),
        "rejected": _(
            'We are sorry: your application to "%(program)s" was not accepted this time.',
            program=program,
        ),
        "confirmed": _(
            'You accepted the offer of "%(program)s". We look forward to welcoming you.',
            program=program,
        ),
        "declined": _(
            'You declined the offer of "%(program)s". Thank you for telling us.',
            program=program,
        ),
        "expired": _(
            'The offer of "%(program)s" has expired: we had no answer by the deadline.',
            program=program,
        ),
    }
    if to == "offered":
        from portal.offers.services import current_offer

        offer = current_offer(application)
        if offer is not None:
            return _(
                'Your offer letter for "%(program)s" is ready. Please read it and accept or '
                "decline the offer in the portal by %(deadline)s.",
                program=program,
                deadline=offer.printed.get("deadline", ""),
            )
    return sentences.get(to) or _(
        'The status of your application to "%(program)s" is now: %(state)s.',
        program=program,
        state=state_label,
    )


def render_state_mail(application: Application, to: str) -> dict[str, str]:
    """Render the e-mail for a move to a state: the programme's own words, or ours."""
    from flask import render_template
    from flask_babel import force_locale

    from portal.mail import external_url
    from portal.programs import mail_templates

    student = application.student
    locale = student.locale or "en"
    label = STATE_LABELS[State(to)]
    with force_locale(locale):
        link = external_url("applications.detail", application_id=application.id)
        custom = mail_templates.find(application.program_id, to, locale)
        if custom is not None:
            profile = student.profile
            values = {
                "name": profile.latin_name if profile else student.email,
                "native_name": profile.native_name if profile else "",
                "programme": application.program.title(locale),
                "state": str(label),
                "link": link,
            }
            return {
                "to": student.email,
                "subject": mail_templates.fill(custom.subject, values),
                "body": mail_templates.fill(custom.body, values),
                "html": None,
            }
        event = SimpleNamespace(to_state=to, from_state=application.state, reason=None)
        context = {
            "application": application,
            "event": event,
            "state_label": label,
            # Worded once for both the text and the HTML part.
            "sentence": state_text(application, to, label),
        }
        return {
            "to": student.email,
            "subject": render_template("emails/application_state.subject.txt", **context).strip(),
            "body": render_template("emails/application_state.txt", **context),
            "html": render_template("emails/application_state.html", **context),
        }


def notify_student(application: Application, event: ApplicationEvent, **_: Any) -> None:
    """Queue the message for the new state, in the student's language."""
    from portal.mail import queue_rendered

    message = render_state_mail(application, event.to_state)
    queue_rendered(message["to"], message["subject"], message["body"], message["html"])


def preview_mail(application: Application, to: State) -> dict[str, str]:
    """Render the message a state change would send the student, without sending it."""
    return render_state_mail(application, to.value)


def connect() -> None:
    """Listen for state changes (blinker keeps one connection per receiver)."""
    from portal.applications.decisions import on_state_changed

    state_changed.connect(notify_student)
    state_changed.connect(on_state_changed)
