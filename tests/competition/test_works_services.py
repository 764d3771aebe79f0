"""Submitted works and defense batches, service level: type checks by extension and content, video links, size,
deadline (participants refused, organizers accepted and marked late), number of files, replace and delete keeping
the history, the batch generator's worked examples (100 entrants into 19 batches) and the judge's sheet in batch
order with the works by code."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from competition import works
from competition.models import Entrant
from competition.work_models import DefenseSlot, WorkFile
from core.models import AuditEntry
from tests.competition.works_builders import JPEG, OLE, PDF, PNG, ooxml, store_bytes
from tests.conftest import NOW
from tests.judging.conftest import build_contest


@pytest.fixture(autouse=True)
def works_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "WORKS_DIR", str(tmp_path / "works"))
    return tmp_path / "works"


@pytest.fixture()
def contest(db, factory):
    return build_contest(db, factory)


def collect(contest, db, **changes):
    data = dict(wanted=True, deadline=NOW + timedelta(days=1), kinds=["pdf", "image", "office", "video"],
                max_size_mb=1, max_files=2)
    data.update(changes)
    works.update_settings(contest.competition, works.SettingsData(**data), actor=contest.organizer, now=NOW)
    db.session.commit()


def _file(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("name", "data", "kind", "ext"), [
    ("方案.pdf", PDF, "pdf", "pdf"), ("图.PNG", PNG, "image", "png"), ("照片.jpeg", JPEG, "image", "jpg"),
    ("报告.docx", ooxml("word/document.xml"), "office", "docx"), ("表.xlsx", ooxml("xl/workbook.xml"), "office", "xlsx"),
    ("演示.pptx", ooxml("ppt/presentation.xml"), "office", "pptx"), ("旧.doc", OLE, "office", "doc"),
])
def test_accepted_files_by_extension_and_content(tmp_path, name, data, kind, ext):
    found = works.check_file(name, _file(tmp_path, "x", data), ["pdf", "image", "office"])
    assert (found[0].value, found[1]) == (kind, ext)


@pytest.mark.parametrize(("name", "data", "code"), [
    ("a.exe", b"MZ\x90\x00", "file_type"),
    ("noext", PDF, "file_type"),
    ("renamed.pdf", PNG, "file_content"),  # a PNG renamed to .pdf
    ("fake.png", PDF, "file_content"),
    ("fake.jpg", PNG, "file_content"),
    ("zip.docx", ooxml("xl/workbook.xml"), "file_content"),  # a workbook renamed to .docx
    ("plain.docx", b"PK\x03\x04 not really a zip", "file_content"),
    ("old.xls", PDF, "file_content"),
    ("empty.pdf", b"", "file_empty"),
])
def test_refused_files(tmp_path, name, data, code):
    with pytest.raises(works.WorkError) as raised:
        works.check_file(name, _file(tmp_path, "x", data), ["pdf", "image", "office"])
    assert raised.value.code == code and raised.value.status == 422


def test_kind_not_allowed(tmp_path):
    with pytest.raises(works.WorkError) as raised:
        works.check_file("a.docx", _file(tmp_path, "x", ooxml()), ["pdf"])
    assert raised.value.code == "file_type"


@pytest.mark.parametrize("url", ["https://v.example.com/abc", "http://video.example.org/x?y=1"])
def test_video_links_accepted(url):
    assert works.check_video_url(f"  {url} ") == url


@pytest.mark.parametrize("url", ["", "ftp://example.com/a", "javascript:alert(1)", "https://", "https://exa mple.com",
                                 "https://localhost", "example.com/video", "https://a.com/" + "x" * 1000])
def test_video_links_refused(url):
    with pytest.raises(works.WorkError) as raised:
        works.check_video_url(url)
    assert raised.value.status == 422 and raised.value.field == "url"


def test_original_name_cleaned():
    assert works.clean_original_name("C:\\Users\\张三\\作品.pdf") == "作品.pdf"
    assert works.clean_original_name("../../etc/passwd") == "passwd"
    assert works.clean_original_name("a\x00b\x1f.pdf") == "ab.pdf"
    assert len(works.clean_original_name("长" * 400 + ".pdf")) == 255
    assert works.clean_original_name("长" * 400 + ".pdf").endswith(".pdf")


def test_stream_over_the_limit_is_refused_and_removed(app, works_dir):
    with app.app_context():
        directory = works.storage_directory()
        with pytest.raises(works.WorkError) as raised:
            works.store_stream(io.BytesIO(b"x" * 2048), directory, 1024)
        assert raised.value.status == 413
        assert list(directory.iterdir()) == []
        stored = works.store_stream(io.BytesIO(b"x" * 1024), directory, 1024)
        assert stored.size == 1024 and stored.path.name == stored.key and len(stored.key) == 32


def test_upload_deadline_count_replace_and_history(db, contest):
    collect(contest, db)
    entrant = contest.entrants["云帆队"]
    first = works.record_file(contest.competition, entrant, store_bytes(PDF), "云帆队方案.pdf", actor=None, now=NOW,
                              by_organizer=False)
    second = works.record_link(contest.competition, entrant, "https://v.example.com/1", actor=None, now=NOW,
                               by_organizer=False)
    db.session.commit()
    assert first.original_name == "云帆队方案.pdf" and first.storage_key and not first.late
    # a third is refused (two per entrant), a replacement is fine
    with pytest.raises(works.WorkError) as raised:
        works.record_file(contest.competition, entrant, store_bytes(PNG), "x.png", actor=None, now=NOW,
                          by_organizer=False)
    assert raised.value.code == "too_many_files"
    db.session.rollback()
    newer = works.record_file(contest.competition, entrant, store_bytes(PNG), "新.png", actor=None, now=NOW,
                              by_organizer=False, replace_id=first.id)
    db.session.commit()
    assert [w.id for w in works.current_works(entrant.id)] == [second.id, newer.id]
    db.session.refresh(first)
    assert first.removed_at == NOW and first.replaced_by_id == newer.id
    # replacing the replaced one again: gone
    with pytest.raises(works.WorkError) as raised:
        works.record_file(contest.competition, entrant, store_bytes(PDF), "y.pdf", actor=None, now=NOW,
                          by_organizer=False, replace_id=first.id)
    assert raised.value.code == "gone"
    db.session.rollback()
    # after the deadline: participants refused, organizers accepted (late) and logged
    later = NOW + timedelta(days=2)
    with pytest.raises(works.WorkError) as raised:
        works.remove_work(second, actor=None, now=later, by_organizer=False)
    assert raised.value.code == "deadline_passed"
    db.session.rollback()
    works.remove_work(db.session.get(WorkFile, second.id), actor=contest.organizer, now=later, by_organizer=True)
    late = works.record_file(contest.competition, entrant, store_bytes(PDF), "补交.pdf", actor=contest.organizer,
                             now=later, by_organizer=True)
    db.session.commit()
    assert late.late and late.by_organizer
    with pytest.raises(works.WorkError) as raised:
        works.record_file(contest.competition, contest.entrants["星火队"], store_bytes(PDF), "z.pdf", actor=None,
                          now=later, by_organizer=False)
    assert raised.value.code == "deadline_passed"
    db.session.rollback()
    actions = [a for (a,) in db.session.execute(sa.select(AuditEntry.action).where(
        AuditEntry.action.like("works.%")).order_by(AuditEntry.id))]
    assert actions == ["works.settings", "works.upload", "works.upload", "works.replace", "works.remove",
                       "works.upload"]
    assert len(works.work_history(entrant.id)) == 4


def test_not_collected_and_kind_and_size(db, contest):
    entrant = contest.entrants["云帆队"]
    with pytest.raises(works.WorkError) as raised:
        works.record_link(contest.competition, entrant, "https://v.example.com/1", actor=None, now=NOW,
                          by_organizer=True)
    assert raised.value.code == "not_collected"
    db.session.rollback()
    collect(contest, db, kinds=["pdf"], max_size_mb=1)
    with pytest.raises(works.WorkError) as raised:
        works.record_link(contest.competition, entrant, "https://v.example.com/1", actor=None, now=NOW,
                          by_organizer=False)
    assert raised.value.code == "file_type"
    db.session.rollback()
    big = store_bytes(PDF + b"0" * works.MB)
    with pytest.raises(works.WorkError) as raised:
        works.record_file(contest.competition, entrant, big, "big.pdf", actor=None, now=NOW, by_organizer=False)
    assert raised.value.code == "too_large" and raised.value.status == 413
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(WorkFile.id))) == 0


@pytest.mark.parametrize("bad", [
    dict(wanted=True, kinds=[]), dict(max_size_mb=0), dict(max_size_mb=10_000), dict(max_files=0),
    dict(max_files=21), dict(wanted=True, deadline=None), dict(kinds=["exe"]),
])
def test_settings_refused(db, contest, bad):
    data = dict(wanted=True, deadline=NOW, kinds=["pdf"], max_size_mb=5, max_files=1)
    data.update(bad)
    with pytest.raises(works.WorkError) as raised:
        works.update_settings(contest.competition, works.SettingsData(**data), actor=None, now=NOW)
    assert raised.value.status == 422


def test_split_sizes_worked_examples():
    sizes = works.split_sizes(100, batches=19)
    assert sizes == [6] * 5 + [5] * 14 and sum(sizes) == 100
    assert works.split_sizes(100, per_batch=6) == [6] * 16 + [4]
    assert works.split_sizes(10, batches=3) == [4, 3, 3]
    assert works.split_sizes(5, batches=5) == [1] * 5
    for bad in (dict(batches=6), dict(batches=0), dict(per_batch=0), dict()):
        with pytest.raises(works.WorkError):
            works.split_sizes(5, **bad)
    assert works.batch_name("第{n}批", 3) == "第3批" and works.batch_name("A组", 2) == "A组2"


def test_hundred_proposals_in_nineteen_batches(db, factory):
    from competition import services as cs
    from competition.draw import draw
    import random

    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, kind="competition", status="published")
    competition = cs.create_competition(event, cs.CompetitionData(title="创新成果评审"), actor=organizer, now=NOW)
    round_ = cs.add_round(competition, cs.RoundData(name="答辩"), actor=organizer, now=NOW)
    for i in range(100):
        cs.add_entrant(competition, cs.EntrantData(name=f"项目{i + 1}", unit=f"单位{i % 7}"), actor=organizer, now=NOW)
    draw(competition, 1, actor=organizer, now=NOW, rng=random.Random(3))
    start = NOW + timedelta(days=10)
    batches = works.generate_schedule(round_, works.GenerateData(batches=19, starts_at=start, interval_minutes=40,
                                                                 room="学术报告厅"), actor=organizer, now=NOW)
    db.session.commit()
    rows, rest = works.schedule(round_)
    assert rest == [] and len(rows) == 19
    assert [len(r.entrant_ids) for r in rows] == [6] * 5 + [5] * 14
    assert [b.name for b in batches][:3] == ["第1批", "第2批", "第3批"] and batches[-1].name == "第19批"
    assert batches[1].starts_at == start + timedelta(minutes=40)
    assert batches[18].starts_at == start + timedelta(minutes=40 * 18)
    assert all(b.room == "学术报告厅" for b in batches)
    # in station-number order across the batches
    from competition.draw import codes_by_entrant
    from judging.services import natural_key

    codes = codes_by_entrant(competition, 1)
    flat = [codes[e] for r in rows for e in r.entrant_ids]
    assert flat == sorted(flat, key=natural_key)
    # move the first entrant of batch 1 to the end of batch 19; both batches close up
    moved = rows[0].entrant_ids[0]
    works.move_entrant(round_, moved, rows[18].batch.id, None, actor=organizer, now=NOW)
    db.session.commit()
    rows, _rest = works.schedule(round_)
    assert len(rows[0].entrant_ids) == 5 and rows[18].entrant_ids[-1] == moved
    places = db.session.scalars(sa.select(DefenseSlot.position).where(DefenseSlot.batch_id == rows[0].batch.id)
                                .order_by(DefenseSlot.position)).all()
    assert places == [1, 2, 3, 4, 5]
    # to the front of batch 2, then off the schedule
    works.move_entrant(round_, moved, rows[1].batch.id, 1, actor=organizer, now=NOW)
    db.session.commit()
    assert works.schedule(round_)[0][1].entrant_ids[0] == moved
    works.move_entrant(round_, moved, None, None, actor=organizer, now=NOW)
    db.session.commit()
    assert works.schedule(round_)[1] == [moved]
    # a batch with entrants is not deleted; a batch of another round is refused
    with pytest.raises(works.WorkError) as raised:
        works.delete_batch(rows[2].batch, actor=organizer, now=NOW)
    assert raised.value.code == "not_empty"


def test_judge_sheet_in_batch_order_with_works_by_code(db, contest):
    from judging.services import judge_sheet

    collect(contest, db)
    names = ["星火队", "海燕队", "晨光队", "云帆队"]  # 高职组, all assigned to 李评委
    works.record_file(contest.competition, contest.entrants["海燕队"], store_bytes(PDF), "海燕队_泉州信息工程学院.pdf",
                      actor=None, now=NOW, by_organizer=False)
    works.record_link(contest.competition, contest.entrants["海燕队"], "https://v.example.com/h", actor=None, now=NOW,
                      by_organizer=False)
    first = works.add_batch(contest.round, name="第1批", starts_at=NOW, room="A101", actor=contest.organizer, now=NOW)
    second = works.add_batch(contest.round, name="第2批", starts_at=NOW + timedelta(hours=1), room="A102",
                             actor=contest.organizer, now=NOW)
    works.move_entrant(contest.round, contest.entrants["晨光队"].id, first.id, None, actor=contest.organizer, now=NOW)
    works.move_entrant(contest.round, contest.entrants["海燕队"].id, first.id, None, actor=contest.organizer, now=NOW)
    works.move_entrant(contest.round, contest.entrants["星火队"].id, second.id, None, actor=contest.organizer, now=NOW)
    db.session.commit()
    sheet = judge_sheet(contest.judges["李评委"], contest.round.id, now=NOW)
    ids = [e["id"] for e in sheet["entrants"]]
    by_name = {n: contest.entrants[n].id for n in names}
    assert ids[:3] == [by_name["晨光队"], by_name["海燕队"], by_name["星火队"]]  # batch 1, then 2, then unbatched
    assert [b["name"] for b in sheet["batches"]] == ["第1批", "第2批"] and sheet["batches"][0]["room"] == "A101"
    haiyan = next(e for e in sheet["entrants"] if e["id"] == by_name["海燕队"])
    code = contest.code("海燕队")
    assert haiyan["batch_id"] == first.id
    assert [(w["kind"], w["label"]) for w in haiyan["works"]] == [("pdf", f"{code}.pdf"), ("video", code)]
    text = str(sheet)
    for secret in ("海燕队", "泉州信息工程学院", "v.example.com"):
        assert secret not in text
