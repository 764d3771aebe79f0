"""The migrations build exactly the schema the models describe ("no drift"), and go down and up again.

They run against a fresh database: a temporary SQLite file, or (when the suite runs on PostgreSQL) a database
created for this test beside the test database and dropped afterwards.
"""
from __future__ import annotations

import logging
import os
import pprint

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import DATABASE_URL, IS_POSTGRES, _Config

MIGRATED_BY_ALEMBIC = {"alembic_version"}


@pytest.fixture()
def keep_logging():
    """Alembic's env.py calls logging.config.fileConfig, which disables every logger it does not name
    (the app's own among them). Put logging back as it was, so later tests still see log records."""
    manager = logging.root.manager
    disabled = {name: lg.disabled for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    root_level, root_handlers = logging.root.level, list(logging.root.handlers)
    yield
    for name, lg in manager.loggerDict.items():
        if isinstance(lg, logging.Logger):
            lg.disabled = disabled.get(name, False)
    logging.root.setLevel(root_level)
    logging.root.handlers[:] = root_handlers


@pytest.fixture()
def fresh_database_url(tmp_path):
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"saihui_migrations_{os.getpid()}"
    admin = sa.create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture()
def migration_app(fresh_database_url, keep_logging):
    """A second app, bound to the fresh database (the session's ``app`` is bound to the test database)."""
    from app import create_app
    from extensions import db

    class FreshConfig(_Config):
        SQLALCHEMY_DATABASE_URI = fresh_database_url
        SQLALCHEMY_ENGINE_OPTIONS = {"poolclass": sa.pool.NullPool}

    application = create_app(FreshConfig)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def schema_diff(db, metadata: sa.MetaData | None = None) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"}
        )
        return compare_metadata(context, metadata if metadata is not None else db.metadata)


def table_names(db) -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_migrations_match_the_models(migration_app):
    import flask_migrate

    from extensions import db

    with migration_app.app_context():
        assert str(db.engine.url).endswith(("migrations.sqlite3", f"saihui_migrations_{os.getpid()}"))
        assert table_names(db) == set()
        flask_migrate.upgrade()
        assert table_names(db) == {t.name for t in db.metadata.sorted_tables} | MIGRATED_BY_ALEMBIC
        diff = schema_diff(db)
        assert diff == [], "the models and the migrations differ; run `flask --app app db migrate`:\n" + (
            pprint.pformat(diff, width=120)
        )

        # The comparison does notice drift: a column the migrations lack, and a changed type.
        drifted = sa.MetaData()
        for table in db.metadata.sorted_tables:
            table.to_metadata(drifted)
        drifted.tables["organizations"].append_column(sa.Column("drift_probe", sa.Integer()))
        drifted.tables["users"].c.name.type = sa.String(20)
        kinds = {entry[0] if isinstance(entry, tuple) else entry[0][0] for entry in schema_diff(db, drifted)}
        assert {"add_column", "modify_type"} <= kinds


def test_migrations_go_down_to_base_and_up_again(migration_app):
    import flask_migrate

    from extensions import db

    with migration_app.app_context():
        flask_migrate.upgrade()
        head_tables = table_names(db)
        flask_migrate.downgrade(revision="base")
        assert table_names(db) <= MIGRATED_BY_ALEMBIC, "downgrade to base left tables behind"
        flask_migrate.upgrade()
        assert table_names(db) == head_tables
        assert schema_diff(db) == []
        # The upgraded schema works: a row goes in and comes out.
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO organizations (name, created_at) VALUES ('迁移测试协会', '2026-01-01')"))
            assert conn.execute(sa.text("SELECT name FROM organizations")).scalar() == "迁移测试协会"
