"""Kopir: an academic mobility and exchange portal."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask

from portal.config import load_config


def _bundled(folder: str) -> Path:
    """Return templates/ or static/: inside the installed package, else beside it (a checkout)."""
    package = Path(__file__).resolve().parent
    # The wheel carries them as portal/templates and portal/static (deploy/kopir_build.py).
    return package / folder if (package / folder).is_dir() else package.parent / folder


TEMPLATE_FOLDER = _bundled("templates")
STATIC_FOLDER = _bundled("static")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error handlers, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        # An installed package's default instance folder is inside the virtual environment
        # (<venv>/var/portal-instance); a deployment names its own, e.g. systemd's StateDirectory.
        instance_path=os.environ.get("KOPIR_INSTANCE_PATH") or None,
        template_folder=TEMPLATE_FOLDER,
        static_folder=STATIC_FOLDER,
    )
    load_config(app, test_config)
    from portal.requests import SecureCookiesOverHttps

    # Inside ProxyFix, so that a request the proxy received over HTTPS counts as one.
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)  # type: ignore[method-assign]
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    # Alembic announces every plugin it loads at INFO; that is noise in `make run`.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # WeasyPrint logs every rendering step at INFO; its warnings still show.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    from portal import extensions

    extensions.init_app(app)

    from portal import tasks

    tasks.init_app(app)

    from portal.admin.views import bp as admin_bp
    from portal.api.views import api as api_bp
    from portal.api.views import ewp_bp
    from portal.api.views_tokens import bp as tokens_bp
    from portal.applications.views import bp as applications_bp
    from portal.applications.views_queue import bp as queue_bp
    from portal.applications.views_staff import bp as staff_bp
    from portal.auth.views import bp as auth_bp
    from portal.documents.views import bp as documents_bp
    from portal.health import bp as health_bp
    from portal.nominations.views import bp as nominations_bp
    from portal.offers.views import bp as offers_bp
    from portal.offers.views_staff import bp as offer_staff_bp
    from portal.pages import bp as main_bp
    from portal.profiles.views import bp as profiles_bp
    from portal.programs.views import bp as programs_bp
    from portal.programs.views_staff import bp as program_admin_bp

    for bp in (
        health_bp,
        main_bp,
        auth_bp,
        profiles_bp,
        programs_bp,
        program_admin_bp,
        applications_bp,
        staff_bp,
        queue_bp,
        documents_bp,
        offers_bp,
        offer_staff_bp,
        nominations_bp,
        api_bp,
        ewp_bp,
        tokens_bp,
        admin_bp,
    ):
        app.register_blueprint(bp)

    from portal import errors, i18n, metrics, requests
    from portal.applications import notifications
    from portal.offers import services as offers

    notifications.connect()
    offers.connect()

    errors.init_app(app)
    i18n.init_app(app)
    metrics.init_app(app)  # before portal.requests: its hooks then run after the commit
    requests.init_app(app)

    from portal.cli import cli

    app.cli.add_command(cli)
    return app
