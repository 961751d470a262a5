"""Time the student-side pages against a bare Flask route measured in the same run.

Run with `make bench`. Prints milliseconds per request and the ratio to the floor (a Flask app
with one route returning a short string, through the same test client), so the figures compare
across machines. The database is a fresh SQLite file with the demo data.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPEAT = 200
ROUNDS = 5


def per_request_ms(client, path: str, repeat: int = REPEAT) -> float:
    """Return the median over rounds of the mean time of one GET, in milliseconds."""
    assert client.get(path).status_code == 200, path
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(repeat):
            client.get(path)
        rounds.append((time.perf_counter() - start) * 1000 / repeat)
    return statistics.median(rounds)


def main() -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.demo import seed
    from portal.extensions import db

    floor_app = Flask("floor")
    floor_app.add_url_rule("/", "index", lambda: "ok")
    floor = per_request_ms(floor_app.test_client(), "/")

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "STORAGE_DIR": f"{tmp}/uploads",
                "OUTBOX_DIR": f"{tmp}/outbox",
            }
        )
        with app.app_context():
            upgrade()
            list(seed())
            db.session.commit()
        client = app.test_client()
        pages = {
            "/healthz": "health check",
            "/": "home page",
            "/programs": "catalogue",
            "/programs?q=school&open_now=y": "catalogue, searched",
            "/programs/altai-summer-school-geoecology": "programme page",
            "/account/login": "login form",
        }
        print(f"floor (bare Flask route): {floor:.3f} ms/request")
        print(f"{'page':<34} {'ms/request':>10} {'× floor':>8}")
        for path, name in pages.items():
            ms = per_request_ms(client, path)
            print(f"{name:<34} {ms:>10.2f} {ms / floor:>8.1f}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
