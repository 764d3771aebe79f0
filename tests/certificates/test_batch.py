"""The batch task: resumable after a crash (no duplicate, no missing certificate), and safe when two batches run
at once (numbers are never given twice)."""
from __future__ import annotations

import io
import threading
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from certificates import jobs, services, sources
from certificates.models import Certificate, CertificateKind
from core.types import utcnow
from tasks import files
from tasks.models import BackgroundTask, TaskState
from tests.certificates.helpers import attended_event, pdf_pages, pdf_text, run_tasks
from tests.conftest import NOW

PARTICIPATION = CertificateKind.PARTICIPATION
NAMES = ("王喆", "李堃", "张赟", "刘犇", "陈䶮", "陳錦綉", "欧阳娜娜")


class Crash(BaseException):
    """The process dies in the middle of a step: nothing after it runs, nothing is committed."""


def start(db, event, organizer, holders=None, kind=PARTICIPATION, order="source"):
    task = services.start_batch(event, kind, holders or sources.checked_in_holders(event), order=order,
                                actor=organizer, now=NOW)
    db.session.commit()
    return task.id


def finished(db, task_id) -> BackgroundTask:
    db.session.expire_all()
    return db.session.get(BackgroundTask, task_id)


def outputs(app, task_id):
    with app.app_context():
        merged = files.result_path(task_id, jobs.MERGED_FILE).read_bytes()
        archive = zipfile.ZipFile(io.BytesIO(files.result_path(task_id, jobs.ZIP_FILE).read_bytes()))
    return merged, archive


def test_a_batch_interrupted_twice_ends_with_no_duplicate_and_no_missing_certificate(app, db, factory, monkeypatch,
                                                                                    tmp_path):
    event, organizer, _people = attended_event(db, factory, names=NAMES, absent=())
    monkeypatch.setattr(jobs, "ISSUE_CHUNK", 3)
    monkeypatch.setattr(jobs, "RENDER_CHUNK", 2)
    task_id = start(db, event, organizer)

    from tasks import registry

    real = registry.get_handler(services.BATCH_KIND)
    calls = {"n": 0, "died_rendering": False}

    def dying(task, now):
        calls["n"] += 1
        before = (task.cursor or {}).get("stage")
        result = real(task, now)  # the step's work is done (rows flushed, files written) …
        if calls["n"] == 2 or (before == "render" and task.cursor["index"] >= 4 and not calls["died_rendering"]):
            calls["died_rendering"] = calls["n"] != 2
            raise Crash()  # … and the process dies before the runner commits it
        return result

    monkeypatch.setitem(registry._HANDLERS, services.BATCH_KIND, dying)
    with pytest.raises(Crash):  # dies in the second issue step: the first chunk is committed, the second is not
        run_tasks(app)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3
    with pytest.raises(Crash):  # taken over after the lease expired; dies again, in the render stage
        run_tasks(app, clock=lambda: utcnow() + timedelta(minutes=6))
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == len(NAMES)
    run_tasks(app, clock=lambda: utcnow() + timedelta(minutes=12))  # taken over again: runs to the end

    task = finished(db, task_id)
    assert task.state == TaskState.DONE, task.error
    assert task.takeovers == 2
    assert task.result["count"] == len(NAMES) and task.result["issued"] == len(NAMES)
    certificates = db.session.scalars(sa.select(Certificate).order_by(Certificate.seq)).all()
    assert [c.seq for c in certificates] == list(range(1, len(NAMES) + 1))  # no gap, no duplicate
    assert sorted(c.holder_name for c in certificates) == sorted(NAMES)
    merged, archive = outputs(app, task_id)
    assert pdf_pages(merged) == len(NAMES)
    text = pdf_text(merged, tmp_path)
    for name in NAMES:
        assert text.count(name) == 1, name  # each certificate exactly once
    assert len(archive.namelist()) == len(NAMES)
    assert sorted(archive.namelist()) == sorted(f"{c.number}_{c.holder_name}.pdf" for c in certificates)
    with app.app_context():
        assert not (files.task_dir(task_id) / "singles").exists()  # the one-page PDFs are cleaned up


def test_order_and_running_the_same_batch_again(app, db, factory, tmp_path):
    event, organizer, people = attended_event(db, factory, names=("赵一", "钱二", "孙三"), absent=())
    first = start(db, event, organizer)
    run_tasks(app)
    # A revoked certificate is left out of the next batch; nobody gets a second certificate.
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.holder_name == "钱二"))
    services.revoke(certificate, reason="弄错", actor=organizer, now=NOW)
    db.session.commit()
    second = start(db, event, organizer, order="name")
    run_tasks(app)
    task = finished(db, second)
    assert task.state == TaskState.DONE
    assert (task.result["count"], task.result["issued"], task.result["existing"], task.result["revoked"]) == \
        (2, 0, 3, 1)
    merged, _archive = outputs(app, second)
    text = pdf_text(merged, tmp_path)
    assert "钱二" not in text and text.index("孙三") < text.index("赵一")  # by name: 孙 (sūn) < 赵 (zhào) in code points
    assert finished(db, first).result["count"] == 3
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 3


def test_a_design_changed_during_the_batch_stops_it(app, db, factory):
    from tests.certificates.test_services import data_of

    event, organizer, _people = attended_event(db, factory, names=("赵一", "钱二"), absent=())
    task_id = start(db, event, organizer)
    design = services.get_design(event, PARTICIPATION)
    services.save_design(event, PARTICIPATION, data_of(design, date_style="plain"), seen_version=design.version,
                         actor=organizer, now=NOW)
    db.session.commit()
    run_tasks(app)
    task = finished(db, task_id)
    assert task.state == TaskState.FAILED and task.error.startswith("BatchError:")  # the design was changed
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 0
    start(db, event, organizer)  # started again: it runs
    run_tasks(app)
    assert db.session.scalar(sa.select(sa.func.count(Certificate.id))) == 2


def test_numbers_are_never_given_twice_by_concurrent_allocations(app, db, factory):
    from core.database import run_write
    from extensions import db as _db

    organization_id = factory.organization().id  # read here: ORM objects stay in the main thread's session
    errors: list[BaseException] = []
    taken: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def worker():
        try:
            barrier.wait()
            with app.app_context():
                for _ in range(8):
                    def work():
                        numbers = list(services.allocate_numbers(organization_id, "year:2026", "SH-{seq}", 3))
                        _db.session.commit()
                        return numbers

                    numbers = run_write(_db.session, work)
                    with lock:
                        taken.extend(numbers)
                _db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(taken) == list(range(1, 6 * 8 * 3 + 1))


def test_two_batches_at_once_never_duplicate_numbers_or_certificates(app, db, factory):
    """Two runners in two threads: a batch for each of two events (one per-year series for both), and a third
    batch over the same people as the first (it must find their certificates, not make new ones)."""
    organization = factory.organization()
    organizer = factory.user(organization=organization, role="organizer")
    events = [factory.event(organization, title=f"沙龙{i}", status="published") for i in range(2)]
    people = [sources.typed_holders("\n".join(f"{prefix}{n}" for n in range(25))) for prefix in ("甲", "乙")]
    tasks = [start(db, events[0], organizer, holders=people[0]), start(db, events[1], organizer, holders=people[1]),
             start(db, events[0], organizer, holders=people[0])]
    errors: list[BaseException] = []

    def runner():
        try:
            for _ in range(200):
                run_tasks(app)
                with app.app_context():
                    from extensions import db as _db

                    states = _db.session.scalars(sa.select(BackgroundTask.state).where(
                        BackgroundTask.id.in_(tasks))).all()
                    _db.session.remove()
                if all(s in (TaskState.DONE, TaskState.FAILED) for s in states):
                    return
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    for task_id in tasks:
        task = finished(db, task_id)
        assert task.state == TaskState.DONE, task.error
    certificates = db.session.scalars(sa.select(Certificate)).all()
    assert len(certificates) == 50  # 25 per event: the third batch issued nobody twice
    assert sorted(c.seq for c in certificates) == list(range(1, 51))
    assert len({c.number for c in certificates}) == 50 and len({c.verify_code for c in certificates}) == 50
    assert finished(db, tasks[0]).result["count"] == finished(db, tasks[2]).result["count"] == 25
