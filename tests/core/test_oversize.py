"""An oversize upload gets a clear page from gunicorn over a real socket, not a reset."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": "test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "KOPIR_UPLOAD_MAX_BYTES": "100000",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--chdir",
            str(ROOT),
            "wsgi:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=10)


def test_oversize_body_is_answered_with_a_page(gunicorn):
    body = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
    body += b"%PDF-" + b"0" * (40 * 1024 * 1024) + b"\r\n--x--\r\n"
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=60)
    connection.request(
        "POST",
        "/applications/1/documents",
        body=body,
        headers={"Content-Type": "multipart/form-data; boundary=x", "Accept": "text/html"},
    )
    response = connection.getresponse()
    text = response.read().decode()
    assert response.status == 413
    assert "File too large" in text and "Nothing was saved" in text
