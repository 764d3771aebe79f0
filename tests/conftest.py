"""Shared fixtures. The database under test comes from TEST_DATABASE_URL (default: a SQLite file per run).

``scripts/test.sh`` runs the suite twice: on SQLite and on PostgreSQL. The schema is created once per run; each
test starts from empty tables (rows are deleted after it), so that tests may commit, as the app does, and
concurrency tests may use real connections from several threads.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import orm
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... under pytest -n N; None otherwise

# Under pytest-xdist the workers inherit the controller's environment, where this module has already replaced
# TEST_DATABASE_URL by the controller's own database: a worker starts again from the URL the controller was given.
if XDIST_WORKER and "SAIHUI_TEST_GIVEN_DATABASE_URL" in os.environ:
    os.environ["TEST_DATABASE_URL"] = os.environ["SAIHUI_TEST_GIVEN_DATABASE_URL"]
else:
    os.environ["SAIHUI_TEST_GIVEN_DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "")

# SQLite: a temporary file per process (xdist workers cannot share one either, whatever file was given).
if not os.environ.get("TEST_DATABASE_URL") or (XDIST_WORKER and os.environ["TEST_DATABASE_URL"].startswith("sqlite")):
    import atexit
    import shutil

    _tmpdir = tempfile.mkdtemp(prefix="saihui-test-")
    atexit.register(shutil.rmtree, _tmpdir, ignore_errors=True)
    os.environ["TEST_DATABASE_URL"] = f"sqlite:///{_tmpdir}/test.sqlite3"

from config import TestingConfig, normalize_database_url  # noqa: E402
import accounts.models  # noqa: E402

accounts.models.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast in tests; production keeps scrypt

BASE_DATABASE_URL = normalize_database_url(os.environ["TEST_DATABASE_URL"])
IS_POSTGRES = BASE_DATABASE_URL.startswith("postgresql")


def _private_postgres_database(base_url: str) -> str:
    """A throwaway database for this pytest run, created next to the given one (so that runs in parallel, or a
    developer's run beside CI's, never share tables). Dropped again at exit."""
    import atexit

    url = sa.engine.make_url(base_url)
    name = f"saihui_test_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    return url.set(database=name).render_as_string(hide_password=False)


DATABASE_URL = _private_postgres_database(BASE_DATABASE_URL) if IS_POSTGRES else BASE_DATABASE_URL
os.environ["TEST_DATABASE_URL"] = DATABASE_URL
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_report_header(config):
    return f"saihui database: {'postgresql' if IS_POSTGRES else 'sqlite'} ({DATABASE_URL.split('@')[-1]})"


class _Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS = (
        {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 55,  # bursts of 50 threads; few kept idle
         # A commit does not wait for its WAL record to reach the disk (1-2 ms instead of 5-10 ms on this machine's
         # disk; tests commit often). Only durability after a server crash differs: what other transactions see,
         # locks and constraints are the same.
         "connect_args": {"options": "-c synchronous_commit=off"}}
        if IS_POSTGRES
        else {"connect_args": {"check_same_thread": False, "timeout": 30}}
    )
    WTF_CSRF_ENABLED = True


class FreshRequestClient(FlaskClient):
    """A test client whose every request runs in its own application context, as in production.

    The ``db`` fixture keeps an app context pushed for the whole test, and Flask would reuse it for requests: ``g``
    (Flask-Login's cached user, Flask-Babel's locale) and the database session would carry over from one request
    (or client) to the next, and a view that forgets to commit would look fine. Each request gets its own.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():  # its own g and its own database session, as in production
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    from app import create_app
    from extensions import db

    application = create_app(_Config)
    application.test_client_class = FreshRequestClient
    # Files the app keeps (works, imports waiting for confirmation, appeal attachments, task files) go to a folder
    # of this process: xdist workers number their rows alike and must not read or delete each other's files.
    application.instance_path = tempfile.mkdtemp(prefix="saihui-test-instance-")
    import atexit
    import shutil

    atexit.register(shutil.rmtree, application.instance_path, ignore_errors=True)
    application.config["TASK_FILES_DIR"] = os.path.join(application.instance_path, "task-files")
    with application.app_context():
        if not IS_POSTGRES:
            db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables(db) -> None:
    # Plain DELETEs, children first: with a few rows per test this is far faster than TRUNCATE on PostgreSQL.
    # Ids are not restarted: tests must not assume them.
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if IS_POSTGRES:
            # All in one round trip (psycopg sends a parameterless string as one simple query): about 11 ms instead
            # of 50 ms a test with a statement per table.
            quote = conn.dialect.identifier_preparer.format_table
            conn.exec_driver_sql("; ".join(f"DELETE FROM {quote(table)}" for table in tables))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture()
def db(app):
    """The database with empty tables, inside an app context; emptied again after the test."""
    from extensions import db as _db
    from extensions import limiter

    ctx = app.app_context()
    ctx.push()
    limiter.reset()
    try:
        yield _db
    finally:
        _db.session.remove()
        _empty_tables(_db)
        ctx.pop()


@pytest.fixture()
def client(app, db):
    return app.test_client()


NOW = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


@pytest.fixture()
def now():
    return NOW


# ------------------------------------------------------------------ factories


class Factory:
    """Builders for test data. Each returns the object, flushed and committed."""

    PASSWORD = "correct-horse-9"

    def __init__(self, db):
        self.db = db
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def organization(self, name: str | None = None, parent=None):
        from accounts.models import Organization

        org = Organization(name=name or f"测试协会{self._next()}", parent=parent)
        self.db.session.add(org)
        self.db.session.commit()
        return org

    def user(self, login: str | None = None, name: str = "张伟", *, organization=None, role=None, event=None,
             superuser: bool = False):
        from accounts.models import MembershipRole
        from accounts.services import add_membership, create_user

        user = create_user(login=login or f"user{self._next()}@example.org", name=name, password=self.PASSWORD,
                           is_superuser=superuser)
        if organization is not None and role is not None:
            add_membership(user, organization, MembershipRole(role), event=event)
        self.db.session.commit()
        return user

    def event(self, organization, *, title: str = "海峡两岸信息化论坛", kind: str = "forum", status: str = "draft",
              starts_at: datetime | None = None, hours: int = 8, capacity: int | None = None, sessions: int = 0,
              **extra):
        from datetime import timedelta

        from events.models import Event, EventKind, EventSession, EventState

        starts_at = starts_at or datetime(2026, 12, 12, 0, 30, tzinfo=timezone.utc)
        event = Event(
            organization_id=organization.id, kind=EventKind(kind), title=title, venue=extra.pop("venue", "厦门国际会议中心"),
            starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), timezone="Asia/Shanghai",
            capacity=capacity, status=EventState(status), **extra,
        )
        self.db.session.add(event)
        self.db.session.flush()
        for i in range(sessions):
            self.db.session.add(EventSession(
                event_id=event.id, title=f"分会场{i + 1}", starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
                room=f"{i + 1}号厅", position=i,
            ))
        self.db.session.commit()
        return event


@pytest.fixture()
def factory(db):
    return Factory(db)


def snapshot_rows(db) -> list[tuple[sa.Table, list[dict]]]:
    """Every row of every table (committed), parents first: to be put back with ``restore_rows``."""
    with db.engine.connect() as conn:
        return [(table, [dict(row) for row in conn.execute(table.select().order_by(*table.primary_key.columns))
                         .mappings()])
                for table in db.metadata.sorted_tables]


def restore_rows(db, snapshot: list[tuple[sa.Table, list[dict]]]) -> None:
    """Insert the rows of ``snapshot`` into the (empty) tables: same ids. On PostgreSQL the id sequences are moved
    past them (never backwards: ids are not reused within a run there). The results cache is cleared: it may hold
    standings of an earlier copy of the same rows (same ids, version and token)."""
    from competition import results

    with db.engine.begin() as conn:
        for table, rows in snapshot:  # parents first
            if rows:
                conn.execute(table.insert(), rows)
        if IS_POSTGRES:
            for table, rows in snapshot:
                column = table.autoincrement_column
                if rows and column is not None:
                    conn.execute(sa.text(
                        "SELECT setval(s.name, GREATEST(:top, (SELECT last_value FROM pg_sequences"
                        " WHERE format('%I.%I', schemaname, sequencename)::regclass = s.name::regclass)))"
                        " FROM (SELECT pg_get_serial_sequence(:table, :column) AS name) AS s WHERE s.name IS NOT NULL"
                    ), {"table": table.name, "column": column.name, "top": max(row[column.name] for row in rows)})
    results.clear_cache()


# ------------------------------------------------------------------ data built once per process


def _file_roots(app) -> list[Path]:
    """The folders where the app keeps files that rows point to (works, imports, appeal attachments, task files)."""
    roots = {app.instance_path, *(app.config.get(key) for key in (
        "TASK_FILES_DIR", "WORKS_DIR", "COMPETITION_IMPORT_DIR", "REGISTRATION_IMPORT_DIR"))}
    return sorted(Path(root) for root in roots if root)


def _file_stats(app) -> dict[Path, tuple[int, int]]:
    return {path: (stat.st_size, stat.st_mtime_ns)
            for root in _file_roots(app) if root.is_dir()
            for path in root.rglob("*") if path.is_file() and (stat := path.stat())}


def _freeze(value):
    """``value`` with every ORM object replaced by a reference (class, primary key): the objects themselves belong
    to one test's session, and a test may change them (or add attributes) without that reaching the next test."""
    from dataclasses import is_dataclass

    state = sa.inspect(value, raiseerr=False) if not isinstance(value, type) else None
    if state is not None and getattr(state, "mapper", None) is not None:
        assert state.identity is not None, f"{value!r} is not saved: commit before snapshotting"
        return _Ref(type(value), state.identity)
    if is_dataclass(value) and not isinstance(value, type):
        return _Object(type(value), {name: _freeze(item) for name, item in vars(value).items()})
    if isinstance(value, dict):
        return {key: _freeze(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_freeze(item) for item in value)
    return value


def _thaw(db, value, made: dict | None = None):
    """``_freeze`` undone: containers new, and each reference an object of the current session with only its
    primary key set and everything else expired, as after a commit: its row is read when the test first touches
    another attribute (a SELECT for each of the world's ~90 objects up front would cost more than the copy)."""
    made = {} if made is None else made
    if isinstance(value, _Ref):
        key = (value.cls, value.identity)
        if key not in made:
            made[key] = db.session.identity_map.get(
                sa.inspect(value.cls).identity_key_from_primary_key(list(value.identity))) or _stub(
                db, value.cls, value.identity)
        return made[key]
    if isinstance(value, _Object):
        thawed = object.__new__(value.cls)
        thawed.__dict__.update({name: _thaw(db, item, made) for name, item in value.attributes.items()})
        return thawed
    if isinstance(value, dict):
        return {key: _thaw(db, item, made) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_thaw(db, item, made) for item in value)
    import copy

    return copy.deepcopy(value)


def _stub(db, cls, identity):
    """A persistent ``cls`` object of the session for the row ``identity``, all but its primary key expired."""
    mapper = sa.inspect(cls)
    instance = mapper.class_manager.new_instance()
    for column, part in zip(mapper.primary_key, identity):
        orm.attributes.set_committed_value(instance, mapper.get_property_by_column(column).key, part)
    orm.make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


class _Ref:
    __slots__ = ("cls", "identity")

    def __init__(self, cls, identity):
        self.cls, self.identity = cls, identity


class _Object:
    __slots__ = ("cls", "attributes")

    def __init__(self, cls, attributes):
        self.cls, self.attributes = cls, attributes


_built: dict[str, tuple[list[tuple[sa.Table, list[dict]]], dict[Path, bytes], object]] = {}


def build_once(db, key: str, build):
    """What ``build()`` makes (in empty tables, committed), built once per test process under ``key``.

    The first call runs ``build()``, commits, and keeps every row (``snapshot_rows``), the files it wrote (under
    the instance folder, TASK_FILES_DIR, WORKS_DIR …) and its return value with ORM objects as references. Later
    calls insert the same rows back (same ids), write the same files again (a test may have deleted one: a work, a
    task file) and return a new copy of the value whose objects are the test session's again (by primary key, each
    row read when first touched). So each test starts
    from exactly the state a fresh ``build()`` leaves, whatever earlier tests changed or deleted.
    ``build`` must not depend on anything but the (empty) database and the clock, and must return plain values,
    ORM objects, dataclasses, dicts, lists and tuples of them."""
    from flask import current_app

    kept = _built.get(key)
    if kept is None:
        filled = [table.name for table, rows in snapshot_rows(db) if rows]
        assert not filled, (f"build_once({key!r}) must start from empty tables (rows in {filled}): a fixture that "
                            "adds rows must come after it")
        before = _file_stats(current_app)
        value = build()
        db.session.commit()
        after = _file_stats(current_app)
        files = {path: path.read_bytes() for path, stat in after.items() if before.get(path) != stat}
        _built[key] = (snapshot_rows(db), files, _freeze(value))
        return value
    rows, files, frozen = kept
    restore_rows(db, rows)
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return _thaw(db, frozen)


_demo_rows: list[tuple[sa.Table, list[dict]]] | None = None  # this process's copy of the loaded demo


@pytest.fixture()
def demo(db):
    """The demo data exactly as ``load_demo(now=NOW)`` and a commit leave it in empty tables.

    Loading the demo runs the real services (hundreds of sign-ups, check-ins, scores): about 15 s of CPU. It is
    loaded once per test process, the first time a test asks, and its rows are kept in memory; later tests get the
    same rows (same ids) inserted back, in well under a second (``restore_rows``).
    Tests of ``load_demo`` itself (idempotence, the ``flask demo`` command) call it directly instead."""
    global _demo_rows

    if _demo_rows is None:
        from demo.data import load_demo

        load_demo(now=NOW)
        db.session.commit()
        _demo_rows = snapshot_rows(db)
    else:
        restore_rows(db, _demo_rows)


def login(client, user, password: str = Factory.PASSWORD):
    """Log ``client`` in through the real login form (CSRF token included)."""
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"login": user.login, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def csrf_token(client, path: str) -> str:
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture()
def login_as(client):
    def _login(user):
        login(client, user)
        return client

    return _login
