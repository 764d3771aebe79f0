"""The database lock that makes a sweep run in one scheduler at a time, however many are started.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a dedicated connection, released when
the sweep ends, and by the server itself if the process dies (the connection closes). SQLite (development, tests):
a lease on the sweep's row in ``sweep_states``, taken by a conditional UPDATE that only succeeds when nobody holds
it or the holder's lease expired.

Both record the sweep's last run (start, end, count, error) in ``sweep_states`` for the status line.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa

from extensions import db
from tasks.models import SweepState

log = logging.getLogger(__name__)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock``, from the lock's name."""
    digest = hashlib.sha256(f"saihui:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _insert_ignore(table: sa.Table, **values):
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).values(**values).on_conflict_do_nothing()


def _ensure_row(conn, name: str) -> None:
    conn.execute(_insert_ignore(SweepState.__table__, name=name))


@contextmanager
def sweep_lock(name: str, *, owner: str, now: datetime, lease: timedelta) -> Iterator[bool]:
    """Yield True when this caller holds the lock named ``name`` (and must run the sweep), else False."""
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(name) as held:
            yield held
    else:
        with _lease_row(name, owner=owner, now=now, lease=lease) as held:
            yield held


@contextmanager
def _advisory_lock(name: str) -> Iterator[bool]:
    key = advisory_key(name)
    conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    held = False
    try:
        held = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar())
        yield held
    finally:
        try:
            if held:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
        except Exception:  # noqa: BLE001 - the server drops the lock with the connection: close it for good
            log.warning("sweep lock %s: unlock failed; closing its connection", name, exc_info=True)
            conn.invalidate()
        finally:
            conn.close()


@contextmanager
def _lease_row(name: str, *, owner: str, now: datetime, lease: timedelta) -> Iterator[bool]:
    table = SweepState.__table__
    with db.engine.begin() as conn:
        _ensure_row(conn, name)
        taken = conn.execute(
            table.update()
            .where(table.c.name == name,
                   sa.or_(table.c.lease_owner.is_(None), table.c.lease_expires_at <= now))
            .values(lease_owner=owner, lease_expires_at=now + lease)
        ).rowcount == 1
    try:
        yield taken
    finally:
        if taken:
            try:
                with db.engine.begin() as conn:
                    conn.execute(
                        table.update().where(table.c.name == name, table.c.lease_owner == owner)
                        .values(lease_owner=None, lease_expires_at=None)
                    )
            except Exception:  # noqa: BLE001 - the lease then simply expires
                log.warning("sweep lease %s: release failed; it expires at %s", name, now + lease, exc_info=True)


def record_run(name: str, *, started_at: datetime, finished_at: datetime, count: int | None,
               error: str | None) -> None:
    """Note how a sweep's run went (best effort: a failure here is logged, never raised)."""
    table = SweepState.__table__
    try:
        with db.engine.begin() as conn:
            _ensure_row(conn, name)
            conn.execute(
                table.update().where(table.c.name == name).values(
                    last_started_at=started_at, last_finished_at=finished_at, last_count=count,
                    last_error=(error or None) and error[:2000], runs=table.c.runs + 1,
                    failures=table.c.failures + (1 if error else 0),
                )
            )
    except Exception:  # noqa: BLE001
        log.warning("sweep %s: could not record its run", name, exc_info=True)
