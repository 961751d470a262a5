"""The systemd units under deploy/: valid, hardened, and hardened in ways the portal survives."""

from __future__ import annotations

import configparser
import platform
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portal.offers.batch import RENDER_TIMEOUT

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("kopir-web.service", "kopir-worker.service", "kopir-backup.service", "kopir-backup.timer")
SERVICES = ("kopir-web.service", "kopir-worker.service")
# Where README's layout puts the environment and the release; systemd-analyze checks that every
# command exists, so the units are checked with this machine's environment and checkout instead.
VENV, SOURCE = "/srv/kopir/venv", "/srv/kopir/src"

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (Debian package systemd): the units cannot be checked",
)


def settings(unit: str) -> configparser.ConfigParser:
    """Read a unit file's settings (the last value of a setting given twice)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / unit)
    return parser


@pytest.fixture
def here(tmp_path: Path) -> Path:
    """Copy the units with their paths pointing at this machine's environment and checkout."""
    for unit in UNITS:
        text = (DEPLOY / unit).read_text()
        text = text.replace(VENV, sys.prefix).replace(SOURCE, str(DEPLOY.parent))
        (tmp_path / unit).write_text(text)
    return tmp_path


@needs_systemd_analyze
def test_systemd_accepts_the_units(here: Path) -> None:
    checked = subprocess.run(
        ["systemd-analyze", "verify", *(str(here / unit) for unit in UNITS)],
        capture_output=True,
        text=True,
    )
    # Unknown settings and missing commands are only warnings: any line naming a unit fails it.
    complaints = [line for line in checked.stderr.splitlines() if "kopir" in line]
    assert checked.returncode == 0 and not complaints, checked.stderr


@needs_systemd_analyze
@pytest.mark.parametrize("unit", SERVICES)
def test_the_services_are_hardened(here: Path, unit: str) -> None:
    report = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(here / unit)],
        capture_output=True,
        text=True,
    )
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", report.stdout)
    assert level, report.stdout + report.stderr
    # 0 is a sealed box, 10 an unprotected service; 2 or less is what systemd calls "OK".
    assert float(level.group(1)) <= 2.0, report.stdout


def test_the_worker_finishes_the_letter_in_hand_before_it_is_killed() -> None:
    worker = settings("kopir-worker.service")["Service"]
    assert worker["KillSignal"] == "SIGTERM"
    # Only the worker gets SIGTERM; its letter-rendering processes finish what they hold.
    assert worker["KillMode"] == "mixed"
    stop = int(worker["TimeoutStopSec"].removesuffix("s"))
    # The longest a letter may take before the batch gives it up, and an SMTP exchange (20 s).
    assert stop > RENDER_TIMEOUT + 20
    for unit in SERVICES:
        assert settings(unit)["Service"]["Restart"] in ("always", "on-failure")


def test_the_units_use_the_settings_file_and_the_shared_storage() -> None:
    for unit in (*SERVICES, "kopir-backup.service"):
        service = settings(unit)["Service"]
        assert service["EnvironmentFile"] == "/etc/kopir/kopir.env"
        assert service["User"] == "kopir"
        assert "/srv/kopir/storage" in settings(unit)["Unit"]["RequiresMountsFor"]
    for unit in SERVICES:
        assert settings(unit)["Service"]["ReadWritePaths"] == "/srv/kopir/storage"
    web = settings("kopir-web.service")["Service"]
    assert "--config /srv/kopir/src/deploy/gunicorn.conf.py" in web["ExecStart"]
    assert (DEPLOY / "gunicorn.conf.py").is_file()


# systemd's MemoryDenyWriteExecute= as the seccomp filter it installs on x86-64: mmap() asking for
# memory both writable and executable, and mprotect()/pkey_mprotect() adding execute, fail EPERM.
_DENY_WRITE_EXECUTE = textwrap.dedent(
    """
    import ctypes, mmap, struct
    LD, JEQ, AND, RET = 0x20, 0x15, 0x54, 0x06
    ALLOW, EPERM = 0x7FFF0000, 0x00050001
    def op(code, k, jt=0, jf=0):
        return struct.pack("HBBI", code, jt, jf, k)
    program = [
        op(LD, 4), op(JEQ, 0xC000003E, 1, 0), op(RET, ALLOW),      # x86-64 only
        op(LD, 0),                                                   # the system call's number
        op(JEQ, 9, 3, 0),                                            # mmap
        op(JEQ, 10, 5, 0), op(JEQ, 329, 4, 0),                       # mprotect, pkey_mprotect
        op(RET, ALLOW),
        op(LD, 32), op(AND, 6), op(JEQ, 6, 4, 3),                    # mmap: PROT_WRITE|PROT_EXEC
        op(LD, 32), op(AND, 4), op(JEQ, 4, 1, 0),                    # mprotect: PROT_EXEC
        op(RET, ALLOW), op(RET, EPERM),
    ]
    code = ctypes.create_string_buffer(b"".join(program))
    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(38, 1, 0, 0, 0) == 0                           # PR_SET_NO_NEW_PRIVS
    described = Program(len(program), ctypes.addressof(code))
    assert libc.prctl(22, 2, ctypes.byref(described), 0, 0) == 0     # SECCOMP_MODE_FILTER
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        pass
    else:
        raise SystemExit("the filter lets writable and executable memory through")
    """
)

_PORTAL_AT_WORK = textwrap.dedent(
    """
    from portal import create_app
    from portal.offers.pdf import render_pdf
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context("/?lang=kk"):
        pdf = render_pdf('<html lang="kk"><body><p>Бағдарламадан орын ұсыну</p></body></html>')
    assert pdf.startswith(b"%PDF")
    print("rendered", len(pdf))
    """
)


@pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64",
    reason="the filter standing in for systemd's is written for x86-64 Linux",
)
def test_a_letter_renders_under_memory_deny_write_execute() -> None:
    # The units set MemoryDenyWriteExecute=yes: the portal (WeasyPrint, Pango, Pillow, lxml,
    # psycopg) must not need memory that is writable and executable, as cffi callbacks do.
    for unit in SERVICES:
        assert settings(unit)["Service"]["MemoryDenyWriteExecute"] == "yes"
    done = subprocess.run(
        [sys.executable, "-c", _DENY_WRITE_EXECUTE + _PORTAL_AT_WORK],
        capture_output=True,
        text=True,
        cwd=DEPLOY.parent,
    )
    assert done.returncode == 0 and "rendered" in done.stdout, done.stderr[-3000:]
