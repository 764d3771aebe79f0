"""The certificate batch as a background task ("certificates.batch"), resumable from its cursor.

The holders are fixed when the batch starts (task params, already sorted in the organizer's order). Steps:

1. ``issue``: the next ISSUE_CHUNK holders get their certificates (numbers from the series' counter, verify codes);
   holders who have one already keep it. The new certificates' ids go into the cursor, committed together with the
   certificates themselves: after a crash the step is rolled back as a whole and runs again, so no certificate is
   issued twice and none is missed.
2. ``render``: RENDER_CHUNK certificates each into their own one-page PDF (``singles/<id>.pdf``, written through a
   temporary file and a rename: running the step again writes the same files again).
3. ``merge``: all certificates, in order, into one PDF for printing (one font subset for the whole batch).
4. ``zip``: the one-page PDFs into a ZIP, named ``<number>_<name>.pdf``.
5. ``finish``: the one-page PDFs are removed, the batch is logged, the files are offered for download.

If the design is changed while a batch runs, the batch stops (its pages would not all look the same); starting it
again issues nothing twice.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from certificates import numbering, render, services
from certificates.models import Certificate, CertificateKind, CertificateStatus
from certificates.sources import Holder
from core.models import record_audit
from events.models import Event
from extensions import db
from tasks import files
from tasks.registry import StepResult, task_handler

log = logging.getLogger(__name__)

ISSUE_CHUNK = 200
RENDER_CHUNK = 50
MERGED_FILE = "certificates.pdf"
ZIP_FILE = "certificates.zip"


class BatchError(RuntimeError):
    pass


def _download_stem(event: Event, kind: CertificateKind) -> str:
    title = "".join(c for c in event.title if c not in '\\/:*?"<>|\r\n\t').strip()[:60] or f"event-{event.id}"
    return f"{title}-{services.KIND_LABELS[kind]}"


def _single_path(task_id: int, certificate_id: int):
    return files.task_dir(task_id) / "singles" / f"{certificate_id}.pdf"


def _certificates(ids: list[int]) -> list[Certificate]:
    """The certificates with these ids, in this order, that are still valid."""
    by_id = {}
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        by_id.update({c.id: c for c in db.session.scalars(sa.select(Certificate).where(Certificate.id.in_(part)))})
    return [by_id[i] for i in ids if i in by_id and by_id[i].status == CertificateStatus.VALID]


def _issue_chunk(event, kind, holders, design, task, now) -> services.IssueOutcome:
    try:
        return services.issue(event, kind, holders, design=design, actor=task.created_by, now=now, task_id=task.id)
    except IntegrityError:
        # Another batch issued to some of these holders at the same moment: start the chunk again from fresh
        # reads, which now find that batch's certificates.
        db.session.rollback()
        event = db.session.get(Event, event.id)
        design = services.get_design(event, kind)
        return services.issue(event, kind, holders, design=design, actor=task.created_by, now=now, task_id=task.id)


@task_handler(services.BATCH_KIND, label=_l("Certificate batch"))
def batch_step(task, now: datetime) -> StepResult:
    params = task.params or {}
    event = db.session.get(Event, task.event_id)
    kind = CertificateKind(params["kind"])
    holders = params.get("holders") or []
    task_id = task.id
    cursor = dict(task.cursor or {"stage": "issue", "index": 0, "ids": [], "issued": 0, "existing": 0,
                                  "revoked": 0})
    design = services.get_design(event, kind)
    if design is None or design.version != params.get("design_version"):
        raise BatchError(_("The certificate design was changed while the batch was running, so its pages would "
                           "not all look alike. Start the batch again: certificates issued already are not issued "
                           "twice."))
    stage = cursor["stage"]

    if stage == "issue":
        start = cursor["index"]
        chunk = [Holder.from_dict(h) for h in holders[start:start + ISSUE_CHUNK]]
        outcome = _issue_chunk(event, kind, chunk, design, task, now)
        cursor["ids"] = cursor["ids"] + [c.id for c in outcome.certificates]
        cursor["issued"] += outcome.issued
        cursor["existing"] += outcome.existing
        cursor["revoked"] += len(outcome.revoked)
        cursor["index"] = start + len(chunk)
        if cursor["index"] >= len(holders):
            cursor.update(stage="render", index=0)
        task.cursor = cursor
        return StepResult(done=0, total=max(len(holders), 1))

    ids: list[int] = cursor["ids"]
    spec = services.design_spec(design)
    font = services.font_path()
    if stage == "render":
        start = cursor["index"]
        for certificate in _certificates(ids[start:start + RENDER_CHUNK]):
            pdf = render.render_pdf(spec, [services.page_content(certificate, design)], font_path=font,
                                    title=f"{certificate.number} {certificate.holder_name}",
                                    author=event.organization.name)
            files.write_atomic(_single_path(task_id, certificate.id), pdf)
        cursor["index"] = min(start + RENDER_CHUNK, len(ids))
        if cursor["index"] >= len(ids):
            cursor.update(stage="merge", index=0)
        task.cursor = cursor
        return StepResult(done=cursor["index"], total=max(len(ids), 1))

    certificates = _certificates(ids)
    if stage == "merge":
        if certificates:
            pdf = render.render_pdf(spec, [services.page_content(c, design) for c in certificates], font_path=font,
                                    title=services.document_title(event, kind), author=event.organization.name)
            files.write_atomic(files.task_dir(task_id, create=True) / MERGED_FILE, pdf)
        cursor["stage"] = "zip"
        task.cursor = cursor
        return StepResult(done=len(ids), total=max(len(ids), 1))

    if stage == "zip":
        if certificates:
            _write_zip(task_id, certificates)
        cursor["stage"] = "finish"
        task.cursor = cursor
        return StepResult(done=len(ids), total=max(len(ids), 1))

    # finish
    shutil.rmtree(files.task_dir(task_id) / "singles", ignore_errors=True)
    stem = _download_stem(event, kind)
    result = {
        "count": len(certificates), "issued": cursor["issued"], "existing": cursor["existing"],
        "revoked": cursor["revoked"], "kind": kind.value,
    }
    if certificates:
        result.update(file=MERGED_FILE, filename=f"{stem}.pdf", content_type="application/pdf", zip=ZIP_FILE,
                      zip_filename=f"{stem}.zip", first=certificates[0].number, last=certificates[-1].number)
    record_audit(actor=task.created_by, organization_id=event.organization_id, action="certificates.batch",
                 obj=event, now=now, task_id=task_id, **result)
    return StepResult(done=len(ids), total=max(len(ids), 1), finished=True, result=result)


def _write_zip(task_id: int, certificates: list[Certificate]) -> None:
    """The one-page PDFs in a ZIP (stored, not compressed again: PDF streams are compressed already)."""
    directory = files.task_dir(task_id, create=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".zip")
    os.close(fd)
    try:
        used: set[str] = set()
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for certificate in certificates:
                name = numbering.safe_file_name(certificate.number, certificate.holder_name)
                if name in used:  # two numbers that differ only in characters a file name cannot hold
                    name = name[:-4] + f"_{certificate.id}.pdf"
                used.add(name)
                archive.write(_single_path(task_id, certificate.id), arcname=name)
        os.replace(tmp, directory / ZIP_FILE)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
