"""E-mail to the student when their application changes state."""

from __future__ import annotations

from typing import Any

from portal.applications.models import Application, ApplicationEvent
from portal.applications.states import STATE_LABELS, State, state_changed
from portal.mail import queue_mail


def notify_student(application: Application, event: ApplicationEvent, **_: Any) -> None:
    """Queue the message for the new state, in the student's language."""
    student = application.student
    queue_mail(
        student.email,
        "application_state",
        student.locale,
        application=application,
        event=event,
        state_label=STATE_LABELS[State(event.to_state)],
    )


def preview_mail(application: Application, to: State) -> dict[str, str]:
    """Render the message a state change would send the student, without sending it."""
    from types import SimpleNamespace

    from flask import render_template
    from flask_babel import force_locale

    event = SimpleNamespace(to_state=to.value, from_state=application.state, reason=None)
    context = {"application": application, "event": event, "state_label": STATE_LABELS[to]}
    with force_locale(application.student.locale or "en"):
        return {
            "to": application.student.email,
            "subject": render_template("emails/application_state.subject.txt", **context).strip(),
            "body": render_template("emails/application_state.txt", **context),
        }


def connect() -> None:
    """Listen for state changes (blinker keeps one connection per receiver)."""
    from portal.applications.decisions import on_state_changed

    state_changed.connect(notify_student)
    state_changed.connect(on_state_changed)
