"""Submitted works (作品) and defense batches (答辩批次): settings, type and size checks, storage, history, access,
and the defense schedule with its generator.

Like every service here, these functions flush but never commit, take the actor and the time as parameters, and
raise ``WorkError`` (a DomainError: stable code, translated message, HTTP status, form field).

Storage: a file is streamed to ``<WORKS_DIR>/<random key>`` (default: the instance folder's ``works/``) with a size
limit, then checked by its extension AND its first bytes (``%PDF``, PNG, JPEG, an OOXML zip with
``[Content_Types].xml`` and its main part, or a legacy OLE compound file), and only then recorded. The caller
discards the stored file when the unit of work does not commit (``StoredFile.discard``), so nothing is
half-saved. Files are never named by their uploader's name on disk or towards judges: judges get the entrant's
code (``A07.pdf``); the original name is kept for organizers.

Audit: every change is recorded with ``record_audit`` naming the competition in ``competition`` (not
``competition_id``: a work does not change any score, so the results' version is left alone).

Concurrency: an upload first takes the entrant's row (a no-op UPDATE), so two uploads at once cannot pass the
"number of files" check together; removing and replacing are conditional UPDATEs (``… WHERE removed_at IS NULL``).
The defense schedule of a round is written after taking the round's row the same way.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import gettext as _

from competition.draw import codes_by_entrant
from competition.models import Competition, Entrant, Round, STATION_STAGE
from competition.work_models import DefenseBatch, DefenseSlot, WorkFile, WorkKind, WorkSettings, default_work_kinds
from core.errors import DomainError
from core.models import record_audit
from extensions import db

MB = 1024 * 1024
MAX_SIZE_MB = 200  # the largest per-file limit an organizer may set
MAX_FILES = 20
MAX_NAME = 255
MAX_URL = 1000
MAX_BATCHES = 200
MAX_INTERVAL_MINUTES = 24 * 60
CHUNK = 64 * 1024

# extension -> (kind, content type)
EXTENSIONS: dict[str, tuple[WorkKind, str]] = {
    "pdf": (WorkKind.PDF, "application/pdf"),
    "png": (WorkKind.IMAGE, "image/png"),
    "jpg": (WorkKind.IMAGE, "image/jpeg"),
    "jpeg": (WorkKind.IMAGE, "image/jpeg"),
    "docx": (WorkKind.OFFICE, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (WorkKind.OFFICE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (WorkKind.OFFICE, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "doc": (WorkKind.OFFICE, "application/msword"),
    "xls": (WorkKind.OFFICE, "application/vnd.ms-excel"),
    "ppt": (WorkKind.OFFICE, "application/vnd.ms-powerpoint"),
}
OOXML_PARTS = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
FILE_KINDS = (WorkKind.PDF, WorkKind.IMAGE, WorkKind.OFFICE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class WorkError(DomainError):
    """A refused upload or schedule change: ``code`` for machines, ``message`` for people, ``field`` for forms."""


def kind_label(kind: WorkKind | str) -> str:
    value = kind.value if isinstance(kind, WorkKind) else kind
    return {
        "pdf": _("PDF"),
        "image": _("Images (PNG, JPEG)"),
        "office": _("Office documents (Word, Excel, PowerPoint)"),
        "video": _("Video link"),
    }.get(value, value)


def accepted_extensions(kinds: list[str]) -> list[str]:
    """The file extensions the given kinds accept (for the file input's ``accept`` and the messages)."""
    return [ext for ext, (kind, _type) in EXTENSIONS.items() if kind.value in kinds]


# ---------------------------------------------------------------- settings


def get_settings(competition: Competition) -> WorkSettings:
    """The stored settings, or unsaved defaults (works not collected)."""
    found = db.session.get(WorkSettings, competition.id)
    if found is not None:
        return found
    return WorkSettings(competition_id=competition.id, wanted=False, deadline=None, kinds=default_work_kinds(),
                        max_size_mb=50, max_files=3, instructions="")


@dataclass
class SettingsData:
    wanted: bool
    deadline: datetime | None
    kinds: list[str]
    max_size_mb: int | None
    max_files: int | None
    instructions: str = ""


def update_settings(competition: Competition, data: SettingsData, *, actor, now: datetime,
                    app_limit_mb: int | None = None) -> WorkSettings:
    kinds = [k for k in default_work_kinds() if k in set(data.kinds or [])]
    if data.wanted and not kinds:
        raise WorkError("no_kinds", _("Choose at least one kind of work."), status=422, field="kinds")
    unknown = set(data.kinds or []) - set(default_work_kinds())
    if unknown:
        raise WorkError("unknown_kind", _("Choose among the kinds offered."), status=422, field="kinds")
    ceiling = min(MAX_SIZE_MB, app_limit_mb or MAX_SIZE_MB)
    size = data.max_size_mb
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= ceiling:
        raise WorkError("bad_size", _("Enter a size from 1 to %(n)d MB.", n=ceiling), status=422, field="max_size_mb")
    files = data.max_files
    if not isinstance(files, int) or isinstance(files, bool) or not 1 <= files <= MAX_FILES:
        raise WorkError("bad_files", _("Enter a number of files from 1 to %(n)d.", n=MAX_FILES), status=422,
                        field="max_files")
    if data.wanted and data.deadline is None:
        raise WorkError("no_deadline", _("Set the deadline for submitting works."), status=422, field="deadline")
    instructions = (data.instructions or "").strip()
    if len(instructions) > 2000:
        raise WorkError("too_long", _("Too long: at most %(n)d characters.", n=2000), status=422,
                        field="instructions")
    settings = db.session.get(WorkSettings, competition.id)
    if settings is None:
        settings = WorkSettings(competition_id=competition.id)
        db.session.add(settings)
    before = {"wanted": settings.wanted, "deadline": settings.deadline.isoformat() if settings.deadline else None,
              "kinds": list(settings.kinds or []), "max_size_mb": settings.max_size_mb,
              "max_files": settings.max_files}
    settings.wanted = bool(data.wanted)
    settings.deadline = data.deadline
    settings.kinds = kinds
    settings.max_size_mb = size
    settings.max_files = files
    settings.instructions = instructions
    settings.updated_at = now
    settings.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    _audit(actor, competition, "works.settings", now, settings, before=before,
           after={"wanted": settings.wanted, "deadline": data.deadline.isoformat() if data.deadline else None,
                  "kinds": kinds, "max_size_mb": size, "max_files": files})
    return settings


def deadline_passed(settings: WorkSettings, now: datetime) -> bool:
    return settings.deadline is not None and now >= settings.deadline


def participant_may_change(settings: WorkSettings, now: datetime) -> bool:
    return bool(settings.wanted) and not deadline_passed(settings, now)


# ---------------------------------------------------------------- pure checks


def clean_original_name(name: str | None) -> str:
    """The uploader's file name without folders or control characters, at most 255 characters (organizers only)."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _CONTROL.sub("", text).strip()
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) < 11 else text[:MAX_NAME]
    return text


def extension_of(name: str) -> str:
    _stem, dot, ext = (name or "").rpartition(".")
    return ext.lower() if dot else ""


def _not_allowed(kinds: list[str]) -> WorkError:
    exts = "、".join("." + e for e in accepted_extensions(kinds) if e != "jpeg")
    return WorkError("file_type", _("This kind of file is not accepted. Accepted: %(types)s.", types=exts or "—"),
                     status=422, field="file")


def check_file(name: str, path: str | os.PathLike, kinds: list[str]) -> tuple[WorkKind, str, str]:
    """(kind, extension, content type) of a stored upload, checked by extension and content; WorkError else."""
    ext = extension_of(name)
    found = EXTENSIONS.get(ext)
    if found is None or found[0].value not in kinds:
        raise _not_allowed(kinds)
    kind, content_type = found
    with open(path, "rb") as handle:
        head = handle.read(16)
    mismatch = WorkError("file_content", _("The file's content does not match its type (.%(ext)s). It may be "
                                           "damaged or renamed; save it again as .%(ext)s and upload that.", ext=ext),
                         status=422, field="file")
    if not head:
        raise WorkError("file_empty", _("The file is empty."), status=422, field="file")
    if kind == WorkKind.PDF:
        if not head.startswith(b"%PDF-"):
            raise mismatch
    elif ext == "png":
        if not head.startswith(PNG_MAGIC):
            raise mismatch
    elif ext in ("jpg", "jpeg"):
        if not head.startswith(JPEG_MAGIC):
            raise mismatch
    elif ext in OOXML_PARTS:
        if not head.startswith(b"PK\x03\x04"):
            raise mismatch
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            raise mismatch from None
        if "[Content_Types].xml" not in names or not any(n.startswith(OOXML_PARTS[ext]) for n in names):
            raise mismatch
    elif ext in ("doc", "xls", "ppt"):
        if not head.startswith(OLE_MAGIC):
            raise mismatch
    return kind, ("jpg" if ext == "jpeg" else ext), content_type


def check_video_url(url: str | None) -> str:
    """An http(s) address with a host, without spaces, at most 1000 characters."""
    text = (url or "").strip()
    if not text:
        raise WorkError("url_required", _("Enter the video's address."), status=422, field="url")
    if len(text) > MAX_URL:
        raise WorkError("url_too_long", _("Too long: at most %(n)d characters.", n=MAX_URL), status=422, field="url")
    if any(c.isspace() for c in text) or _CONTROL.search(text):
        raise WorkError("url_invalid", _("Enter a web address starting with http:// or https://."), status=422,
                        field="url")
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host or "." not in host.strip("."):
        raise WorkError("url_invalid", _("Enter a web address starting with http:// or https://."), status=422,
                        field="url")
    return text


# ---------------------------------------------------------------- storage


def storage_directory(app=None) -> Path:
    from flask import current_app

    app = app or current_app
    directory = Path(app.config.get("WORKS_DIR") or os.path.join(app.instance_path, "works"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@dataclass
class StoredFile:
    """A file streamed to disk, not yet recorded. ``discard`` it if the unit of work does not commit."""

    key: str
    path: Path
    size: int
    sha256: str

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def store_stream(stream, directory: Path, limit_bytes: int) -> StoredFile:
    """Copy ``stream`` to a new random file in ``directory``; refuse (and delete it) past ``limit_bytes``."""
    key = secrets.token_hex(16)
    path = directory / key
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "xb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit_bytes:
                    raise too_large(limit_bytes // MB)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        raise
    return StoredFile(key=key, path=path, size=size, sha256=digest.hexdigest())


def too_large(limit_mb: int) -> WorkError:
    return WorkError("too_large", _("The file is too large: at most %(n)d MB.", n=limit_mb), status=413,
                     field="file")


def path_of(work: WorkFile, directory: Path) -> Path:
    return directory / work.storage_key


# ---------------------------------------------------------------- uploads, links, removal


def _audit(actor, competition: Competition, action: str, now: datetime, obj, **details) -> None:
    record_audit(actor=actor, organization_id=competition.event.organization_id, action=action, obj=obj, now=now,
                 competition=competition.id, **details)


def current_works(entrant_id: int) -> list[WorkFile]:
    return list(db.session.scalars(sa.select(WorkFile).where(
        WorkFile.entrant_id == entrant_id, WorkFile.removed_at.is_(None)).order_by(WorkFile.uploaded_at,
                                                                                   WorkFile.id)))


def work_history(entrant_id: int) -> list[WorkFile]:
    """Every work of the entrant, current and earlier (replaced or deleted), newest first (organizers)."""
    return list(db.session.scalars(sa.select(WorkFile).where(WorkFile.entrant_id == entrant_id)
                                   .order_by(WorkFile.uploaded_at.desc(), WorkFile.id.desc())))


def _lock_entrant(entrant: Entrant) -> None:
    db.session.execute(sa.update(Entrant).where(Entrant.id == entrant.id).values(position=Entrant.position))


def _current_replaced(entrant: Entrant, replace_id: int | None) -> WorkFile | None:
    if replace_id is None:
        return None
    old = db.session.get(WorkFile, replace_id)
    if old is None or old.entrant_id != entrant.id:
        raise WorkError("not_found", _("The page or item was not found."), status=404)
    db.session.refresh(old)
    if old.removed_at is not None:
        raise WorkError("gone", _("This work has already been replaced or deleted. Reload the page."), status=409)
    return old


def _admit(competition: Competition, entrant: Entrant, kind: WorkKind | None, *, by_organizer: bool, now: datetime,
           replace_id: int | None) -> tuple[WorkSettings, bool, WorkFile | None]:
    """The checks every new work passes: collected, kind allowed, deadline, number of files. (settings, late, old)"""
    if entrant.competition_id != competition.id:
        raise WorkError("not_found", _("The page or item was not found."), status=404)
    settings = get_settings(competition)
    if not settings.wanted:
        raise WorkError("not_collected", _("This competition does not collect works."), status=409)
    if kind is not None and kind.value not in (settings.kinds or []):
        raise _not_allowed(settings.kinds or [])
    late = deadline_passed(settings, now)
    if late and not by_organizer:
        raise WorkError("deadline_passed", _("The deadline for submitting works has passed."), status=409)
    _lock_entrant(entrant)
    old = _current_replaced(entrant, replace_id)
    count = db.session.scalar(sa.select(sa.func.count(WorkFile.id)).where(
        WorkFile.entrant_id == entrant.id, WorkFile.removed_at.is_(None)))
    if count - (1 if old is not None else 0) >= settings.max_files:
        raise WorkError("too_many_files", _("At most %(n)d works per entrant: replace or delete one first.",
                                            n=settings.max_files), status=409, field="file")
    return settings, late, old


def _finish(competition: Competition, entrant: Entrant, work: WorkFile, old: WorkFile | None, *, actor,
            now: datetime) -> WorkFile:
    db.session.add(work)
    db.session.flush()
    if old is not None:
        result = db.session.execute(sa.update(WorkFile).where(WorkFile.id == old.id, WorkFile.removed_at.is_(None))
                                    .values(removed_at=now, removed_by_id=getattr(actor, "id", None),
                                            replaced_by_id=work.id).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise WorkError("gone", _("This work has already been replaced or deleted. Reload the page."), status=409)
    _audit(actor, competition, "works.replace" if old is not None else "works.upload", now, work,
           entrant_id=entrant.id, kind=work.kind.value, size=work.size, sha256=work.sha256 or None,
           replaced=old.id if old is not None else None, by_organizer=work.by_organizer or None,
           late=work.late or None)
    return work


def record_file(competition: Competition, entrant: Entrant, stored: StoredFile, original_name: str, *, actor,
                now: datetime, by_organizer: bool, replace_id: int | None = None) -> WorkFile:
    """Record a file already streamed to disk (``store_stream``) as the entrant's work, after every check."""
    name = clean_original_name(original_name)
    if not name:
        raise WorkError("no_file", _("Choose a file to upload."), status=422, field="file")
    settings = get_settings(competition)
    if not settings.wanted:
        raise WorkError("not_collected", _("This competition does not collect works."), status=409)
    if stored.size > settings.max_size_mb * MB:
        raise too_large(settings.max_size_mb)
    kind, ext, content_type = check_file(name, stored.path, [k for k in settings.kinds or [] if k != "video"])
    settings, late, old = _admit(competition, entrant, kind, by_organizer=by_organizer, now=now,
                                 replace_id=replace_id)
    work = WorkFile(competition_id=competition.id, entrant_id=entrant.id, kind=kind, storage_key=stored.key,
                    extension=ext, content_type=content_type, url=None, original_name=name, size=stored.size,
                    sha256=stored.sha256, uploaded_at=now, uploaded_by_id=getattr(actor, "id", None),
                    by_organizer=by_organizer, late=late)
    return _finish(competition, entrant, work, old, actor=actor, now=now)


def record_link(competition: Competition, entrant: Entrant, url: str, *, actor, now: datetime, by_organizer: bool,
                replace_id: int | None = None) -> WorkFile:
    """A video link as the entrant's work."""
    address = check_video_url(url)
    settings, late, old = _admit(competition, entrant, WorkKind.VIDEO, by_organizer=by_organizer, now=now,
                                 replace_id=replace_id)
    work = WorkFile(competition_id=competition.id, entrant_id=entrant.id, kind=WorkKind.VIDEO, storage_key=None,
                    extension="", content_type="", url=address, original_name="", size=0, sha256="",
                    uploaded_at=now, uploaded_by_id=getattr(actor, "id", None), by_organizer=by_organizer, late=late)
    return _finish(competition, entrant, work, old, actor=actor, now=now)


def remove_work(work: WorkFile, *, actor, now: datetime, by_organizer: bool) -> WorkFile:
    """Delete a current work (the row and the file stay for the history). Participants only before the deadline."""
    competition = db.session.get(Competition, work.competition_id)
    settings = get_settings(competition)
    if not by_organizer and not participant_may_change(settings, now):
        raise WorkError("deadline_passed", _("The deadline for submitting works has passed."), status=409)
    result = db.session.execute(sa.update(WorkFile).where(WorkFile.id == work.id, WorkFile.removed_at.is_(None))
                                .values(removed_at=now, removed_by_id=getattr(actor, "id", None))
                                .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise WorkError("gone", _("This work has already been replaced or deleted. Reload the page."), status=409)
    _audit(actor, competition, "works.remove", now, work, entrant_id=work.entrant_id,
           by_organizer=by_organizer or None)
    db.session.refresh(work)
    return work


# ---------------------------------------------------------------- who may open a work, and under which name


def judge_may_open(user, work: WorkFile) -> bool:
    """A judge of the competition with an assignment for the work's entrant (any round), still holding a judging
    role in the event and not excluded by a conflict of interest."""
    from accounts.permissions import JUDGING_ROLES, can_see_event_admin, roles_for_event
    from judging import assignment as planner
    from judging.models import Assignment
    from judging.services import entrant_identity, judge_identity, judge_profile

    if not getattr(user, "is_authenticated", False):
        return False
    competition = db.session.get(Competition, work.competition_id)
    event = competition.event
    if not can_see_event_admin(user, event) or not roles_for_event(user, event) & JUDGING_ROLES:
        return False
    profile = judge_profile(competition, user.id)
    if profile is None:
        return False
    assigned = db.session.scalar(sa.select(Assignment.id).join(Round, Round.id == Assignment.round_id).where(
        Assignment.judge_id == user.id, Assignment.entrant_id == work.entrant_id,
        Round.competition_id == competition.id).limit(1))
    if assigned is None:
        return False
    entrant = db.session.get(Entrant, work.entrant_id)
    return not planner.conflict_reasons(judge_identity(profile), entrant_identity(entrant))


def judge_code_stage(user, work: WorkFile, round_id: int | None = None) -> int:
    """The code stage the judge sees for this entrant: the given round's, else that of the latest round in which the
    judge is assigned the entrant."""
    from judging.models import Assignment
    from judging.services import round_settings

    query = sa.select(Round).join(Assignment, Assignment.round_id == Round.id).where(
        Assignment.judge_id == user.id, Assignment.entrant_id == work.entrant_id,
        Round.competition_id == work.competition_id)
    rounds = list(db.session.scalars(query.order_by(Round.position.desc(), Round.id.desc())))
    chosen = next((r for r in rounds if r.id == round_id), rounds[0] if rounds else None)
    return round_settings(chosen).code_stage if chosen is not None else STATION_STAGE


def entrant_code(competition: Competition, entrant_id: int, stage: int) -> str | None:
    from competition.models import DrawCode

    return db.session.scalar(sa.select(DrawCode.code).where(DrawCode.entrant_id == entrant_id,
                                                            DrawCode.stage == stage))


def download_name(work: WorkFile, code: str | None) -> str:
    """``A07.pdf``; ``A07-2.pdf`` for the entrant's second current file; ``work-<id>.pdf`` without a code."""
    base = re.sub(r"[^0-9A-Za-z_\-]", "_", code) if code else f"work-{work.id}"
    files = [w.id for w in current_works(work.entrant_id) if not w.is_link]
    if work.id in files and files.index(work.id) > 0:
        base = f"{base}-{files.index(work.id) + 1}"
    return f"{base}.{work.extension}" if work.extension else base


def works_for_judge(entrant_ids: list[int], codes: dict[int, str]) -> dict[int, list[dict]]:
    """What the judge's sheet carries per entrant: id, kind, a label made of the code (never the file's name)."""
    rows = db.session.scalars(sa.select(WorkFile).where(WorkFile.entrant_id.in_(entrant_ids or [0]),
                                                        WorkFile.removed_at.is_(None))
                              .order_by(WorkFile.entrant_id, WorkFile.uploaded_at, WorkFile.id))
    found: dict[int, list[dict]] = {}
    for work in rows:
        mine = found.setdefault(work.entrant_id, [])
        number = sum(1 for w in mine if w["kind"] != "video") + 1
        code = codes.get(work.entrant_id, "")
        label = code if work.is_link else (f"{code}.{work.extension}" if number == 1 else
                                           f"{code}-{number}.{work.extension}")
        mine.append({"id": work.id, "kind": work.kind.value, "label": label})
    return found


# ---------------------------------------------------------------- the defense schedule


def split_sizes(total: int, *, batches: int | None = None, per_batch: int | None = None) -> list[int]:
    """How many entrants go into each batch: ``batches`` as even as possible (the first ones one larger), or
    batches of ``per_batch`` (the last one smaller). 100 into 19 batches: five of 6, then fourteen of 5."""
    if total < 0:
        raise ValueError("total")
    if (batches is None) == (per_batch is None):
        raise WorkError("batches_or_size", _("Give either the number of batches or the number per batch."),
                        status=422, field="batches")
    if batches is not None:
        if not 1 <= batches <= MAX_BATCHES:
            raise WorkError("bad_batches", _("Enter a number of batches from 1 to %(n)d.", n=MAX_BATCHES),
                            status=422, field="batches")
        if total and batches > total:
            raise WorkError("too_many_batches", _("More batches (%(b)d) than entrants (%(n)d).", b=batches,
                                                  n=total), status=422, field="batches")
        count = batches if total else 0
        base, extra = divmod(total, batches) if total else (0, 0)
        return [base + (1 if i < extra else 0) for i in range(count)]
    if not 1 <= per_batch <= 1000:
        raise WorkError("bad_per_batch", _("Enter a number per batch from 1 to %(n)d.", n=1000), status=422,
                        field="per_batch")
    sizes = [per_batch] * (total // per_batch) + ([total % per_batch] if total % per_batch else [])
    if len(sizes) > MAX_BATCHES:
        raise WorkError("bad_batches", _("Enter a number of batches from 1 to %(n)d.", n=MAX_BATCHES), status=422,
                        field="per_batch")
    return sizes


def batch_name(template: str, number: int) -> str:
    """'第{n}批' -> 第3批; a template without {n} gets the number appended."""
    template = (template or "").strip() or "第{n}批"
    return template.replace("{n}", str(number)) if "{n}" in template else f"{template}{number}"


@dataclass
class GenerateData:
    batches: int | None = None
    per_batch: int | None = None
    starts_at: datetime | None = None
    interval_minutes: int | None = None
    room: str = ""
    name_template: str = "第{n}批"
    group_id: int | None = None  # only this group's entrants; None: every entrant of the competition
    order: str = "code"  # "code": by station number; "entry": in the order entrants were added


def _lock_round(round_: Round) -> None:
    db.session.execute(sa.update(Round).where(Round.id == round_.id).values(position=Round.position))


def _clean_room(room: str | None) -> str:
    text = _CONTROL.sub("", room or "").strip()
    if len(text) > 100:
        raise WorkError("too_long", _("Too long: at most %(n)d characters.", n=100), status=422, field="room")
    return text


def _clean_batch_name(name: str | None) -> str:
    text = _CONTROL.sub("", name or "").strip()
    if not text:
        raise WorkError("required", _("Enter the batch's name."), status=422, field="name")
    if len(text) > 60:
        raise WorkError("too_long", _("Too long: at most %(n)d characters.", n=60), status=422, field="name")
    return text


def ordered_entrants(competition: Competition, *, group_id: int | None, order: str) -> list[int]:
    query = sa.select(Entrant.id, Entrant.position).where(Entrant.competition_id == competition.id)
    if group_id is not None:
        query = query.where(Entrant.group_id == group_id)
    rows = db.session.execute(query.order_by(Entrant.position, Entrant.id)).all()
    ids = [i for i, _p in rows]
    if order == "code":
        from judging.services import natural_key

        codes = codes_by_entrant(competition, STATION_STAGE)
        place = {entrant_id: n for n, entrant_id in enumerate(ids)}
        ids = sorted(ids, key=lambda i: (i not in codes, natural_key(codes.get(i)), place[i]))
    elif order != "entry":
        raise WorkError("bad_order", _("Choose an order."), status=422, field="order")
    return ids


def generate_schedule(round_: Round, data: GenerateData, *, actor, now: datetime) -> list[DefenseBatch]:
    """Replace the round's defense schedule: the entrants (of a group, or all) split into batches in order, batch i
    starting ``interval_minutes`` after batch i-1, all in ``room``."""
    competition = db.session.get(Competition, round_.competition_id)
    if data.group_id is not None and data.group_id not in {g.id for g in competition.groups}:
        raise WorkError("bad_group", _("Choose a group of this competition."), status=422, field="group_id")
    if data.interval_minutes is not None and not 0 <= data.interval_minutes <= MAX_INTERVAL_MINUTES:
        raise WorkError("bad_interval", _("Enter minutes from 0 to %(n)d.", n=MAX_INTERVAL_MINUTES), status=422,
                        field="interval_minutes")
    if data.interval_minutes and data.starts_at is None:
        raise WorkError("no_start", _("Give the first batch's start time, or leave the interval empty."),
                        status=422, field="starts_at")
    room = _clean_room(data.room)
    template = (data.name_template or "").strip() or "第{n}批"
    if len(batch_name(template, MAX_BATCHES)) > 60:
        raise WorkError("too_long", _("Too long: at most %(n)d characters.", n=60), status=422,
                        field="name_template")
    _lock_round(round_)
    ids = ordered_entrants(competition, group_id=data.group_id, order=data.order)
    if not ids:
        raise WorkError("no_entrants", _("There are no entrants to put into batches."), status=409)
    sizes = split_sizes(len(ids), batches=data.batches, per_batch=data.per_batch)
    db.session.execute(sa.delete(DefenseSlot).where(DefenseSlot.round_id == round_.id))
    db.session.execute(sa.delete(DefenseBatch).where(DefenseBatch.round_id == round_.id))
    batches = []
    start = 0
    for number, size in enumerate(sizes, start=1):
        starts_at = None
        if data.starts_at is not None:
            starts_at = data.starts_at + timedelta(minutes=(data.interval_minutes or 0) * (number - 1))
        batch = DefenseBatch(competition_id=competition.id, round_id=round_.id, name=batch_name(template, number),
                             starts_at=starts_at, room=room, position=number)
        db.session.add(batch)
        db.session.flush()
        for place, entrant_id in enumerate(ids[start:start + size], start=1):
            db.session.add(DefenseSlot(batch_id=batch.id, round_id=round_.id, entrant_id=entrant_id, position=place))
        start += size
        batches.append(batch)
    db.session.flush()
    _audit(actor, competition, "defense.generate", now, round_, batches=len(sizes), entrants=len(ids),
           sizes=sizes, room=room or None, starts_at=data.starts_at.isoformat() if data.starts_at else None,
           interval_minutes=data.interval_minutes, group_id=data.group_id, order=data.order)
    return batches


def list_batches(round_: Round) -> list[DefenseBatch]:
    return list(db.session.scalars(sa.select(DefenseBatch).where(DefenseBatch.round_id == round_.id)
                                   .order_by(DefenseBatch.position, DefenseBatch.id)))


def add_batch(round_: Round, *, name: str, starts_at: datetime | None, room: str, actor, now: datetime) -> DefenseBatch:
    competition = db.session.get(Competition, round_.competition_id)
    name = _clean_batch_name(name)
    room = _clean_room(room)
    _lock_round(round_)
    if db.session.scalar(sa.select(DefenseBatch.id).where(DefenseBatch.round_id == round_.id,
                                                          DefenseBatch.name == name)):
        raise WorkError("duplicate", _("This round already has a batch of that name."), status=409, field="name")
    position = (db.session.scalar(sa.select(sa.func.max(DefenseBatch.position)).where(
        DefenseBatch.round_id == round_.id)) or 0) + 1
    batch = DefenseBatch(competition_id=competition.id, round_id=round_.id, name=name, starts_at=starts_at,
                         room=room, position=position)
    db.session.add(batch)
    db.session.flush()
    _audit(actor, competition, "defense.batch_add", now, batch, round_id=round_.id, name=name, room=room or None,
           starts_at=starts_at.isoformat() if starts_at else None)
    return batch


def update_batch(batch: DefenseBatch, *, name: str, starts_at: datetime | None, room: str, actor,
                 now: datetime) -> DefenseBatch:
    competition = db.session.get(Competition, batch.competition_id)
    name = _clean_batch_name(name)
    room = _clean_room(room)
    clash = db.session.scalar(sa.select(DefenseBatch.id).where(DefenseBatch.round_id == batch.round_id,
                                                               DefenseBatch.name == name, DefenseBatch.id != batch.id))
    if clash:
        raise WorkError("duplicate", _("This round already has a batch of that name."), status=409, field="name")
    before = {"name": batch.name, "room": batch.room, "starts_at": batch.starts_at.isoformat() if batch.starts_at
              else None}
    batch.name, batch.room, batch.starts_at = name, room, starts_at
    db.session.flush()
    _audit(actor, competition, "defense.batch_edit", now, batch, round_id=batch.round_id, before=before,
           after={"name": name, "room": room, "starts_at": starts_at.isoformat() if starts_at else None})
    return batch


def delete_batch(batch: DefenseBatch, *, actor, now: datetime) -> None:
    competition = db.session.get(Competition, batch.competition_id)
    if db.session.scalar(sa.select(sa.func.count(DefenseSlot.id)).where(DefenseSlot.batch_id == batch.id)):
        raise WorkError("not_empty", _("Move this batch's entrants elsewhere first."), status=409)
    _audit(actor, competition, "defense.batch_delete", now, batch, round_id=batch.round_id, name=batch.name)
    db.session.delete(batch)
    db.session.flush()


def move_entrant(round_: Round, entrant_id: int, batch_id: int | None, position: int | None, *, actor,
                 now: datetime) -> None:
    """Put an entrant into a batch at ``position`` (1 = first; None = last), or take them off the schedule
    (``batch_id`` None). The other entrants of the batches concerned close up."""
    competition = db.session.get(Competition, round_.competition_id)
    entrant = db.session.get(Entrant, entrant_id) if isinstance(entrant_id, int) else None
    if entrant is None or entrant.competition_id != competition.id:
        raise WorkError("not_found", _("The page or item was not found."), status=404)
    target = None
    if batch_id is not None:
        target = db.session.get(DefenseBatch, batch_id) if isinstance(batch_id, int) else None
        if target is None or target.round_id != round_.id:
            raise WorkError("bad_batch", _("Choose a batch of this round."), status=422, field="batch_id")
    if position is not None and not 1 <= position <= 10000:
        raise WorkError("bad_position", _("Enter a place from 1 on."), status=422, field="position")
    _lock_round(round_)
    old = db.session.scalar(sa.select(DefenseSlot).where(DefenseSlot.round_id == round_.id,
                                                         DefenseSlot.entrant_id == entrant.id))
    old_batch_id = old.batch_id if old is not None else None
    if old is not None:
        db.session.delete(old)
        db.session.flush()
    touched = {b for b in (old_batch_id, target.id if target else None) if b is not None}
    if target is not None:
        ids = list(db.session.scalars(sa.select(DefenseSlot.entrant_id).where(DefenseSlot.batch_id == target.id)
                                      .order_by(DefenseSlot.position, DefenseSlot.id)))
        place = len(ids) if position is None else min(position - 1, len(ids))
        ids.insert(place, entrant.id)
        db.session.add(DefenseSlot(batch_id=target.id, round_id=round_.id, entrant_id=entrant.id, position=0))
        db.session.flush()
    for batch_key in touched:
        slots = list(db.session.scalars(sa.select(DefenseSlot).where(DefenseSlot.batch_id == batch_key)))
        order = ids if target is not None and batch_key == target.id else [
            s.entrant_id for s in sorted(slots, key=lambda s: (s.position, s.id))]
        for slot in slots:
            slot.position = order.index(slot.entrant_id) + 1
    db.session.flush()
    _audit(actor, competition, "defense.move", now, round_, entrant_id=entrant.id, from_batch=old_batch_id,
           to_batch=target.id if target else None, position=position)


@dataclass
class ScheduleRow:
    batch: DefenseBatch
    entrant_ids: list[int]


def schedule(round_: Round) -> tuple[list[ScheduleRow], list[int]]:
    """The round's batches with their entrants in order, and the competition's entrants on no batch (by id)."""
    batches = list_batches(round_)
    slots = db.session.execute(sa.select(DefenseSlot.batch_id, DefenseSlot.entrant_id).where(
        DefenseSlot.round_id == round_.id).order_by(DefenseSlot.position, DefenseSlot.id)).all()
    by_batch: dict[int, list[int]] = {}
    for batch_id, entrant_id in slots:
        by_batch.setdefault(batch_id, []).append(entrant_id)
    placed = {e for _b, e in slots}
    rest = [i for i in db.session.scalars(sa.select(Entrant.id).where(
        Entrant.competition_id == round_.competition_id).order_by(Entrant.position, Entrant.id)) if i not in placed]
    return [ScheduleRow(batch=b, entrant_ids=by_batch.get(b.id, [])) for b in batches], rest


def batches_for_sheet(round_id: int, entrant_ids: list[int]) -> tuple[list[dict], dict[int, tuple[int, int, int]]]:
    """For the judge's sheet: the round's batches that hold any of ``entrant_ids`` ({id, name, starts_at, room,
    position}), and per entrant (batch position, place, batch id) to order by. Nothing else about entrants."""
    rows = db.session.execute(
        sa.select(DefenseSlot.entrant_id, DefenseSlot.position, DefenseBatch.id, DefenseBatch.position)
        .join(DefenseBatch, DefenseBatch.id == DefenseSlot.batch_id)
        .where(DefenseSlot.round_id == round_id, DefenseSlot.entrant_id.in_(entrant_ids or [0]))).all()
    used = {batch_id for _e, _p, batch_id, _bp in rows}
    places = {entrant_id: (batch_position, place) for entrant_id, place, _b, batch_position in rows}
    batches = []
    for batch in db.session.scalars(sa.select(DefenseBatch).where(DefenseBatch.id.in_(used or {0}))
                                    .order_by(DefenseBatch.position, DefenseBatch.id)):
        batches.append({"id": batch.id, "name": batch.name, "room": batch.room, "position": batch.position,
                        "starts_at": batch.starts_at.isoformat() if batch.starts_at else None})
    batch_of = {entrant_id: batch_id for entrant_id, _p, batch_id, _bp in rows}
    return batches, {e: places[e] + (batch_of[e],) for e in places}
