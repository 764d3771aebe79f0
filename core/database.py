"""Database behaviour that differs between SQLite and PostgreSQL, kept in one place.

SQLite runs in WAL mode with a busy timeout, so readers never block the writer and a second writer waits for the
first. pysqlite's default transaction handling is kept: it begins a transaction at the first write, so a unit of
work that reads, then writes, takes the write lock only when it writes, and waits for it. Its known flaw is that
SAVEPOINT does not work: services do not use ``begin_nested()``; on a domain error the caller rolls back the
whole unit of work instead. ``run_write`` retries a unit of work in the rare case SQLite still reports a lock.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401  (sa.orm.Session)
from sqlalchemy.exc import OperationalError

T = TypeVar("T")


def configure_engine_events(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in str(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def unit_of_work_cache(session) -> dict:
    """A dict that lives until the session's transaction ends (commit or rollback clears it).

    For reads that one request repeats (an event's sign-up settings, its custom questions): a unit of work sees
    them once, and nothing stale survives into the next transaction.
    """
    return session.info.setdefault(_CACHE_KEY, {})


_CACHE_KEY = "saihui_unit_of_work_cache"


def _clear_cache(session, *_args) -> None:
    session.info.pop(_CACHE_KEY, None)


sa.event.listen(sa.orm.Session, "after_commit", _clear_cache)
sa.event.listen(sa.orm.Session, "after_rollback", _clear_cache)
sa.event.listen(sa.orm.Session, "after_soft_rollback", _clear_cache)


def _is_lock_error(error: OperationalError) -> bool:
    text = str(error.orig).lower() if error.orig else str(error).lower()
    return "locked" in text or "busy" in text


def run_write(session, work: Callable[[], T], attempts: int = 5) -> T:
    """Run ``work`` (a unit of work that starts from fresh reads, writes and commits); on an SQLite lock error,
    roll back and run it again. On PostgreSQL it runs once (row locks and conditional updates decide)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as error:
            if not sqlite or not _is_lock_error(error) or attempt == attempts - 1:
                raise
            session.rollback()
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def run_committed(session, action: Callable[[], T]) -> T:
    """Run one use case (``action``) as a write unit of work and commit; return its result. A unique constraint that
    a concurrent request won (IntegrityError) is answered by running it once more on fresh data."""
    from sqlalchemy.exc import IntegrityError

    def work() -> T:
        result = action()
        session.commit()
        return result

    try:
        return run_write(session, work)
    except IntegrityError:
        session.rollback()
        return run_write(session, work)
