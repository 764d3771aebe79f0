"""Submitted works through the test client: a participant uploads from their sign-up link, an organizer on an
entrant's behalf (also late), who may open a file (assigned judge 200, a judge excluded by 回避 404, organizer 200,
anyone else 404), the file named by the code with no-store and nosniff, a too-large upload answered by the page with
a clear message, the defense schedule made from the page, and bad uploads (hypothesis) never answered with a 500
and never half-saved."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competition import works
from competition.work_models import DefenseBatch, WorkFile
from core.types import utcnow
from tests.competition.works_builders import PDF, PNG, ooxml
from tests.conftest import csrf_token, login
from tests.judging.conftest import build_contest

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def works_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "WORKS_DIR", str(tmp_path / "works"))
    return tmp_path / "works"


@pytest.fixture()
def contest(db, factory):
    contest = build_contest(db, factory)
    works.update_settings(contest.competition, works.SettingsData(
        wanted=True, deadline=utcnow() + timedelta(days=7), kinds=["pdf", "image", "office", "video"],
        max_size_mb=1, max_files=2, instructions="请提交项目申报书"), actor=contest.organizer, now=utcnow())
    from registration import services as rs

    registration, key = rs.register_participant(contest.event, rs.SignupData(
        name="林参赛", phone="13900001111", unit="泉州信息工程学院"), now=utcnow(), ignore_window=True)
    entrant = contest.entrants["海燕队"]
    entrant.registration_id = registration.id
    db.session.commit()
    contest.extra.update(key=key, registration=registration)
    return contest


def _manage(contest) -> str:
    return f"/manage/events/{contest.event.id}/competitions/{contest.competition.id}"


def _client(app, user=None, password=None):
    client = app.test_client()
    if user is not None:
        login(client, user, password) if password else login(client, user)
    return client


def _judge(app, contest, name):
    return _client(app, contest.judges[name], "judge-pass-1")


def _upload(client, url, name, data, **extra):
    token = csrf_token(client, url)
    return client.post(url, data={"csrf_token": token, "submit_kind": "file", "file": (io.BytesIO(data), name),
                                  **extra}, content_type="multipart/form-data", headers=EN)


def _works(db, entrant_id):
    db.session.expire_all()
    return works.current_works(entrant_id)


def test_participant_uploads_replaces_and_deletes(app, db, contest, works_dir):
    key = contest.extra["key"]
    client = _client(app)
    manage = client.get(f"/r/{key}").get_data(as_text=True)
    url = f"/r/{key}/works/{contest.competition.id}"
    assert url in manage  # the sign-up page links to the upload page
    page = client.get(url)
    assert page.status_code == 200 and "请提交项目申报书" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    response = _upload(client, url, "海燕队申报书.pdf", PDF)
    assert response.status_code == 302
    entrant_id = contest.entrants["海燕队"].id
    [work] = _works(db, entrant_id)
    assert work.original_name == "海燕队申报书.pdf" and not work.by_organizer
    assert sorted(p.name for p in works_dir.iterdir()) == [work.storage_key]  # stored by a random key
    # a wrong type: a clear message, nothing saved
    response = _upload(client, url, "virus.exe", b"MZ")
    assert response.status_code == 422 and "not accepted" in response.get_data(as_text=True)
    response = _upload(client, url, "fake.pdf", PNG)
    assert response.status_code == 422 and "does not match" in response.get_data(as_text=True)
    assert len(_works(db, entrant_id)) == 1 and len(list(works_dir.iterdir())) == 1
    # replace, then the own download, then delete
    assert _upload(client, url, "v2.docx", ooxml(), replace_id=str(work.id)).status_code == 302
    [newer] = _works(db, entrant_id)
    assert newer.extension == "docx"
    own = client.get(f"{url}/{newer.id}")
    assert own.status_code == 200 and own.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"{url}/{work.id}").status_code == 404  # the replaced one is history
    token = csrf_token(client, url)
    assert client.post(f"{url}/{newer.id}/remove", data={"csrf_token": token}).status_code == 302
    assert _works(db, entrant_id) == []
    # another sign-up's link, or a competition it is not in: 404
    assert client.get(f"/r/{key}x/works/{contest.competition.id}").status_code == 404


def test_participant_after_deadline_and_organizer_on_behalf(app, db, contest):
    settings_row = works.get_settings(contest.competition)
    settings_row.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()
    key = contest.extra["key"]
    url = f"/r/{key}/works/{contest.competition.id}"
    client = _client(app)
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "deadline for submitting works has passed" in page and 'type="file"' not in page
    response = _upload(client, url, "late.pdf", PDF)
    assert response.status_code == 409
    assert _works(db, contest.entrants["海燕队"].id) == []
    organizer = _client(app, contest.organizer)
    entrant = contest.entrants["海燕队"]
    url = _manage(contest) + f"/works/entrants/{entrant.id}"
    assert _upload(organizer, url, "代交.pdf", PDF).status_code == 302
    [work] = _works(db, entrant.id)
    assert work.by_organizer and work.late and work.uploaded_by_id == contest.organizer.id
    listing = organizer.get(_manage(contest) + "/works").get_data(as_text=True)
    assert "代交.pdf" in listing and "海燕队" in listing  # organizers see names


def test_too_large_upload_gets_a_clear_page(app, db, contest):
    key = contest.extra["key"]
    url = f"/r/{key}/works/{contest.competition.id}"
    client = _client(app)
    response = _upload(client, url, "big.pdf", PDF + b"0" * (2 * works.MB + 10))  # beyond the request limit
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "at most 1 MB" in text and 'type="file"' in text  # the page again, with the limit
    response = _upload(client, url, "big.pdf", PDF + b"0" * (works.MB + 10))  # within the request, over the file limit
    assert response.status_code == 413 and "at most 1 MB" in response.get_data(as_text=True)
    assert _works(db, contest.entrants["海燕队"].id) == []


def test_who_may_open_a_work(app, db, contest, factory):
    yunfan = contest.entrants["云帆队"]
    work = works.record_file(contest.competition, yunfan, _stored(PDF), "云帆队_厦门城市职业学院.pdf", actor=None,
                             now=utcnow(), by_organizer=False)
    db.session.commit()
    path = f"/works/{work.id}"
    code = contest.code("云帆队")
    judge = _judge(app, contest, "李评委")
    response = judge.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'inline; filename={code}.pdf'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == PDF
    headers = str(response.headers)
    for secret in ("云帆队", "厦门城市职业学院", "%E4"):
        assert secret not in headers
    assert _judge(app, contest, "王评委").get(path).status_code == 404  # 回避: never assigned
    assert _client(app, contest.organizer).get(path).status_code == 200
    stranger = factory.user("stranger@example.org")
    assert _client(app, stranger).get(path).status_code == 404
    other_org = factory.organization("别的协会")
    assert _client(app, factory.user("o2@example.org", organization=other_org, role="organizer")).get(path).status_code == 404
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    # a removed work is gone for everyone
    works.remove_work(db.session.get(WorkFile, work.id), actor=contest.organizer, now=utcnow(), by_organizer=True)
    db.session.commit()
    assert judge.get(path).status_code == 404


def test_judge_tablet_and_sheet_carry_codes_only(app, db, contest):
    works.record_file(contest.competition, contest.entrants["海燕队"], _stored(PDF), "海燕队_泉州信息工程学院.pdf",
                      actor=None, now=utcnow(), by_organizer=False)
    works.generate_schedule(contest.round, works.GenerateData(batches=2, starts_at=utcnow(), interval_minutes=30,
                                                              room="答辩室"), actor=contest.organizer, now=utcnow())
    db.session.commit()
    judge = _judge(app, contest, "李评委")
    tablet = judge.get(f"/judging/events/{contest.event.id}/rounds/{contest.round.id}").get_data(as_text=True)
    assert f"/works/{{id}}?round={contest.round.id}" in tablet
    sheet = judge.get(f"/api/v1/judging/rounds/{contest.round.id}/sheet")
    if sheet.status_code == 404:  # the sheet's URL comes from the tablet page
        url = re.search(r'data-url-sheet="([^"]+)"', tablet).group(1)
        sheet = judge.get(url)
    body = sheet.get_data(as_text=True)
    data = sheet.get_json()
    assert [b["name"] for b in data["batches"]] == ["第1批", "第2批"]
    assert any(e["works"] for e in data["entrants"])
    for secret in ("海燕队", "泉州信息工程学院", "林参赛"):
        assert secret not in body and secret not in tablet


def test_settings_and_defense_pages(app, db, contest):
    organizer = _client(app, contest.organizer)
    url = _manage(contest) + "/works"
    token = csrf_token(organizer, url)
    bad = organizer.post(url + "/settings", data={"csrf_token": token, "wanted": "y", "max_size_mb": "0",
                                                   "max_files": "2", "kinds": ["pdf"]}, headers=EN)
    assert bad.status_code == 422 and "from 1 to" in bad.get_data(as_text=True)
    good = organizer.post(url + "/settings", data={"csrf_token": token, "wanted": "y", "deadline": "2030-06-01T17:00",
                                                    "max_size_mb": "20", "max_files": "1", "kinds": ["pdf", "video"]})
    assert good.status_code == 302
    db.session.expire_all()
    stored = works.get_settings(contest.competition)
    assert stored.max_size_mb == 20 and stored.kinds == ["pdf", "video"] and stored.deadline.hour == 9  # UTC+8
    defense = _manage(contest) + f"/rounds/{contest.round.id}/defense"
    assert organizer.get(defense).status_code == 200
    token = csrf_token(organizer, defense)
    refused = organizer.post(defense + "/generate", data={"csrf_token": token, "split": "batches", "number": "9",
                                                         "group_id": "0", "order": "code"}, headers=EN)
    assert refused.status_code == 422 and "More batches" in refused.get_data(as_text=True)
    made = organizer.post(defense + "/generate", data={"csrf_token": token, "split": "per_batch", "number": "2",
                                                      "group_id": "0", "order": "code", "starts_at": "2030-06-02T09:00",
                                                      "interval_minutes": "45", "room": "报告厅", "name_template": "第{n}批"})
    assert made.status_code == 302
    batches = db.session.scalars(sa.select(DefenseBatch).where(DefenseBatch.round_id == contest.round.id)
                                 .order_by(DefenseBatch.position)).all()
    assert [b.name for b in batches] == ["第1批", "第2批", "第3批"]
    printed = organizer.get(defense + "/print?codes=1").get_data(as_text=True)
    assert contest.code("云帆队") in printed and "云帆队" not in printed and "报告厅" in printed
    assert "云帆队" in organizer.get(defense + "/print").get_data(as_text=True)
    # staff and judges: 403
    assert _judge(app, contest, "李评委").get(defense).status_code == 403


def _stored(data: bytes):
    return works.store_stream(io.BytesIO(data), works.storage_directory(), 5 * works.MB)


NAMES = st.one_of(st.sampled_from(["a.pdf", "b.png", "c.jpg", "d.docx", "e.xls", "f.exe", "", ".pdf", "很长" * 200 + ".pdf",
                                   "x\x00.pdf", "../../x.pdf"]), st.text(max_size=40))
BODIES = st.one_of(st.sampled_from([PDF, PNG, b"", b"PK\x03\x04", ooxml()]), st.binary(max_size=300))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, body=BODIES, kind=st.sampled_from(["file", "link", "", "other"]),
       url=st.text(max_size=60), replace=st.sampled_from(["", "0", "abc", "999999999", "1" * 30]))
def test_bad_uploads_never_500_never_half_saved(app, db, contest, works_dir, name, body, kind, url, replace):
    key = contest.extra["key"]
    target = f"/r/{key}/works/{contest.competition.id}"
    client = _client(app)
    token = csrf_token(client, target)
    before = {p.name for p in works_dir.iterdir()} if works_dir.exists() else set()
    count = db.session.scalar(sa.select(sa.func.count(WorkFile.id)))
    response = client.post(target, data={"csrf_token": token, "submit_kind": kind, "url": url, "replace_id": replace,
                                         "file": (io.BytesIO(body), name)}, content_type="multipart/form-data")
    assert response.status_code in (302, 400, 404, 409, 413, 422), response.status_code
    db.session.expire_all()
    after = {p.name for p in works_dir.iterdir()} if works_dir.exists() else set()
    rows = db.session.scalars(sa.select(WorkFile)).all()
    if response.status_code == 302:
        assert len(rows) == count + 1
    else:
        assert len(rows) == count
    assert after - before == {r.storage_key for r in rows if r.storage_key} - before  # no orphan file
    for row in rows:  # keep each example independent
        db.session.delete(row)
    db.session.commit()
