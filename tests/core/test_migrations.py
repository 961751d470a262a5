"""The migrations are the only way the schema is made, and they make exactly the models' schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_migrations_match_the_models(app):
    # The session's database was built by `flask db upgrade` alone (see conftest).
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_downgrade_and_upgrade_again(app, tmp_path):
    from flask_migrate import downgrade, upgrade

    from tests.conftest import _postgres_database, make_app

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        databases = (url for url in [f"sqlite:///{tmp_path / 'fresh.sqlite3'}"])
    else:
        databases = _postgres_database()
    url = next(databases)
    fresh = make_app(url, tmp_path)
    with fresh.app_context():
        upgrade()
        downgrade(revision="base")
        assert "programs" not in db.inspect(db.engine).get_table_names()
        upgrade()
        assert db.session.execute(sa.text("SELECT count(*) FROM programs")).scalar() == 0
        db.session.remove()
        db.engine.dispose()
    databases.close()
