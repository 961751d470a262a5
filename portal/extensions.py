"""The Flask extensions, created once and bound to the app in create_app()."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from portal.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def init_app(app: Flask) -> None:
    """Bind every extension to the app."""
    from portal import i18n, models  # noqa: F401  (models must be imported before migrate)

    db.init_app(app)
    migrate.init_app(app, db)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login's own text is English only. Ours is looked up in the catalogue when flashed,
    # in the request's language (str() of the lazy string; the session cannot hold it lazy).
    login_manager.login_message = _l("Please log in to access this page.")
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    # Said explicitly per app: Flask-Limiter would otherwise take it from the last app it saw.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    from portal import assets, compression

    # Before portal.requests adds its hooks, so it runs after them, on the finished answer.
    compression.init_app(app)
    assets.init_app(app)
