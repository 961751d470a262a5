"""Gunicorn's settings for Kopir: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Each gunicorn worker counts the requests it answers. prometheus-client's multiprocess mode keeps
those counts in files in PROMETHEUS_MULTIPROC_DIR, and /metrics adds up every worker's,
whichever worker answers the scrape (portal/metrics.py). This file sets that up:

- PROMETHEUS_MULTIPROC_DIR may be given (one directory per gunicorn master, e.g. systemd's
  RuntimeDirectory); without it a fresh temporary one is made here, and removed when gunicorn
  stops. It is set before anything imports prometheus_client, which reads it once, at import.
- on_starting empties it: counts left by an earlier run would be added to this run's.
- child_exit does prometheus-client's bookkeeping for a worker that ended.

The address, the number of workers and the rest come from the command line or GUNICORN_CMD_ARGS.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_TEMPORARY_PREFIX = "kopir-metrics-"

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # In the master's environment, so every worker it forks inherits it.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=_TEMPORARY_PREFIX)


def _directory() -> Path:
    return Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server: Any) -> None:
    """Start the counts from zero: remove what an earlier run of the master left."""
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus-client that a worker has gone (its counts stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the directory if this file made it."""
    directory = _directory()
    if directory.name.startswith(_TEMPORARY_PREFIX) and directory.parent == Path(
        tempfile.gettempdir()
    ):
        shutil.rmtree(directory, ignore_errors=True)
