"""Scheduled work of registration: the sweeps that open and close sign-up windows and promote waiting lists, and
the background task that exports a big sign-up list.

Sign-up window (``Event.registration_phase``: scheduled → open → closed). The phase an event *should* be in
follows from its times (events.schedule.registration_window) and its status:

- a draft event stays (or goes back to) ``scheduled``; an archived one is ``closed``;
- a published one is ``scheduled`` before ``registration_opens_at``, ``open`` until ``registration_closes_at``
  (or, without one, until the event ends), ``closed`` after.

The sweeps move each event whose stored phase differs from the phase it should be in, by one conditional UPDATE
(``… WHERE id = ? AND registration_phase = <the phase read>``) and, only when that UPDATE changed the row, one audit
entry in the same transaction. So each transition happens and is logged exactly once, however many schedulers run
and however often. After downtime the next run catches up: an event whose window closed while the scheduler was
down is closed once. One whose window both opened and closed during the downtime goes straight from ``scheduled``
to ``closed``, logged once as ``registration.closed`` with ``from: scheduled`` (no "opened" entry is invented for
an opening that nobody saw). Sign-ups themselves never depend on the phase: the sign-up page checks the window's
times (registration.services.check_window), so a late scheduler changes nothing for participants.

Edited times are followed too: a closed window whose closing time an organizer moved later opens again
(``registration.opened`` with ``from: closed``), one whose opening time moved later goes back to ``scheduled``
(``registration.rescheduled``).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from core.database import run_write
from core.models import record_audit
from events.models import Event, EventState, RegistrationPhase
from extensions import db
from registration import services, spreadsheets
from registration.models import Registration, RegistrationState
from tasks import files
from tasks.registry import StepResult, task_handler

log = logging.getLogger(__name__)

BATCH = 200  # events handled per sweep run (the next run takes the rest)

SCHEDULED, OPEN, CLOSED = RegistrationPhase.SCHEDULED, RegistrationPhase.OPEN, RegistrationPhase.CLOSED


def _closes_at():
    """When sign-ups close: the closing time, or the end of the event (as events.schedule.registration_window)."""
    return sa.func.coalesce(Event.registration_closes_at, Event.ends_at)


def _should_be(phase: RegistrationPhase, now: datetime):
    """SQL: the event should be in ``phase`` at ``now``."""
    published = Event.status == EventState.PUBLISHED
    opened = sa.or_(Event.registration_opens_at.is_(None), Event.registration_opens_at <= now)
    if phase == OPEN:
        return sa.and_(published, opened, _closes_at() > now)
    if phase == CLOSED:
        return sa.or_(Event.status == EventState.ARCHIVED, sa.and_(published, opened, _closes_at() <= now))
    return sa.or_(Event.status == EventState.DRAFT, sa.and_(published, sa.not_(opened)))


ACTIONS = {OPEN: "registration.opened", CLOSED: "registration.closed", SCHEDULED: "registration.rescheduled"}


def _move_due(target: RegistrationPhase, now: datetime) -> int:
    """Move every event that should be in ``target`` but is not; one transaction (and one audit entry) each."""
    due = _should_be(target, now)
    rows = db.session.execute(
        sa.select(Event.id, Event.registration_phase)
        .where(Event.registration_phase != target, due).order_by(Event.id).limit(BATCH)
    ).all()
    db.session.rollback()
    moved = 0
    for event_id, seen in rows:
        try:
            if run_write(db.session, lambda: _move_one(event_id, seen, target, due, now)):
                moved += 1
        except Exception:  # noqa: BLE001 - one broken event row must not stop the others
            db.session.rollback()
            log.exception("registration phase: event %s could not move to %s", event_id, target.value)
    return moved


def _move_one(event_id: int, seen: RegistrationPhase, target: RegistrationPhase, due, now: datetime) -> bool:
    changed = db.session.execute(
        sa.update(Event)
        .where(Event.id == event_id, Event.registration_phase == seen, due)
        .values(registration_phase=target)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not changed:  # another scheduler moved it first, or its times changed meanwhile
        db.session.rollback()
        return False
    event = db.session.get(Event, event_id, populate_existing=True)
    due_at = event.registration_opens_at if target != CLOSED else (event.registration_closes_at or event.ends_at)
    record_audit(actor=None, organization_id=event.organization_id, action=ACTIONS[target], obj=event, now=now,
                 **{"from": seen.value, "due_at": due_at.isoformat() if due_at else None, "by": "scheduler"})
    db.session.commit()
    log.info("event %s: registration %s -> %s", event_id, seen.value, target.value)
    return True


def open_due_registrations(now: datetime) -> int:
    """Open the sign-up windows whose opening time has come (and put back to ``scheduled`` those whose opening
    time was moved later). Returns the number of events moved."""
    return _move_due(OPEN, now) + _move_due(SCHEDULED, now)


def close_due_registrations(now: datetime) -> int:
    """Close the sign-up windows whose closing time has passed (or whose event was archived)."""
    return _move_due(CLOSED, now)


def promote_waitlists(now: datetime) -> int:
    """Promote waiting lists wherever seats are free (after a cancellation, a rejection, more capacity).

    Uses registration.services.promote_waitlist, which takes each seat by a conditional UPDATE and is idempotent:
    with no free seat it does nothing. Returns the number of sign-ups promoted."""
    waiting = sa.exists().where(Registration.event_id == Event.id,
                                Registration.status == RegistrationState.WAITLISTED)
    event_ids = list(db.session.scalars(
        sa.select(Event.id)
        .where(Event.status == EventState.PUBLISHED, waiting,
               sa.or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity))
        .order_by(Event.id).limit(BATCH)
    ))
    db.session.rollback()
    promoted = 0
    for event_id in event_ids:
        def work(event_id=event_id) -> int:
            event = db.session.get(Event, event_id, populate_existing=True)
            if event is None:
                return 0
            moved = services.promote_waitlist(event, now=now)
            db.session.commit()
            return len(moved)

        try:
            promoted += run_write(db.session, work)
        except Exception:  # noqa: BLE001
            db.session.rollback()
            log.exception("waiting list of event %s: promotion failed", event_id)
    return promoted


# ---------------------------------------------------------------- export as a background task

EXPORT_KIND = "registration.export"
EXPORT_FILE = "registrations.xlsx"
DEFAULT_CHUNK = 250
NOTE = ("note", "备注")


def download_name(event: Event, suffix: str = "报名名单") -> str:
    title = "".join(c for c in event.title if c not in '\\/:*?"<>|\r\n\t').strip()[:60] or f"event-{event.id}"
    return f"{title}-{suffix}.xlsx"


def _encode(value):
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    return value


def _decode(value):
    if isinstance(value, dict) and "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    return value


def _part_path(task_id: int, number: int):
    return files.task_dir(task_id) / f"part-{number:05d}.json"


def start_export(event: Event, *, actor, now: datetime, chunk: int | None = None):
    """Queue the export of ``event``'s sign-ups (or return the one already queued or running). No commit."""
    from tasks import services as task_services

    running = task_services.active_task(event.id, EXPORT_KIND)
    if running is not None:
        return running
    total = db.session.scalar(sa.select(sa.func.count(Registration.id)).where(Registration.event_id == event.id))
    return task_services.start_task(EXPORT_KIND, event=event, actor=actor, params={"chunk": chunk or DEFAULT_CHUNK}, now=now,
                                    total=total or 0)


@task_handler(EXPORT_KIND, label=_l("Export of the sign-ups to Excel"))
def export_step(task, now: datetime) -> StepResult:
    """One step of the export: the next ``chunk`` sign-ups (by id) into a part file; then the workbook from the
    parts; then the clean-up, the audit entry and the result. Resumable from ``task.cursor`` at every step."""
    event = db.session.get(Event, task.event_id)
    cursor = dict(task.cursor or {})
    if not cursor:  # first step: fix the columns for the whole export
        columns = [[f.key, f.label] for f in services.list_fields(event.id)]
        cursor = {"stage": "rows", "after_id": 0, "part": 0, "rows": 0, "has_note": False, "columns": columns}
    stage = cursor["stage"]
    total = task.total or 0
    if stage == "rows":
        chunk = max(10, min(int((task.params or {}).get("chunk") or DEFAULT_CHUNK), 2000))
        batch = list(db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event.id, Registration.id > cursor["after_id"])
            .order_by(Registration.id).limit(chunk)
            .options(selectinload(Registration.members), selectinload(Registration.sessions))
        ))
        if not batch:
            cursor["stage"] = "workbook"
            task.cursor = cursor
            return StepResult(done=cursor["rows"], total=max(total, cursor["rows"]))
        columns = [tuple(c) for c in cursor["columns"]]
        keys = {key for key, _title in columns}
        sheets = spreadsheets.registration_sheets(
            batch, timezone_name=event.timezone, session_titles={s.id: s.title for s in event.sessions},
            answer_columns=columns + ([NOTE] if NOTE[0] not in keys else []),
        )
        part = cursor["part"] + 1
        payload = {"rows": [[_encode(v) for v in row] for row in sheets[0].rows],
                   "members": [[_encode(v) for v in row] for row in sheets[1].rows]}
        files.write_atomic(_part_path(task.id, part), json.dumps(payload, ensure_ascii=False).encode())
        cursor.update(
            part=part, after_id=batch[-1].id, rows=cursor["rows"] + len(batch),
            has_note=cursor["has_note"] or any("note" in (r.answers or {}) for r in batch),
            stage="rows" if len(batch) == chunk else "workbook",  # a short chunk was the last one
        )
        task.cursor = cursor
        # Sign-ups made during the export are included (they come later by id): the total grows with them.
        return StepResult(done=cursor["rows"], total=max(total, cursor["rows"]))
    if stage == "workbook":
        _write_workbook(task, event, cursor)
        cursor["stage"] = "finish"
        task.cursor = cursor
        return StepResult(done=cursor["rows"], total=cursor["rows"])
    # stage "finish": the workbook is safely written; drop the parts, log the export, offer the file.
    for number in range(1, cursor["part"] + 1):
        _part_path(task.id, number).unlink(missing_ok=True)
    record_audit(actor=task.created_by, organization_id=event.organization_id, action="registration.export",
                 obj=event, now=now, rows=cursor["rows"], task_id=task.id)
    result = {"file": EXPORT_FILE, "filename": download_name(event), "rows": cursor["rows"],
              "content_type": spreadsheets.XLSX_MIME}
    return StepResult(done=cursor["rows"], total=cursor["rows"], finished=True, result=result)


def _write_workbook(task, event: Event, cursor: dict) -> None:
    columns = [tuple(c) for c in cursor["columns"]]
    keys = {key for key, _title in columns}
    with_note = NOTE[0] not in keys  # the parts carry a 备注 column; keep it only if some sign-up has a note
    keep_note = with_note and cursor["has_note"]
    header_sheets = spreadsheets.registration_sheets(
        [], timezone_name=event.timezone, session_titles={},
        answer_columns=columns + ([NOTE] if keep_note else []),
    )

    def parts(key: str):
        for number in range(1, cursor["part"] + 1):
            payload = json.loads(_part_path(task.id, number).read_bytes())
            for row in payload[key]:
                values = [_decode(v) for v in row]
                if key == "rows" and with_note and not keep_note:
                    values = values[:-1]
                yield values

    main, members = header_sheets
    main.rows = parts("rows")  # build_workbook only iterates: the rows stream from the parts
    members.rows = parts("members")
    files.write_atomic(files.task_dir(task.id) / EXPORT_FILE, spreadsheets.build_workbook([main, members]))

