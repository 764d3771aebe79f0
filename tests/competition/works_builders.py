"""Submitted works and a defense schedule for the access and tenant-isolation tables (tests/test_access.py), and
small sample files for the works tests."""
from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import timedelta

from tests.conftest import NOW

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
OLE = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 64


def ooxml(part: str = "word/document.xml") -> bytes:
    """A minimal OOXML package: [Content_Types].xml and one part (word/…, xl/…, ppt/…)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return buffer.getvalue()


def ensure_works_dir(app) -> None:
    if not app.config.get("WORKS_DIR"):
        app.config["WORKS_DIR"] = tempfile.mkdtemp(prefix="saihui-works-")


def store_bytes(data: bytes):
    from competition import works

    return works.store_stream(io.BytesIO(data), works.storage_directory(), 50 * works.MB)


def works_url_values(competition_values: dict, registration, *, actor) -> dict:
    """For one event's competition (``competition_url_values``): works collected until a month after NOW, an entrant
    made from the event's approved sign-up (``registration``) with one PDF work, and the round's defense schedule in
    one batch. Returns {"work_id", "defense_batch_id"}. Flushed, not committed."""
    from flask import current_app

    from competition import services, works
    from competition.models import Competition, EntrantSource, Round
    from extensions import db

    ensure_works_dir(current_app)
    competition = db.session.get(Competition, competition_values["competition_id"])
    works.update_settings(competition, works.SettingsData(wanted=True, deadline=NOW + timedelta(days=3650),
                                                          kinds=["pdf", "image", "office", "video"], max_size_mb=5,
                                                          max_files=3), actor=actor, now=NOW)
    entrant = services.add_entrant(competition, services.EntrantData(
        name=registration.contact_name, unit=registration.unit or "",
        group_id=competition_values["group_id"] or None), actor=actor, now=NOW)
    entrant.registration_id = registration.id
    entrant.source = EntrantSource.REGISTRATION
    db.session.flush()
    work = works.record_file(competition, entrant, store_bytes(PDF), "参赛作品.pdf", actor=actor, now=NOW,
                             by_organizer=True)
    round_ = db.session.get(Round, competition_values["round_id"])
    batch = works.generate_schedule(round_, works.GenerateData(batches=1, starts_at=NOW, room="一号答辩室"),
                                    actor=actor, now=NOW)[0]
    return {"work_id": work.id, "defense_batch_id": batch.id}


def works_zero_values() -> dict:
    return {"work_id": 0, "defense_batch_id": 0}
