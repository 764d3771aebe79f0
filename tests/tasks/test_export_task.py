"""The organizer's Excel export as a background task: the same workbook as the direct export, written in chunks,
resumable after a restart, logged once; its pages (progress, JSON, download, cancel, list), who may open them, and
the clean-up of old files. Also the CLI's ``scheduler --once`` and the phase shown on the event page.
"""
from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from core.models import AuditEntry
from registration import jobs, services
from tasks import files
from tasks import services as task_services
from tasks.jobs import purge_task_files
from tasks.models import BackgroundTask, TaskState
from tasks.runner import Runner
from tests.conftest import NOW, csrf_token
from tests.conftest import login as _login


def login(client, user):
    client.set_cookie("saihui_lang", "en")  # the messages asserted below are the English msgids
    return _login(client, user)


@pytest.fixture(autouse=True)
def task_files(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "TASK_FILES_DIR", str(tmp_path / "task-files"))
    return tmp_path / "task-files"


@pytest.fixture()
def world(db, factory):
    org = factory.organization("海峡信息协会")
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=30, sessions=2)
    return org, organizer, event


def sign_up_many(db, event, count: int, *, notes: bool = True):
    field = services.add_field(
        event, services.FieldData(kind=services.FieldKind.TEXT, label="所在城市"), actor=None, now=NOW)
    regs = []
    for i in range(count):
        answers = {field.key: f"城市{i}"}
        if notes and i % 7 == 3:
            answers["note"] = f"备注{i}"
        reg, _key = services.register_participant(
            event, services.SignupData(name=f"参会者{i:03d}", phone=f"139{i:08d}", unit=f"单位{i % 5}",
                                       session_ids=[event.sessions[i % 2].id], answers=answers),
            now=NOW + timedelta(minutes=i), ignore_window=True)
        regs.append(reg)
    services.cancel_registration(regs[1], now=NOW + timedelta(hours=2))
    db.session.commit()
    return regs


def sheets_of(content: bytes) -> dict[str, list[list]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in workbook.worksheets}


def direct_export(client, event) -> dict[str, list[list]]:
    response = client.get(f"/manage/events/{event.id}/registrations.xlsx")
    assert response.status_code == 200
    return sheets_of(response.data)


def run_to_end(app, clock_now=NOW) -> int:
    return Runner(app, clock=lambda: clock_now).run_tasks()


def test_the_background_export_is_the_direct_export_written_in_chunks(app, client, db, world):
    pytest.importorskip("openpyxl")
    _org, organizer, event = world
    sign_up_many(db, event, 37)
    task = jobs.start_export(event, actor=organizer, now=NOW, chunk=10)
    db.session.commit()
    assert (task.state, task.total) == (TaskState.QUEUED, 37)
    steps = run_to_end(app)
    assert steps == 4 + 1 + 1  # four chunks (the last one short), the workbook, the finish
    db.session.expire_all()
    task = db.session.get(BackgroundTask, task.id)
    assert task.state == TaskState.DONE and task.done == task.total == 37 and task.percent == 100
    assert task.result["rows"] == 37 and task.result["filename"].endswith("-报名名单.xlsx")
    path = files.result_path(task.id, task.result["file"])
    assert sorted(p.name for p in path.parent.iterdir()) == ["registrations.xlsx"]  # the parts are gone
    login(client, organizer)
    assert sheets_of(path.read_bytes()) == direct_export(client, event)
    entries = list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "registration.export")))
    by_task = [e for e in entries if e.details.get("task_id") == task.id]
    assert len(by_task) == 1 and by_task[0].actor_id == organizer.id and by_task[0].details["rows"] == 37


def test_without_notes_there_is_no_note_column_as_in_the_direct_export(app, client, db, world):
    _org, organizer, event = world
    sign_up_many(db, event, 12, notes=False)
    task = jobs.start_export(event, actor=organizer, now=NOW, chunk=5)
    db.session.commit()
    run_to_end(app)
    db.session.expire_all()
    task = db.session.get(BackgroundTask, task.id)
    exported = sheets_of(files.result_path(task.id, task.result["file"]).read_bytes())
    assert "备注" not in exported["报名名单"][0]
    login(client, organizer)
    assert exported == direct_export(client, event)


def test_team_members_are_exported_in_the_second_sheet(app, client, db, factory, world):
    from registration.models import MemberRole, RegistrationKind, RegistrationSettings

    _org, organizer, event = world
    db.session.add(RegistrationSettings(event_id=event.id, kind=RegistrationKind.TEAM, team_min_members=1,
                                        team_max_members=3, team_max_coaches=1, groups=[]))
    db.session.commit()
    for t in range(7):
        services.register_participant(
            event, services.SignupData(name=f"领队{t}", phone=f"1380000{t:04d}", unit="厦门大学", team_name=f"飞翔{t}队",
                                       members=[services.MemberData(role=MemberRole.MEMBER, name=f"队员{t}",
                                                                    phone=f"1370000{t:04d}")]),
            now=NOW, ignore_window=True)
    db.session.commit()
    task = jobs.start_export(event, actor=organizer, now=NOW, chunk=3)
    db.session.commit()
    run_to_end(app)
    db.session.expire_all()
    task = db.session.get(BackgroundTask, task.id)
    exported = sheets_of(files.result_path(task.id, task.result["file"]).read_bytes())
    assert len(exported["队员"]) == 1 + 14
    login(client, organizer)
    assert exported == direct_export(client, event)


def test_the_export_resumes_after_a_restart_without_duplicating_rows(app, client, db, world):
    _org, organizer, event = world
    sign_up_many(db, event, 25)
    task = jobs.start_export(event, actor=organizer, now=NOW, chunk=10)
    db.session.commit()
    lease = timedelta(minutes=5)
    with app.app_context():
        task_services.claim_task(owner="crashed", now=NOW, lease=lease)
        for _ in range(2):
            task_services.advance_task(task.id, owner="crashed", now=NOW, lease=lease)
        from extensions import db as _db

        _db.session.remove()
    db.session.expire_all()
    assert db.session.get(BackgroundTask, task.id).cursor["rows"] == 20
    # A third part file written by the crashed runner whose step never committed (it died in between):
    part = files.task_dir(task.id) / "part-00003.json"
    part.write_text('{"rows": [["junk"]], "members": []}')
    later = NOW + lease + timedelta(seconds=5)
    run_to_end(app, later)
    db.session.expire_all()
    task = db.session.get(BackgroundTask, task.id)
    assert task.state == TaskState.DONE and task.takeovers == 1 and task.result["rows"] == 25
    exported = sheets_of(files.result_path(task.id, task.result["file"]).read_bytes())
    ids = [row[0] for row in exported["报名名单"][1:]]
    assert len(ids) == len(set(ids)) == 25
    login(client, organizer)
    assert exported == direct_export(client, event)


def test_sign_ups_made_during_the_export_are_included(app, db, world):
    _org, organizer, event = world
    sign_up_many(db, event, 15)
    task = jobs.start_export(event, actor=organizer, now=NOW, chunk=10)
    db.session.commit()
    Runner(app, clock=lambda: NOW).run_tasks(max_steps=1)
    services.register_participant(event, services.SignupData(name="迟到者", phone="13999999999", unit="厦门大学"),
                                  now=NOW, ignore_window=True)
    db.session.commit()
    run_to_end(app)
    db.session.expire_all()
    task = db.session.get(BackgroundTask, task.id)
    assert task.result["rows"] == 16 and task.done == task.total == 16


# ---------------------------------------------------------------- pages


def start_via_page(client, event):
    token = csrf_token(client, f"/manage/events/{event.id}/registrations")
    return client.post(f"/manage/events/{event.id}/registrations/export-task", data={"csrf_token": token})


def test_from_the_list_page_to_the_download(app, client, db, world, monkeypatch):
    _org, organizer, event = world
    sign_up_many(db, event, 8)
    login(client, organizer)
    monkeypatch.setitem(app.config, "EXPORT_IN_BACKGROUND_FROM", 100)
    page = client.get(f"/manage/events/{event.id}/registrations").get_data(as_text=True)
    assert f"/manage/events/{event.id}/registrations.xlsx" in page and "export-task" not in page
    monkeypatch.setitem(app.config, "EXPORT_IN_BACKGROUND_FROM", 5)  # a big list: the export runs as a task
    page = client.get(f"/manage/events/{event.id}/registrations").get_data(as_text=True)
    assert "export-task" in page and f"/manage/events/{event.id}/tasks" in page

    response = start_via_page(client, event)
    assert response.status_code == 302
    task_url = response.location
    task_id = int(task_url.rstrip("/").rsplit("/", 1)[1])
    assert start_via_page(client, event).location == task_url  # a second click: the same task, not a second one
    page = client.get(task_url).get_data(as_text=True)
    assert 'id="task-progress"' in page and "Waiting to start" in page and "js/task-progress.js" in page
    status = client.get(f"/api/v1/tasks/{task_id}").get_json()["task"]
    assert (status["state"], status["percent"], status["download_url"], status["total"]) == ("queued", 0, None, 8)

    run_to_end(app)
    status = client.get(f"/api/v1/tasks/{task_id}").get_json()["task"]
    assert (status["state"], status["percent"], status["active"]) == ("done", 100, False)
    assert status["download_url"] == f"/manage/tasks/{task_id}/download"
    assert status["result"]["rows"] == 8 and "file" not in status["result"]
    download = client.get(status["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "no-store" in download.headers["Cache-Control"]
    assert "attachment" in download.headers["Content-Disposition"]
    assert len(sheets_of(download.data)["报名名单"]) == 9
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "task.download", AuditEntry.object_id == task_id, AuditEntry.actor_id == organizer.id)) == 1
    listing = client.get(f"/manage/events/{event.id}/tasks").get_data(as_text=True)
    assert f"/manage/tasks/{task_id}" in listing and "File ready" in listing


def test_a_task_can_be_cancelled_from_its_page(app, client, db, world):
    _org, organizer, event = world
    sign_up_many(db, event, 3)
    login(client, organizer)
    task_url = start_via_page(client, event).location
    token = csrf_token(client, task_url)
    response = client.post(task_url + "/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "The task was cancelled." in response.get_data(as_text=True)
    response = client.post(task_url + "/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "This task has already finished." in response.get_data(as_text=True)
    assert run_to_end(app) == 0
    task_id = int(task_url.rsplit("/", 1)[1])
    assert client.get(f"/api/v1/tasks/{task_id}").get_json()["task"]["state"] == "cancelled"


def test_other_organizations_and_other_roles_cannot_see_a_task(app, client, db, factory, world):
    org, organizer, event = world
    sign_up_many(db, event, 3)
    task = jobs.start_export(event, actor=organizer, now=NOW)
    db.session.commit()
    run_to_end(app)
    outsider_org = factory.organization("乙市软件行业协会")
    outsider = factory.user(organization=outsider_org, role="admin")
    staff = factory.user(organization=org, role="checkin_staff", event=event)
    urls = [f"/manage/tasks/{task.id}", f"/manage/tasks/{task.id}/download", f"/api/v1/tasks/{task.id}",
            f"/manage/events/{event.id}/tasks"]
    login(client, outsider)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert event.title not in response.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, staff)
    assert [client.get(url).status_code for url in urls] == [403, 403, 403, 403]
    bearer = app.test_client()
    assert bearer.get(f"/api/v1/tasks/{task.id}").status_code == 401
    assert bearer.get(f"/api/v1/tasks/{task.id + 1000}").status_code == 401


def test_a_failed_task_shows_its_failure(app, client, db, world, monkeypatch):
    _org, organizer, event = world
    sign_up_many(db, event, 3)
    task = jobs.start_export(event, actor=organizer, now=NOW)
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs.files, "write_atomic", broken)
    run_to_end(app)
    login(client, organizer)
    status = client.get(f"/api/v1/tasks/{task.id}").get_json()["task"]
    assert status["state"] == "failed" and "disk full" in status["error"] and status["download_url"] is None
    page = client.get(f"/manage/tasks/{task.id}").get_data(as_text=True)
    assert "The task failed." in page and "disk full" in page
    response = client.get(f"/manage/tasks/{task.id}/download", follow_redirects=True)
    assert "This task has no file to download." in response.get_data(as_text=True)


# ---------------------------------------------------------------- old files


def test_old_files_are_deleted_and_the_task_says_so(app, client, db, world, task_files):
    _org, organizer, event = world
    sign_up_many(db, event, 4)
    done = jobs.start_export(event, actor=organizer, now=NOW)
    db.session.commit()
    run_to_end(app)
    failed = task_services.start_task(jobs.EXPORT_KIND, event=event, actor=organizer, params={}, now=NOW)
    queued = task_services.start_task(jobs.EXPORT_KIND, event=event, actor=organizer, params={}, now=NOW)
    db.session.commit()
    db.session.execute(sa.update(BackgroundTask).where(BackgroundTask.id == failed.id)
                       .values(state=TaskState.FAILED, finished_at=NOW))
    db.session.commit()
    for task in (failed, queued):
        files.write_atomic(files.task_dir(task.id) / "part-00001.json", b"{}")
    files.write_atomic(files.task_dir(999999) / "part-00001.json", b"{}")  # a task deleted with its event

    assert purge_task_files(NOW + timedelta(hours=1)) == 2  # the failed task's parts and the orphan
    assert files.task_dir(queued.id).exists() and files.task_dir(done.id).exists()
    retention = app.config["TASK_FILE_RETENTION_HOURS"]
    assert purge_task_files(NOW + timedelta(hours=retention + 1)) == 1
    assert purge_task_files(NOW + timedelta(hours=retention + 2)) == 0  # idempotent
    assert not files.task_dir(done.id).exists() and files.task_dir(queued.id).exists()
    login(client, organizer)
    status = client.get(f"/api/v1/tasks/{done.id}").get_json()["task"]
    assert status["download_url"] is None and status["file_expired"] is True
    response = client.get(f"/manage/tasks/{done.id}/download", follow_redirects=True)
    assert "The file was deleted 24 hours after the task finished" in response.get_data(as_text=True)


# ---------------------------------------------------------------- the CLI and the event page


def test_scheduler_once_runs_every_sweep_and_the_tasks(app, db, world):
    from tasks.schedule import SWEEPS

    _org, organizer, event = world
    sign_up_many(db, event, 3)
    task = jobs.start_export(event, actor=organizer, now=NOW)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["scheduler", "--once", "--tasks-for", "30"])
    assert result.exit_code == 0, result.output
    for sweep in SWEEPS:
        assert f"{sweep.job_id}: " in result.output
    assert "registration.open_due_registrations: 1" in result.output  # the published event opened
    assert "background task steps: 3" in result.output
    db.session.expire_all()
    assert db.session.get(BackgroundTask, task.id).state == TaskState.DONE
    again = app.test_cli_runner().invoke(args=["scheduler", "--once", "--tasks-for", "0"])
    assert "registration.open_due_registrations: 0" in again.output


def test_the_event_page_shows_the_phase(app, client, db, world):
    _org, organizer, event = world
    login(client, organizer)
    page = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert 'id="registration-phase"' in page and "Not open yet" in page
    assert "The scheduler updates the phase" in page  # sign-up is open by its times; the sweep has not run
    jobs.open_due_registrations(NOW)
    page = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    assert "The scheduler updates the phase" not in page
