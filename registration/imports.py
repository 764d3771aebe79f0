"""Importing the sign-up sheets units send: check every row, keep the file between preview and confirmation, then
create the sign-ups in one unit of work.

Every sign-up goes through ``services.register_participant`` (source "import", the registration window ignored), so
capacity, the waiting list and duplicate rules are the same as on the public form. Like the other services these
functions flush and never commit; the caller commits once, or rolls back everything.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from events.models import Event
from extensions import db
from registration import services
from registration.models import MemberRole, Registration, RegistrationState, TeamMember
from registration.spreadsheets import (
    CheckedTable,
    Entry,
    ImportRules,
    Table,
    check_table,
)

MODE_VALID_ROWS = "valid"  # import the rows that pass, skip the others
MODE_ALL_OR_NOTHING = "all"  # import only if every row passes
MODES = (MODE_VALID_ROWS, MODE_ALL_OR_NOTHING)


class RegistrationImportError(services.RegistrationError):
    """``rows_invalid`` (all-or-nothing and some row fails), ``row_failed`` (the service refused a row: the whole
    import is rolled back) or ``nothing_to_import``. ``checked`` holds the fresh checks for the page to show."""

    def __init__(self, code: str, message: str, *, checked: CheckedTable | None = None, row: int | None = None,
                 status: int = 422):
        super().__init__(code, message, status=status)
        self.checked = checked
        self.row = row


def rules_for(event: Event) -> ImportRules:
    settings = services.get_settings(event)
    return ImportRules(
        team=settings.kind.value == "team",
        groups=tuple(settings.groups or ()),
        require_id_number=bool(settings.ask_id_number),
        team_min_members=settings.team_min_members,
        team_max_members=settings.team_max_members,
        team_max_coaches=settings.team_max_coaches,
        questions=tuple(services.list_field_specs(event)),
    )


def _chunks(values: Collection[str], size: int = 500):
    values = sorted(values)
    for i in range(0, len(values), size):
        yield values[i:i + size]


def find_taken(event_id: int, phones: Collection[str], id_numbers: Collection[str]) -> tuple[set[str], set[str]]:
    """Which of these phones and ID numbers already have an active sign-up (as a person or a team member)."""
    taken_phones: set[str] = set()
    taken_ids: set[str] = set()
    for chunk in _chunks(phones):
        taken_phones.update(db.session.scalars(sa.select(Registration.dedupe_phone).where(
            Registration.event_id == event_id, Registration.dedupe_phone.in_(chunk))))
        taken_phones.update(db.session.scalars(sa.select(TeamMember.dedupe_phone).where(
            TeamMember.event_id == event_id, TeamMember.dedupe_phone.in_(chunk))))
    for chunk in _chunks(id_numbers):
        taken_ids.update(db.session.scalars(sa.select(Registration.dedupe_id_number).where(
            Registration.event_id == event_id, Registration.dedupe_id_number.in_(chunk))))
    return taken_phones, taken_ids


def check_import(event: Event, table: Table) -> CheckedTable:
    """Check the rows of an uploaded file against the event's rules and its existing sign-ups. Saves nothing."""
    return check_table(table, rules_for(event), lambda phones, ids: find_taken(event.id, phones, ids))


def seats_free(event: Event) -> int | None:
    """Free seats now (None: no limit). Rows beyond them go to the waiting list."""
    if event.capacity is None:
        return None
    return max(event.capacity - event.seats_taken, 0)


def _signup_data(entry: Entry) -> services.SignupData:
    leader = entry.leader.data
    members = [
        services.MemberData(role=MemberRole(row.data.get("role") if row.data.get("role") in ("member", "coach") else "member"),
                            name=row.data["name"], phone=row.data.get("phone"), id_number=row.data.get("id_number"))
        for row in entry.rows[1:]
    ]
    return services.SignupData(
        name=leader["name"], phone=leader["phone"], unit=leader.get("unit", ""), email=leader.get("email"),
        job_title=leader.get("job_title"), id_kind=leader.get("id_kind"), id_number=leader.get("id_number"),
        group_name=leader.get("group_name"), team_name=leader.get("team_name"), members=members,
        answers=dict(leader.get("answers") or {}), source="import",
    )


@dataclass
class ImportedEntry:
    rows: list[int]
    registration: Registration


@dataclass
class ImportOutcome:
    created: list[ImportedEntry] = field(default_factory=list)
    skipped_rows: list[int] = field(default_factory=list)

    def count(self, state: RegistrationState) -> int:
        return sum(1 for e in self.created if e.registration.status == state)


def import_registrations(event: Event, table: Table, *, mode: str, now: datetime, actor,
                         filename: str = "") -> ImportOutcome:
    """Check the file again (other sign-ups may have arrived since the preview) and create its sign-ups.

    ``mode`` is MODE_ALL_OR_NOTHING (any failing row: nothing is created) or MODE_VALID_ROWS (failing rows are
    skipped). If the service refuses a row that passed the checks (a sign-up that arrived a moment ago, a full
    session), ``row_failed`` is raised and the caller must roll back: a file is never half imported by accident.
    """
    from core.models import record_audit

    if mode not in MODES:
        raise RegistrationImportError("bad_mode", _("Choose how to import."))
    checked = check_import(event, table)
    if mode == MODE_ALL_OR_NOTHING and not checked.all_valid:
        raise RegistrationImportError(
            "rows_invalid", _("Nothing was imported: %(n)d rows have problems. Fix them, or import only the valid rows.",
                              n=len(checked.invalid_rows) + (1 if checked.missing else 0)),
            checked=checked,
        )
    if not checked.entries:
        raise RegistrationImportError("nothing_to_import", _("Nothing was imported: no row can be imported."),
                                      checked=checked)
    outcome = ImportOutcome(skipped_rows=[r.number for r in checked.invalid_rows])
    specs = services.list_field_specs(event)
    for entry in checked.entries:
        try:
            registration, _key = services.register_participant(event, _signup_data(entry), now=now, actor=actor,
                                                               ignore_window=True, specs=specs)
        except services.RegistrationError as error:
            raise RegistrationImportError(
                "row_failed", _("Nothing was imported. Row %(row)d: %(message)s", row=entry.leader.number,
                                message=error.message),
                checked=checked, row=entry.leader.number, status=409,
            ) from None
        outcome.created.append(ImportedEntry(rows=entry.numbers, registration=registration))
    record_audit(actor=actor, organization_id=event.organization_id, action="registration.import", obj=event, now=now,
                 filename=filename[:200] or None, mode=mode, created=len(outcome.created),
                 waitlisted=outcome.count(RegistrationState.WAITLISTED), skipped_rows=len(outcome.skipped_rows))
    db.session.flush()
    return outcome


# ---------------------------------------------------------------- the file between preview and confirmation


@dataclass
class PendingImport:
    token: str
    event_id: int
    user_id: int
    filename: str
    created_at: datetime
    table: Table


class PendingImports:
    """Uploaded tables kept on the server between the preview and the organizer's confirmation, one JSON file per
    upload under ``directory``, named by a random token. The browser only holds the token: what is imported is
    what was checked, and a token only works for the user and event that uploaded it. Files expire after ``ttl``
    and are deleted after the import (they hold phone and ID numbers)."""

    TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

    def __init__(self, directory: str | os.PathLike, ttl: timedelta = timedelta(hours=1)):
        self.directory = Path(directory)
        self.ttl = ttl

    def _path(self, token: str) -> Path | None:
        if not self.TOKEN.match(token or ""):
            return None
        return self.directory / f"{token}.json"

    def save(self, *, event_id: int, user_id: int, filename: str, table: Table, now: datetime) -> str:
        self.sweep()
        self.directory.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        path = self._path(token)
        payload = {"event_id": event_id, "user_id": user_id, "filename": filename[:200],
                   "created_at": now.isoformat(), "rows": [[number, cells] for number, cells in table.rows]}
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False)
        os.replace(temporary, path)
        return token

    def load(self, token: str, *, event_id: int, user_id: int, now: datetime) -> PendingImport | None:
        path = self._path(token)
        if path is None or not path.is_file():
            return None
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            created_at = datetime.fromisoformat(payload["created_at"])
            rows = [(int(number), [str(c) for c in cells]) for number, cells in payload["rows"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if payload.get("event_id") != event_id or payload.get("user_id") != user_id:
            return None
        if now - created_at > self.ttl:
            self.discard(token)
            return None
        return PendingImport(token=token, event_id=event_id, user_id=user_id, filename=payload.get("filename", ""),
                             created_at=created_at, table=Table(rows=rows))

    def discard(self, token: str) -> None:
        path = self._path(token)
        if path is not None:
            path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Delete expired uploads, by the files' modification time (the real clock, as the file system keeps it)."""
        if not self.directory.is_dir():
            return
        cutoff = time.time() - self.ttl.total_seconds()
        for path in [*self.directory.glob("*.json"), *self.directory.glob("*.tmp")]:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                continue
