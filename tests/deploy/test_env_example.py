"""deploy/kopir.env.example names every setting, with values and defaults the portal accepts."""

from __future__ import annotations

import re
from pathlib import Path

from portal.config import ENV_SETTINGS, Defaults, from_environment

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "kopir.env.example"
# Read by the units, gunicorn and deploy/backup.sh rather than by the portal's settings.
MACHINE = {"KOPIR_INSTANCE_PATH", "GUNICORN_CMD_ARGS", "BACKUP_DIR", "BACKUP_KEEP", "PG_BIN"}
_ASSIGNMENT = re.compile(r"^(#?)([A-Z][A-Z0-9_]*)=(.*)$")


def assignments() -> list[tuple[bool, str, str]]:
    """Return (given, name, value) for each line, as systemd reads it; `#NAME=` lines too."""
    found = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ASSIGNMENT.match(line)
        if match:
            value = match.group(3)
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            found.append((not match.group(1), match.group(2), value))
    return found


def test_every_setting_is_in_the_example_once() -> None:
    names = [name for _, name, _ in assignments()]
    variables = {v: s.name for s in ENV_SETTINGS.values() for v in s.variables}
    missing = [
        setting.name
        for setting in ENV_SETTINGS.values()
        if not set(setting.variables) & set(names)
    ]
    assert not missing, f"not in {EXAMPLE.name}: {missing}"
    unknown = [name for name in names if name not in variables and name not in MACHINE]
    assert not unknown, f"{EXAMPLE.name} names what nothing reads: {unknown}"
    settings = [variables.get(name, name) for name in names]
    assert len(settings) == len(set(settings)), "a setting appears twice"


def test_the_portal_accepts_every_value_and_the_shown_defaults_are_the_defaults() -> None:
    portal = {name: value for _, name, value in assignments() if name not in MACHINE}
    parsed = from_environment(portal)
    for given, name, _ in assignments():
        setting = next((s for s in ENV_SETTINGS.values() if name in s.variables), None)
        if setting is None:
            continue
        assert setting.name in parsed, name
        if not given and hasattr(Defaults, setting.name):
            assert parsed[setting.name] == getattr(Defaults, setting.name), name


def test_the_example_sets_what_two_machines_need() -> None:
    given = {name: value for was_given, name, value in assignments() if was_given}
    for name in ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "STORAGE_DIR", "TASK_QUEUE_URL",
                 "RATELIMIT_STORAGE_URI", "MAIL_SERVER", "PROXY_COUNT"):
        assert given.get(name), name
    # Redis for both, each in a database of its own.
    assert given["TASK_QUEUE_URL"].startswith("redis://")
    assert given["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert given["TASK_QUEUE_URL"] != given["RATELIMIT_STORAGE_URI"]
    assert given["DATABASE_URL"].startswith("postgresql+psycopg://")
