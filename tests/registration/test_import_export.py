"""Importing the sheets units send, and the Excel export.

registration/spreadsheets.py is tested directly with worked examples; the pages through the test client, asserting on
what is in the database afterwards (nothing after a preview, nothing after a refused all-or-nothing import)."""
from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa

from registration import services, spreadsheets
from registration.spreadsheets import (
    ImportRules,
    SpreadsheetError,
    Table,
    check_table,
    read_table,
)
from tests.conftest import NOW, csrf_token
from tests.conftest import login as _login

GOOD_ID = "11010519491231002X"  # GB 11643 check character X
BAD_ID = "110105194912310021"  # same number, wrong check character


# ---------------------------------------------------------------- helpers


def login(client, user):
    """Log in, with English pages (the messages asserted below are the English msgids)."""
    client.set_cookie("saihui_lang", "en")
    return _login(client, user)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def table(rows: list[list[str]]) -> Table:
    return Table(rows=[(i, [str(c) for c in row]) for i, row in enumerate(rows, start=1)])


def problems(checked, number: int) -> list[str]:
    return [p.code for p in next(r for r in checked.rows if r.number == number).problems]


def count_registrations(db, event) -> int:
    from registration.models import Registration

    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Registration.id)).where(Registration.event_id == event.id))


def sign_up(event, name: str, phone: str, **extra):
    registration, _key = services.register_participant(
        event, services.SignupData(name=name, phone=phone, unit=extra.pop("unit", "厦门大学"), **extra),
        now=NOW, ignore_window=True,
    )
    return registration


@pytest.fixture()
def import_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_IMPORT_DIR", str(tmp_path / "imports"))
    return tmp_path / "imports"


@pytest.fixture()
def organizer_world(db, factory, import_dir):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=10)
    return org, organizer, event


def upload(client, event, content: bytes, filename: str = "名单.xlsx"):
    token = csrf_token(client, f"/manage/events/{event.id}/registrations/import")
    return client.post(
        f"/manage/events/{event.id}/registrations/import",
        data={"csrf_token": token, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def confirm(client, event, preview_html: str, mode: str):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview_html).group(1)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', preview_html).group(1)
    return client.post(f"/manage/events/{event.id}/registrations/import/confirm",
                       data={"csrf_token": csrf, "token": token, "mode": mode})


HEADER = ["序号", "姓名", "手机", "单位", "身份证号"]
MIXED_ROWS = [
    HEADER,
    [1, "王喆", "138 0013 8000", "厦门城市职业学院", GOOD_ID],
    [2, "", "13800138001", "厦门城市职业学院", ""],  # no name
    [3, "李堃", "12345", "厦门城市职业学院", ""],  # bad phone
    [4, "陈静", "13800138003", "集美大学", BAD_ID],  # bad check digit
    [5, "林一鸣", "13800138000", "集美大学", ""],  # same phone as row 2 of the sheet
    [6, "黄二妹", "13900139000", "华侨大学", ""],
]


# ---------------------------------------------------------------- reading files (pure)


@pytest.mark.parametrize(("header", "field"), [
    ("姓名", "name"), ("手机（必填）*", "phone"), ("联系电话", "phone"), ("Phone", "phone"), ("单位", "unit"),
    ("組別", "group"), ("E-mail", "email"), ("身份证号", "id_number"), ("证件号码", "id_number"),
    ("ID number", "id_number"), ("职务", "job_title"), ("队名", "team_name"), ("team_name", "team_name"),
])
def test_headers_in_chinese_and_english_are_recognised(header, field):
    columns, _rows = spreadsheets.find_columns(table([["姓名", header] if field != "name" else [header], ["x", "y"]]))
    assert field in columns.index


def test_unknown_columns_are_reported_and_a_title_row_above_the_header_is_skipped():
    columns, rows = spreadsheets.find_columns(table([["厦门市报名表"], ["序号", "姓名", "手机", "单位", "爱好"], ["1", "王喆", "13800138000", "x", "篮球"]]))
    assert columns.header_row == 2 and columns.unknown == ["爱好"]  # 序号 is expected noise, not reported
    assert rows == [(3, ["1", "王喆", "13800138000", "x", "篮球"])]


def test_csv_in_gbk_and_utf8_with_bom_read_the_same():
    rows = [["姓名", "手机", "单位"], ["王喆", "13800138000", "厦门城市职业学院"]]
    assert read_table("a.csv", csv_bytes(rows, "gbk")).rows == read_table("a.csv", csv_bytes(rows)).rows
    assert read_table("a.csv", csv_bytes(rows, "gbk")).rows[1] == (2, ["王喆", "13800138000", "厦门城市职业学院"])


def test_xlsx_numbers_come_back_as_the_digits_people_typed():
    content = xlsx_bytes([["姓名", "手机", "单位"], ["王喆", 13800138000, "x"], [None, None, None], ["李堃", 13900139000.0, "y"]])
    assert read_table("a.xlsx", content).rows == [(1, ["姓名", "手机", "单位"]), (2, ["王喆", "13800138000", "x"]),
                                                  (4, ["李堃", "13900139000", "y"])]


@pytest.mark.parametrize(("filename", "content", "code"), [
    ("a.xls", b"\xd0\xcf\x11\xe0", "old_excel"),
    ("a.txt", b"name,phone", "bad_type"),
    ("a.xlsx", b"not a zip", "unreadable"),
    ("a.csv", "姓名,手机\n".encode("utf-16"), "encoding"),
    ("a.csv", b"x" * (spreadsheets.MAX_BYTES + 1), "too_large"),
    ("a.csv", b"\n\n", "empty"),
])
def test_files_that_cannot_be_used_are_refused_with_a_reason(filename, content, code):
    with pytest.raises(SpreadsheetError) as caught:
        read_table(filename, content)
    assert caught.value.code == code


def test_more_rows_than_the_limit_are_refused():
    rows = [["姓名", "手机", "单位"]] + [["王", "13800138000", "x"]] * (spreadsheets.MAX_ROWS + 1)
    with pytest.raises(SpreadsheetError) as caught:
        check_table(read_table("a.csv", csv_bytes(rows)), ImportRules())
    assert caught.value.code == "too_many_rows"


# ---------------------------------------------------------------- checking rows (pure)


def test_each_row_gets_its_own_problems():
    rows = [[str(c) for c in row] for row in MIXED_ROWS]
    checked = check_table(table(rows), ImportRules(), find_taken=lambda phones, ids: ({"13900139000"}, set()))
    assert problems(checked, 2) == []
    assert problems(checked, 3) == ["name_required"]
    assert problems(checked, 4) == ["invalid_phone"]
    assert problems(checked, 5) == ["id_checksum"]
    assert problems(checked, 6) == ["duplicate_in_file"]
    assert problems(checked, 7) == ["already_signed_up"]
    assert [e.numbers for e in checked.entries] == [[2]]
    assert checked.rows[0].data == {"name": "王喆", "role": "member", "phone": "13800138000", "unit": "厦门城市职业学院",
                                    "id_number": GOOD_ID, "id_kind": "resident_id"}


def test_groups_must_be_the_events_groups():
    rows = [["姓名", "手机", "单位", "组别"], ["王喆", "13800138000", "x", "高职组"], ["李堃", "13800138001", "x", "本科组"],
            ["陈静", "13800138002", "x", ""]]
    checked = check_table(table(rows), ImportRules(groups=("中职组", "高职组")))
    assert [problems(checked, n) for n in (2, 3, 4)] == [[], ["unknown_group"], ["group_required"]]
    assert checked.rows[1].problems[0].params == {"value": "本科组", "groups": "中职组、高职组"}


def test_required_columns_missing_block_every_row():
    checked = check_table(table([["姓名", "手机"], ["王喆", "13800138000"]]), ImportRules(require_id_number=True))
    assert checked.missing == ["单位", "证件号码"]
    assert checked.entries == [] and not checked.all_valid


def test_values_longer_than_the_database_columns_are_a_row_problem():
    checked = check_table(table([["姓名", "手机", "单位"], ["王" * 61, "13800138000", "x"]]), ImportRules())
    assert problems(checked, 2) == ["too_long"]


def test_team_rows_make_teams_and_a_bad_row_holds_back_its_whole_team():
    rules = ImportRules(team=True, team_min_members=2, team_max_members=3, team_max_coaches=1)
    rows = [["姓名", "手机", "单位", "队名", "角色"],
            ["队员甲", "13800000001", "厦门大学", "飞翔队", "队员"],
            ["领队甲", "13800000002", "厦门大学", "飞翔队", "领队"],
            ["教练甲", "", "厦门大学", "飞翔队", "指导教师"],
            ["领队乙", "13800000003", "集美大学", "远航队", ""],
            ["队员乙", "bad", "集美大学", "远航队", ""],
            ["独行侠", "13800000004", "华侨大学", "孤星队", ""]]
    checked = check_table(table(rows), rules)
    assert [[r.number for r in e.rows] for e in checked.entries] == [[3, 2, 4]]  # the leader first
    assert problems(checked, 6) == ["invalid_phone"]
    assert problems(checked, 5) == ["team_has_errors"]
    assert problems(checked, 7) == ["team_size"]  # one player; at least two


# ---------------------------------------------------------------- import pages


def test_the_preview_shows_every_rows_problems_and_saves_nothing(client, db, organizer_world):
    from core.models import AuditEntry

    _org, organizer, event = organizer_world
    login(client, organizer)
    response = upload(client, event, xlsx_bytes(MIXED_ROWS))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This field is required." not in html
    for text in ("王喆", "Enter the name.", "Enter a valid mobile number", "check digit is wrong",
                 "The same phone number is on row 2.", "2 can be imported, 4 have problems"):
        assert text in html, text
    assert count_registrations(db, event) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_the_preview_marks_sign_ups_that_already_exist(client, db, organizer_world):
    _org, organizer, event = organizer_world
    sign_up(event, "黄二妹", "13900139000")
    db.session.commit()
    login(client, organizer)
    html = upload(client, event, xlsx_bytes(MIXED_ROWS)).get_data(as_text=True)
    assert "Phone number 13900139000 is already signed up for this event." in html


def test_all_or_nothing_with_one_bad_row_saves_nothing(client, db, organizer_world):
    _org, organizer, event = organizer_world
    login(client, organizer)
    rows = [["姓名", "手机", "单位"], ["王喆", "13800138000", "x"], ["李堃", "13800138001", "x"], ["陈静", "bad", "x"]]
    preview = upload(client, event, csv_bytes(rows), "名单.csv").get_data(as_text=True)
    response = confirm(client, event, preview, "all")
    assert response.status_code == 422
    assert "Nothing was imported" in response.get_data(as_text=True)
    assert count_registrations(db, event) == 0


def test_importing_the_valid_rows_saves_exactly_those(client, db, organizer_world):
    from core.models import AuditEntry
    from registration.models import Registration

    _org, organizer, event = organizer_world
    login(client, organizer)
    preview = upload(client, event, xlsx_bytes(MIXED_ROWS)).get_data(as_text=True)
    response = confirm(client, event, preview, "valid")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    saved = list(db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)))
    assert [(r.name, r.phone, r.id_number, r.source) for r in saved] == [
        ("王喆", "13800138000", GOOD_ID, "import"), ("黄二妹", "13900139000", None, "import")]
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "registration.import"))
    assert audit.details["created"] == 2 and audit.details["skipped_rows"] == 4
    # The upload is gone: sending the confirmation again imports nothing twice.
    again = confirm(client, event, preview, "valid")
    assert again.status_code == 302
    assert count_registrations(db, event) == 2


def test_rows_beyond_capacity_are_waitlisted_and_the_result_says_so(client, db, factory, import_dir):
    from registration.models import Registration, RegistrationState

    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=2)
    login(client, organizer)
    rows = [["姓名", "手机", "单位"]] + [[f"学员{i}", f"1380013800{i}", "x"] for i in range(3)]
    preview = upload(client, event, xlsx_bytes(rows)).get_data(as_text=True)
    assert "About 1 of the imported sign-ups will go to the waiting list." in preview
    result = confirm(client, event, preview, "all")
    assert result.status_code == 200
    assert "1 of them are on the waiting list" in result.get_data(as_text=True)
    db.session.expire_all()
    states = [r.status for r in db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.id))]
    assert states == [RegistrationState.APPROVED, RegistrationState.APPROVED, RegistrationState.WAITLISTED]


def test_a_row_the_service_refuses_rolls_back_the_whole_file(client, db, factory, import_dir):
    """Two rows choose a workshop with one seat: the checks pass, the second sign-up is refused, nothing stays."""
    from registration.fields import FieldKind, Option

    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=10)
    services.add_field(event, services.FieldData(kind=FieldKind.CHOICE, label="工作坊", required=True,
                                                 options=[Option("上午", "上午", 1), Option("下午", "下午")]),
                       actor=organizer, now=NOW)
    db.session.commit()
    login(client, organizer)
    rows = [["姓名", "手机", "单位", "工作坊"], ["王喆", "13800138000", "x", "上午"], ["李堃", "13800138001", "x", "上午"],
            ["陈静", "13800138002", "x", "傍晚"]]
    preview = upload(client, event, xlsx_bytes(rows)).get_data(as_text=True)
    assert "工作坊: Choose one of the options." in preview  # the event's own question is checked per row
    response = confirm(client, event, preview, "valid")
    assert response.status_code == 409
    assert "Row 3" in response.get_data(as_text=True)
    assert count_registrations(db, event) == 0
    from registration.models import OptionCounter

    assert db.session.scalar(sa.select(OptionCounter.seats_taken).where(OptionCounter.option_value == "上午")) == 0


def test_team_rows_are_imported_as_teams(client, db, factory, import_dir):
    from registration.models import (
        MemberRole,
        Registration,
        RegistrationKind,
        RegistrationSettings,
    )

    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=10)
    db.session.add(RegistrationSettings(event_id=event.id, kind=RegistrationKind.TEAM, team_min_members=2,
                                        team_max_members=3, team_max_coaches=1, groups=[]))
    db.session.commit()
    login(client, organizer)
    rows = [["姓名", "手机", "单位", "队名", "角色"], ["队员甲", "13800000001", "厦门大学", "飞翔队", ""],
            ["领队甲", "13800000002", "厦门大学", "飞翔队", "领队"], ["教练甲", "", "厦门大学", "飞翔队", "指导教师"]]
    preview = upload(client, event, xlsx_bytes(rows)).get_data(as_text=True)
    assert confirm(client, event, preview, "all").status_code == 200
    db.session.expire_all()
    team = db.session.scalar(sa.select(Registration).where(Registration.event_id == event.id))
    assert (team.name, team.contact_name, team.phone) == ("飞翔队", "领队甲", "13800000002")
    assert [(m.role, m.name) for m in sorted(team.members, key=lambda m: m.position)] == [
        (MemberRole.LEADER, "领队甲"), (MemberRole.MEMBER, "队员甲"), (MemberRole.COACH, "教练甲")]


def test_an_upload_only_works_for_who_uploaded_it(client, app, db, factory, organizer_world):
    org, organizer, event = organizer_world
    colleague = factory.user(organization=org, role="organizer")
    login(client, organizer)
    preview = upload(client, event, xlsx_bytes(MIXED_ROWS)).get_data(as_text=True)
    other = app.test_client()
    login(other, colleague)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview).group(1)
    response = other.post(f"/manage/events/{event.id}/registrations/import/confirm",
                          data={"csrf_token": csrf_token(other, f"/manage/events/{event.id}/registrations/import"),
                                "token": token, "mode": "valid"})
    assert response.status_code == 302
    assert count_registrations(db, event) == 0


@pytest.mark.parametrize(("filename", "content", "message"), [
    ("名单.xls", b"\xd0\xcf\x11\xe0" * 10, "save it as .xlsx"),
    ("名单.txt", b"x", "Upload an Excel workbook (.xlsx) or a CSV file."),
    ("名单.csv", b"a" * (spreadsheets.MAX_BYTES + 10), "larger than 2 MB"),
    ("名单.csv", "单位,爱好\n厦门大学,篮球\n".encode(), "No header row found"),
])
def test_bad_uploads_are_shown_again_with_the_reason(client, db, organizer_world, filename, content, message):
    _org, organizer, event = organizer_world
    login(client, organizer)
    response = upload(client, event, content, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_the_empty_sheet_has_the_columns_the_event_takes(client, db, organizer_world):
    _org, organizer, event = organizer_world
    login(client, organizer)
    response = client.get(f"/manage/events/{event.id}/registrations/import-template.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["姓名", "手机", "单位"]


# ---------------------------------------------------------------- export


def test_the_export_opens_in_excel_with_every_sign_up(client, db, organizer_world):
    _org, organizer, event = organizer_world
    sign_up(event, "王喆", "13800138000", id_number=GOOD_ID, id_kind="resident_id")
    sign_up(event, "=HYPERLINK(\"http://x\")", "13800138001")
    cancelled = sign_up(event, "李堃", "13800138002")
    services.cancel_registration(cancelled, now=NOW)
    db.session.commit()
    login(client, organizer)
    response = client.get(f"/manage/events/{event.id}/registrations.xlsx")
    assert response.status_code == 200
    assert response.mimetype == spreadsheets.XLSX_MIME
    assert "no-store" in response.headers["Cache-Control"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["报名名单", "队员"]
    sheet = workbook["报名名单"]
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["报名编号", "状态", "姓名", "队名", "手机", "单位"]
    rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    assert [(r["姓名"], r["手机"], r["状态"]) for r in rows] == [
        ("王喆", "13800138000", "已通过"), ("=HYPERLINK(\"http://x\")", "13800138001", "已通过"),
        ("李堃", "13800138002", "已取消")]
    assert rows[0]["证件号码"] == GOOD_ID  # unmasked: the export is the organizer's
    assert sheet.cell(row=3, column=3).data_type == "s"  # stays text, never a formula


def test_team_export_lists_members_in_the_second_sheet(client, db, factory, organizer_world):
    from registration.models import MemberRole, RegistrationKind, RegistrationSettings

    _org, organizer, event = organizer_world
    db.session.add(RegistrationSettings(event_id=event.id, kind=RegistrationKind.TEAM, team_min_members=1,
                                        team_max_members=3, team_max_coaches=1, groups=[]))
    db.session.commit()
    sign_up(event, "领队甲", "13800000002", team_name="飞翔队",
            members=[services.MemberData(role=MemberRole.MEMBER, name="队员甲", phone="13800000001")])
    db.session.commit()
    login(client, organizer)
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/manage/events/{event.id}/registrations.xlsx").data))
    members = [[c.value for c in row] for row in workbook["队员"].iter_rows(min_row=2)]
    assert [(m[1], m[2], m[3], m[4]) for m in members] == [("飞翔队", "领队", "领队甲", "13800000002"),
                                                          ("飞翔队", "队员", "队员甲", "13800000001")]


def test_every_export_is_logged(client, db, organizer_world):
    from core.models import AuditEntry

    _org, organizer, event = organizer_world
    sign_up(event, "王喆", "13800138000")
    db.session.commit()
    login(client, organizer)
    client.get(f"/manage/events/{event.id}/registrations.xlsx")
    client.get(f"/manage/events/{event.id}/registrations.xlsx")
    db.session.expire_all()
    entries = list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "registration.export")))
    assert len(entries) == 2
    assert {(e.actor_id, e.object_type, e.object_id, e.details["rows"]) for e in entries} == {
        (organizer.id, "Event", event.id, 1)}


def test_kept_uploads_expire_and_only_open_for_their_event_and_user(tmp_path):
    from datetime import timedelta

    from registration.imports import PendingImports

    store = PendingImports(tmp_path, ttl=timedelta(hours=1))
    kept = table([["姓名", "手机", "单位"], ["王喆", "13800138000", "x"]])
    token = store.save(event_id=1, user_id=7, filename="名单.xlsx", table=kept, now=NOW)
    assert store.load(token, event_id=1, user_id=7, now=NOW + timedelta(minutes=59)).table.rows == kept.rows
    assert store.load(token, event_id=2, user_id=7, now=NOW) is None
    assert store.load(token, event_id=1, user_id=8, now=NOW) is None
    assert store.load("../" + token, event_id=1, user_id=7, now=NOW) is None
    assert store.load(token, event_id=1, user_id=7, now=NOW + timedelta(minutes=61)) is None
    assert list(tmp_path.iterdir()) == []  # an expired upload is deleted when found


def test_a_team_needs_the_unit_and_id_number_of_its_leader_only():
    rules = ImportRules(team=True, require_id_number=True, team_min_members=1, team_max_members=3)
    rows = [["姓名", "手机", "单位", "队名", "身份证号"],
            ["领队甲", "13800000001", "厦门大学", "飞翔队", GOOD_ID], ["队员甲", "13800000002", "", "飞翔队", ""],
            ["领队乙", "13800000003", "", "远航队", ""]]
    checked = check_table(table(rows), rules)
    assert [problems(checked, n) for n in (2, 3, 4)] == [[], [], ["unit_required", "id_required"]]
    assert [e.numbers for e in checked.entries] == [[2, 3]]
