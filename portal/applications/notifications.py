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


def connect() -> None:
    """Listen for state changes (once per process)."""
    state_changed.connect(notify_student)
