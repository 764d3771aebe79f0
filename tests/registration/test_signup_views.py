"""The public sign-up pages through the test client: sign up (individual, team), the manage page, the PDF ticket,
changing a sign-up, finding a lost link."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.types import utcnow
from registration.models import (
    MemberRole,
    Registration,
    RegistrationChange,
    RegistrationKind,
    RegistrationSettings,
    RegistrationState,
    TeamMember,
)
from tests.conftest import ON_CI, csrf_token

LEADER = {"name": "王喆", "phone": "138 0013 8000", "unit": "厦门城市职业学院"}


# ---------------------------------------------------------------- helpers


def open_event(factory, *, capacity=None, requires_approval=False, opens_in=None, closed=False, **settings):
    """A published event whose sign-up is open on the real clock (the views use it), with optional settings."""
    org = factory.organization()
    starts = utcnow().replace(microsecond=0) + timedelta(days=30)
    extra = {}
    if opens_in is not None:
        extra["registration_opens_at"] = utcnow() + opens_in
    if closed:
        extra["registration_closes_at"] = utcnow() - timedelta(hours=1)
    event = factory.event(org, title="2026海峡两岸职业院校技能大赛", status="published", starts_at=starts,
                          capacity=capacity, requires_approval=requires_approval, **extra)
    if settings:
        from extensions import db

        row = RegistrationSettings(event_id=event.id, kind=RegistrationKind(settings.pop("kind", "individual")),
                                   team_min_members=settings.pop("team_min_members", 1),
                                   team_max_members=settings.pop("team_max_members", 5),
                                   team_max_coaches=settings.pop("team_max_coaches", 2),
                                   groups=settings.pop("groups", []),
                                   ask_id_number=settings.pop("ask_id_number", False),
                                   ask_email=settings.pop("ask_email", False),
                                   ask_job_title=settings.pop("ask_job_title", False), allow_session_choice=False)
        assert not settings, f"unknown settings {settings}"
        db.session.add(row)
        db.session.commit()
    return event


def team_event(factory, **kwargs):
    defaults = {"kind": "team", "team_min_members": 2, "team_max_members": 4, "team_max_coaches": 2,
                "groups": ["中职组", "高职组"]}
    return open_event(factory, **{**defaults, **kwargs})


def signup(client, event, **fields):
    data = {"csrf_token": csrf_token(client, "/"), **fields}
    return client.post(f"/e/{event.id}/register", data=data)


def team_fields(**extra):
    fields = {"team_name": "鹭岛之星", "group_name": "高职组", **LEADER,
              "member_name_0": "李堃", "member_phone_0": "139 0013 9000",
              "member_name_1": "张赟", "member_phone_1": "+852 9123 4567",
              "coach_name_0": "陳國華"}
    fields.update(extra)
    return {k: v for k, v in fields.items() if v is not None}


def registrations(db, event=None) -> list[Registration]:
    db.session.expire_all()
    query = sa.select(Registration).order_by(Registration.id)
    if event is not None:
        query = query.where(Registration.event_id == event.id)
    return list(db.session.scalars(query))


def manage_key(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.fullmatch(r"/r/([A-Za-z0-9_\-]+)", response.location)
    assert match, response.location
    return match.group(1)


def text(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- sign up


def test_individual_sign_up_gives_a_private_link_with_a_ticket(client, db, factory):
    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    [reg] = registrations(db)
    assert (reg.name, reg.contact_name, reg.phone, reg.unit) == ("王喆", "王喆", "13800138000", "厦门城市职业学院")
    assert reg.status == RegistrationState.APPROVED and reg.kind == RegistrationKind.INDIVIDUAL

    page = client.get(f"/r/{key}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "private, no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    html = text(page)
    assert "王喆" in html and "138****8000" in html and "13800138000" not in html
    assert f"/r/{key}/ticket.png" in html and f"/r/{key}/ticket.pdf" in html and f"/r/{key}/edit" in html
    png = client.get(f"/r/{key}/ticket.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_team_sign_up_saves_leader_members_and_a_coach_without_phone(client, db, factory):
    event = team_event(factory, requires_approval=True)
    key = manage_key(signup(client, event, **team_fields()))
    [reg] = registrations(db)
    assert reg.kind == RegistrationKind.TEAM and reg.status == RegistrationState.PENDING
    assert (reg.name, reg.contact_name, reg.group_name) == ("鹭岛之星", "王喆", "高职组")
    people = sorted(((m.role, m.name, m.phone) for m in reg.members), key=lambda m: (m[0].value, m[1]))
    assert people == [
        (MemberRole.COACH, "陳國華", None),
        (MemberRole.LEADER, "王喆", "13800138000"),
        (MemberRole.MEMBER, "张赟", "+85291234567"),
        (MemberRole.MEMBER, "李堃", "13900139000"),
    ]
    html = text(client.get(f"/r/{key}"))
    assert "鹭岛之星" in html and "陳國華" in html
    assert "ticket.png" not in html  # pending: no ticket yet
    assert client.get(f"/r/{key}/ticket.png").status_code == 404
    assert client.get(f"/r/{key}/ticket.pdf").status_code == 404


def test_team_too_small_is_refused_and_saves_nothing(client, db, factory):
    event = team_event(factory, team_min_members=3)
    response = signup(client, event, **team_fields(member_name_1=None, member_phone_1=None))
    assert response.status_code == 422
    assert "3" in text(response) and registrations(db) == []


def test_rows_beyond_the_largest_team_are_not_read(client, db, factory):
    event = team_event(factory, team_max_members=3, team_max_coaches=1)  # 2 member rows, 1 coach row on the form
    manage_key(signup(client, event, **team_fields(member_name_2="多余的人", member_phone_2="13700137000",
                                                   coach_name_1="多余教练")))
    [reg] = registrations(db)
    assert {m.name for m in reg.members} == {"王喆", "李堃", "张赟", "陳國華"}


def test_team_name_and_group_are_required(client, db, factory):
    event = team_event(factory)
    response = signup(client, event, **team_fields(team_name="", group_name=""))
    assert response.status_code == 422
    assert registrations(db) == []


@pytest.mark.parametrize(("extra", "message"), [
    ({"coach_phone_0": "12"}, "13800138000"),  # a coach's phone is optional, but when given it must be valid
    ({"member_phone_1": ""}, "13800138000"),  # a member's phone is required
    ({"member_name_1": ""}, "Row 2"),
])
def test_bad_team_rows_are_refused(client, db, factory, extra, message):
    client.set_cookie("saihui_lang", "en")
    event = team_event(factory)
    response = signup(client, event, **team_fields(**extra))
    assert response.status_code == 422
    assert message in text(response)
    assert registrations(db) == []


@pytest.mark.parametrize("extra", [
    {"member_phone_0": "13800138000"},  # the leader's phone again
    {"member_phone_1": "139-0013-9000"},  # two members, one phone (written differently)
])
def test_the_same_phone_twice_in_a_team_is_refused(client, db, factory, extra):
    event = team_event(factory)
    response = signup(client, event, **team_fields(**extra))
    assert response.status_code == 422
    assert registrations(db) == []


def test_a_coach_may_coach_with_the_leaders_phone_missing(client, db, factory):
    """Coaches are not counted for duplicates: the same teacher may coach two teams."""
    event = team_event(factory)
    manage_key(signup(client, event, **team_fields(coach_phone_0="13600136000")))
    manage_key(signup(client, event, **team_fields(
        team_name="第二队", name="赵六", phone="13500135000", member_name_0="钱七", member_phone_0="13500135001",
        member_name_1="孙八", member_phone_1="13500135002", coach_phone_0="13600136000")))
    assert len(registrations(db)) == 2


def test_duplicate_phone_is_409_with_a_link_to_find_my_sign_up(client, db, factory):
    event = open_event(factory)
    manage_key(signup(client, event, **LEADER))
    response = signup(client, event, **{**LEADER, "name": "王喆喆", "phone": "+86 13800138000"})
    assert response.status_code == 409
    assert f'href="/e/{event.id}/find"' in text(response)
    assert len(registrations(db)) == 1


def test_a_member_of_another_team_cannot_sign_up_again(client, db, factory):
    event = team_event(factory)
    manage_key(signup(client, event, **team_fields()))
    response = signup(client, event, **team_fields(team_name="别的队", name="赵六", phone="13500135000",
                                                   member_name_0="李堃", member_phone_0="13900139000"))
    assert response.status_code == 409
    assert len(registrations(db)) == 1


@pytest.mark.parametrize(("when", "words"), [
    ({"opens_in": timedelta(days=2)}, ["Registration opens"]),
    ({"closed": True}, ["Registration closed"]),
])
def test_outside_the_window_the_page_says_so_and_saves_nothing(client, db, factory, when, words):
    client.set_cookie("saihui_lang", "en")
    event = open_event(factory, **when)
    page = client.get(f"/e/{event.id}/register")
    assert page.status_code == 200
    assert 'name="phone"' not in text(page)
    assert any(w in text(page) for w in words), text(page)[:3000]
    response = signup(client, event, **LEADER)
    assert response.status_code == 409
    assert any(w in text(response) for w in words)
    assert registrations(db) == []


def test_a_draft_event_takes_no_sign_ups(client, db, factory):
    org = factory.organization()
    event = factory.event(org, status="draft", starts_at=utcnow() + timedelta(days=30))
    assert client.get(f"/e/{event.id}/register").status_code == 404
    assert signup(client, event, **LEADER).status_code == 404
    assert registrations(db) == []


def test_honeypot_filled_is_400_and_saves_nothing(client, db, factory):
    event = open_event(factory)
    response = signup(client, event, website="http://spam.example", **LEADER)
    assert response.status_code == 400
    assert registrations(db) == []


def test_without_csrf_token_nothing_is_saved(client, db, factory):
    event = open_event(factory)
    response = client.post(f"/e/{event.id}/register", data=LEADER)
    assert response.status_code == 400
    assert registrations(db) == []


def test_control_characters_are_dropped(client, db, factory):
    event = open_event(factory)
    manage_key(signup(client, event, name="王\x00喆\x1b", phone="138\x0000138000", unit="厦门\x7f大学"))
    [reg] = registrations(db)
    assert (reg.contact_name, reg.phone, reg.unit) == ("王喆", "13800138000", "厦门大学")


def test_rejected_sign_up_shows_the_reason_on_the_manage_page(client, db, factory):
    from registration import services

    event = open_event(factory, requires_approval=True)
    organizer = factory.user(organization=event.organization, role="organizer")
    key = manage_key(signup(client, event, **LEADER))
    [reg] = registrations(db)
    services.reject_registration(reg, reason="单位信息与报名要求不符", now=utcnow(), actor=organizer)
    db.session.commit()
    html = text(client.get(f"/r/{key}"))
    assert "单位信息与报名要求不符" in html
    assert f"/r/{key}/cancel" not in html and f"/r/{key}/edit" not in html


def test_cancel_frees_the_seat_and_promotes_the_waiting_list(client, db, factory):
    from events.models import Event

    event = open_event(factory, capacity=1)
    first = manage_key(signup(client, event, **LEADER))
    second = manage_key(signup(client, event, name="李堃", phone="13900139000", unit="集美大学"))
    a, b = registrations(db)
    assert (a.status, b.status) == (RegistrationState.APPROVED, RegistrationState.WAITLISTED)
    waiting = text(client.get(f"/r/{second}"))
    assert re.search(r"\b1\b", waiting) and "ticket.png" not in waiting

    response = client.post(f"/r/{first}/cancel", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and response.location == f"/r/{first}"
    a, b = registrations(db)
    assert (a.status, b.status) == (RegistrationState.CANCELLED, RegistrationState.APPROVED)
    assert db.session.get(Event, event.id).seats_taken == 1
    assert "ticket.png" in text(client.get(f"/r/{second}"))
    assert client.get(f"/r/{first}/ticket.png").status_code == 404
    # the phone is free again: the same person may sign up anew (and joins the waiting list)
    manage_key(signup(client, event, **LEADER))


def test_unknown_manage_link_is_404(client, db):
    for path in ("/r/nope", "/r/nope/ticket.png", "/r/nope/ticket.pdf", "/r/nope/edit", "/r/" + "x" * 80):
        assert client.get(path).status_code == 404, path


# ---------------------------------------------------------------- the PDF ticket


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is missing: apt-get install poppler-utils (scripts/system-deps.sh)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture()
def ticket_font(app):
    """The CJK font PDF tickets embed (Debian: fonts-lxgw-wenkai); skipped without it, except on CI."""
    from pathlib import Path

    from registration.ticket_pdf import DEFAULT_FONT_PATH

    path = app.config.get("TICKET_PDF_FONT") or DEFAULT_FONT_PATH
    if not Path(path).is_file():
        message = f"{path} is missing: apt-get install fonts-lxgw-wenkai (scripts/system-deps.sh)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "ticket.pdf"
    path.write_bytes(pdf)
    return subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def pdf_fonts(pdf: bytes, tmp_path) -> list[dict[str, str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([_tool("pdffonts"), str(path)], capture_output=True, check=True, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name type... encoding emb sub uni object ID: the last six columns are fixed
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


@pytest.mark.parametrize("name", ["王喆", "李堃", "张赟", "陳國華", "鄧麗君"])
def test_pdf_ticket_prints_names_with_rare_characters(client, db, factory, tmp_path, ticket_font, name):
    event = open_event(factory)  # the factory's venue: 厦门国际会议中心
    key = manage_key(signup(client, event, **{**LEADER, "name": name}))
    response = client.get(f"/r/{key}/ticket.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data[:5] == b"%PDF-"
    assert response.headers["Cache-Control"] == "private, no-store"
    content = pdf_text(response.data, tmp_path)
    assert name in content
    assert "2026海峡两岸职业院校技能大赛" in content.replace("\n", "")
    assert "厦门国际会议中心" in content and "厦门城市职业学院" in content
    [reg] = registrations(db)
    from registration.tickets import ticket_token

    assert ticket_token(reg) in content
    local = event.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert local.strftime("%Y-%m-%d %H:%M") in content  # the event's own time zone, not UTC

    fonts = pdf_fonts(response.data, tmp_path)
    cjk = [f for f in fonts if "WenKai" in f["name"]]
    assert cjk, fonts
    assert all(f["emb"] == "yes" and f["sub"] == "yes" for f in cjk), fonts
    assert all(re.match(r"[A-Z]{6}\+", f["name"]) for f in cjk)  # a subset's tag
    assert all(f["emb"] == "yes" for f in fonts if f["name"] != "Courier-Bold"), fonts
    assert len(response.data) < 200_000  # a subset, not the 15 MB font


def test_pdf_ticket_of_a_team_names_team_group_and_members(client, db, factory, tmp_path, ticket_font):
    event = team_event(factory)
    key = manage_key(signup(client, event, **team_fields()))
    content = pdf_text(client.get(f"/r/{key}/ticket.pdf").data, tmp_path)
    for words in ("王喆", "鹭岛之星", "高职组", "李堃", "张赟", "陳國華"):
        assert words in content, words


@pytest.mark.parametrize("font", ["/nonexistent/LXGWWenKai-Regular.ttf", "not-a-font"])
def test_pdf_ticket_without_its_font_explains_what_to_install(app, client, db, factory, tmp_path, monkeypatch, font):
    if font == "not-a-font":
        bogus = tmp_path / "bogus.ttf"
        bogus.write_bytes(b"this is not a TrueType font" * 10)
        font = str(bogus)
    monkeypatch.setitem(app.config, "TICKET_PDF_FONT", font)
    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    response = client.get(f"/r/{key}/ticket.pdf")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "fonts-lxgw-wenkai" in text(response)
    assert client.get(f"/r/{key}").status_code == 200  # the page and its QR code still work
    assert client.get(f"/r/{key}/ticket.png").status_code == 200


# ---------------------------------------------------------------- change my sign-up


def edit(client, key, **fields):
    return client.post(f"/r/{key}/edit", data={"csrf_token": csrf_token(client, "/"), **fields})


def history(db, reg_id: int) -> list[RegistrationChange]:
    db.session.expire_all()
    query = sa.select(RegistrationChange).where(RegistrationChange.registration_id == reg_id)
    return list(db.session.scalars(query.order_by(RegistrationChange.id)))


def test_edit_page_is_filled_in_and_saves_changes_with_history(client, db, factory):
    event = open_event(factory, ask_email=True, ask_job_title=True)
    key = manage_key(signup(client, event, **LEADER, email="wz@example.org", job_title="教师"))
    page = text(client.get(f"/r/{key}/edit"))
    assert 'value="王喆"' in page and 'value="wz@example.org"' in page and 'value="教师"' in page

    response = edit(client, key, name="王喆", phone="13800138000", unit="厦门大学", email="Wang.Zhe@XMU.edu.cn",
                    job_title="教师")
    assert response.status_code == 302 and response.location == f"/r/{key}"
    [reg] = registrations(db)
    assert (reg.unit, reg.email) == ("厦门大学", "Wang.Zhe@xmu.edu.cn")
    last = history(db, reg.id)[-1]
    assert last.action == "edited" and sorted(last.details["fields"]) == ["email", "unit"]
    assert "厦门大学" in text(client.get(f"/r/{key}"))


def test_editing_nothing_records_nothing(client, db, factory):
    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    assert edit(client, key, **LEADER).status_code == 302
    [reg] = registrations(db)
    assert [c.action for c in history(db, reg.id)] == ["created"]


def test_phone_may_change_to_a_free_number_only(client, db, factory):
    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    manage_key(signup(client, event, name="李堃", phone="13900139000", unit="集美大学"))

    taken = edit(client, key, **{**LEADER, "phone": "139 0013 9000"})
    assert taken.status_code == 409
    assert registrations(db)[0].phone == "13800138000"

    assert edit(client, key, **{**LEADER, "phone": "+853 6612 3456"}).status_code == 302
    reg = registrations(db)[0]
    assert reg.phone == reg.dedupe_phone == "+85366123456"
    # the old number is free now
    manage_key(signup(client, event, name="张赟", phone="13800138000", unit="华侨大学"))


def test_team_edit_replaces_members_and_keeps_the_dedupe_rules(client, db, factory):
    event = team_event(factory)
    key = manage_key(signup(client, event, **team_fields()))
    page = text(client.get(f"/r/{key}/edit"))
    assert 'value="李堃"' in page and 'value="陳國華"' in page and 'value="鹭岛之星"' in page

    # 李堃 stays (same phone, now on row 2), 张赟 leaves, 周杰 joins; the coach gets a phone
    response = edit(client, key, **team_fields(
        team_name="鹭岛之星二队", member_name_0="周杰", member_phone_0="13700137000",
        member_name_1="李堃", member_phone_1="13900139000", coach_phone_0="13600136000"))
    assert response.status_code == 302, text(response)[:2000]
    [reg] = registrations(db)
    assert reg.name == "鹭岛之星二队"
    assert sorted((m.role.value, m.name, m.phone) for m in reg.members) == [
        ("coach", "陳國華", "13600136000"), ("leader", "王喆", "13800138000"),
        ("member", "周杰", "13700137000"), ("member", "李堃", "13900139000")]
    assert sorted(history(db, reg.id)[-1].details["fields"]) == ["members", "team_name"]
    # 张赟's phone is free, 周杰's is taken
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TeamMember)
                             .where(TeamMember.dedupe_phone == "+85291234567")) == 0
    other = signup(client, event, **team_fields(team_name="别的队", name="赵六", phone="13500135000",
                                               member_name_0="周杰", member_phone_0="13700137000"))
    assert other.status_code == 409


def test_team_edit_keeps_the_size_limits(client, db, factory):
    event = team_event(factory, team_min_members=3)
    key = manage_key(signup(client, event, **team_fields()))
    response = edit(client, key, **team_fields(member_name_1="", member_phone_1=""))
    assert response.status_code == 422
    assert len(registrations(db)[0].members) == 4


def test_no_editing_after_the_window_closes(client, db, factory):
    from events.models import Event

    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    db.session.get(Event, event.id).registration_closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    client.set_cookie("saihui_lang", "en")
    page = client.get(f"/r/{key}/edit")
    assert page.status_code == 200
    assert "Registration is closed" in text(page)
    assert 'name="unit"' not in text(page)
    assert f"/r/{key}/edit" not in text(client.get(f"/r/{key}"))
    assert edit(client, key, **{**LEADER, "unit": "别处"}).status_code == 409
    assert registrations(db)[0].unit == "厦门城市职业学院"


def test_no_editing_after_cancelling(client, db, factory):
    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    client.post(f"/r/{key}/cancel", data={"csrf_token": csrf_token(client, "/")})
    client.set_cookie("saihui_lang", "en")
    page = client.get(f"/r/{key}/edit")
    assert "has been cancelled" in text(page)
    assert 'name="unit"' not in text(page)
    assert edit(client, key, **{**LEADER, "unit": "别处"}).status_code == 409
    assert registrations(db)[0].unit == "厦门城市职业学院"


# ---------------------------------------------------------------- find my sign-up


def find(client, event, **fields):
    return client.post(f"/e/{event.id}/find", data={"csrf_token": csrf_token(client, "/"), **fields})


def test_find_issues_a_new_link_and_the_old_one_stops_working(client, db, factory):
    event = open_event(factory)
    old = manage_key(signup(client, event, **LEADER))
    response = find(client, event, name=" 王 喆 ", phone="+86 138-0013-8000")
    new = manage_key(response)
    assert new != old
    assert client.get(f"/r/{old}").status_code == 404
    assert "王喆" in text(client.get(f"/r/{new}"))
    [reg] = registrations(db)
    assert [c.action for c in history(db, reg.id)] == ["created", "link_reissued"]


def test_find_a_team_by_its_leader_not_by_a_member(client, db, factory):
    event = team_event(factory)
    manage_key(signup(client, event, **team_fields()))
    assert find(client, event, name="李堃", phone="13900139000").status_code == 200  # a member: not found
    manage_key(find(client, event, name="王喆", phone="13800138000"))


def test_find_answers_the_same_whether_or_not_the_phone_is_signed_up(client, db, factory):
    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    wrong_name = find(client, event, name="王哲", phone="13800138000")
    unknown_phone = find(client, event, name="王喆", phone="13900139999")

    def body(response):
        return re.sub(r'name="csrf_token"[^>]*>', "", text(response)).replace("王哲", "?").replace("王喆", "?") \
            .replace("13800138000", "?").replace("13900139999", "?")

    assert wrong_name.status_code == unknown_phone.status_code == 200
    assert body(wrong_name) == body(unknown_phone)
    assert "alert-warning" in text(wrong_name)
    assert client.get(f"/r/{key}").status_code == 200  # nothing was reissued


def test_find_ignores_cancelled_sign_ups(client, db, factory):
    event = open_event(factory)
    key = manage_key(signup(client, event, **LEADER))
    client.post(f"/r/{key}/cancel", data={"csrf_token": csrf_token(client, "/")})
    assert find(client, event, **LEADER).status_code == 200
    assert client.get(f"/r/{key}").status_code == 200


def test_find_needs_a_valid_phone_and_a_name(client, db, factory):
    event = open_event(factory)
    assert find(client, event, name="", phone="13800138000").status_code == 422
    assert find(client, event, name="王喆", phone="12").status_code == 422


def test_find_is_rate_limited(client, db, factory):
    event = open_event(factory)
    answers = [find(client, event, name="王喆", phone=f"1380013{i:04d}").status_code for i in range(11)]
    assert answers[:10] == [200] * 10
    assert answers[10] == 429


def test_find_page_of_an_unknown_event_is_404(client, db):
    assert client.get("/e/999999/find").status_code == 404
