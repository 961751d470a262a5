"""The two apps benchmarks/bench_deadline.py serves with gunicorn: the portal and its floor.

`gunicorn 'deadline_apps:portal()'` is the portal as wsgi.py builds it, configured from the
environment like a deployment, plus the few settings a deployment keeps in instance/config.py
(upload and outbox folders, the login limit), passed as JSON in KOPIR_BENCH_OVERRIDES.

`gunicorn 'deadline_apps:floor()'` is the least a portal could do for the same visits: a bare
Flask app with a page (a form to post back), a login that checks one password with the portal's
own hash function and parameters, and an upload that reads the file. It keeps the student in
Flask's signed session cookie and touches no database.
"""

from __future__ import annotations

import json
import os

from flask import Flask, redirect, request, session

FLOOR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>
<body><main><h1>{title}</h1>
<form method="post" action="/page" enctype="{enctype}">
<input type="hidden" name="csrf_token" value="{token}">
<input type="email" name="email"><input type="password" name="password">
<textarea name="text"></textarea>
<input type="file" name="file">
<input type="submit" name="next" value="Save and continue">
</form></main></body></html>
"""


def portal() -> Flask:
    """Build the portal as wsgi.py does, with the bench's folders and login limit."""
    from portal import create_app

    return create_app(json.loads(os.environ.get("KOPIR_BENCH_OVERRIDES", "{}")))


def floor() -> Flask:
    """Build the bare app the portal is measured against."""
    from portal import models  # noqa: F401  (every mapper, so that a User can be made)
    from portal.auth.models import User

    app = Flask("floor")
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    # The students' stored hash, checked by the portal's own User.check_password: the same
    # function and parameters as the portal's login, whatever they are.
    stored = os.environ["KOPIR_BENCH_PASSWORD_HASH"]

    @app.get("/page")
    def page() -> str:
        who = session.get("user", "visitor")
        return FLOOR_PAGE.format(
            title=who, token=os.urandom(16).hex(), enctype="multipart/form-data"
        )

    @app.post("/page")
    def post_page():
        request.form.get("text")
        return redirect("/page", code=302)

    @app.post("/login")
    def login():
        if not User(password_hash=stored).check_password(request.form.get("password", "")):
            return "wrong password", 403
        session["user"] = request.form.get("email", "")
        return redirect("/page", code=302)

    @app.post("/upload")
    def upload():
        data = request.files["file"].read()
        if not data.startswith(b"%PDF-"):
            return "not a PDF", 422
        return redirect("/page", code=302)

    return app
