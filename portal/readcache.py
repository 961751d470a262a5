"""What nearly every visit reads and staff seldom change, kept a short while in each process.

Each gunicorn worker holds its own copy, so the copies are kept correct in two ways: a commit
that adds, changes or deletes a row of a watched model clears the cache in the process that
made it, at once; every other process sees the change when its copy expires, after `ttl`
seconds at most. Only plain values are kept (strings, numbers, tuples), never ORM objects, so
nothing cached belongs to a session or can be written back.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")

_STALE = "kopir_stale_read_caches"


class ReadCache:
    """Values by key, each kept `ttl` seconds, cleared by commits touching `watched` models."""

    def __init__(self, name: str, ttl: float, watched: tuple[type, ...]) -> None:
        """Register the cache, so that commits touching the watched models clear it."""
        self.name = name
        self.ttl = ttl
        self.watched = watched
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        _CACHES.append(self)

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """Return the value kept for the key, loading it when it is missing or expired."""
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        value = load()
        with self._lock:
            self._values[key] = (now + self.ttl, value)
        return value

    def clear(self) -> None:
        """Forget every value (the next reader loads it afresh)."""
        with self._lock:
            self._values.clear()


_CACHES: list[ReadCache] = []


def clear_all() -> None:
    """Forget every cached value, after tables were changed behind the ORM's back."""
    for cache in _CACHES:
        cache.clear()


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: object) -> None:
    """Remember which caches the flushed rows make stale, to clear them once committed."""
    changed = [type(obj) for obj in itertools.chain(session.new, session.dirty, session.deleted)]
    stale = {cache for cache in _CACHES for kind in changed if issubclass(kind, cache.watched)}
    if stale:
        session.info.setdefault(_STALE, set()).update(stale)


@event.listens_for(Session, "after_commit")
def _clear_stale(session: Session) -> None:
    """Clear the caches the committed changes touched, in this process.

    A rolled-back change leaves its mark until the session's next commit or its end with the
    request: at worst a cache is read afresh once more than needed.
    """
    for cache in session.info.pop(_STALE, ()):
        cache.clear()
