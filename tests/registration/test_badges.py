"""Name badges (胸卡): page geometry, text fitting and which fields become which lines (pure, with worked
examples); then the organizers' form and PDF: pages, embedded font, Chinese names and units in the text, a page
that is not blank, a QR code that decodes to the sign-up's ticket token, bad parameters answered in words."""
from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from registration import badges as b
from registration.badges import (LAYOUTS, MM, Badge, BadgeLine, Box, cells, cut_lines, fit_name, fit_text,
                                 pages_needed, plan_badge, read_options, wrap)
from tests.conftest import NOW, ON_CI, csrf_token
from tests.conftest import login as _login

ROOT = Path(__file__).resolve().parents[2]
FONT_TEST_NAMES = [line.strip() for line in Path("/work/shared/data/names.txt").read_text(encoding="utf-8").splitlines()
                   if line.strip() and not line.startswith("#")] if Path("/work/shared/data/names.txt").is_file() \
    else [line.strip() for line in (ROOT / "demo" / "names.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
LONG_UNIT = "中国科学院大学福建省海峡两岸信息化研究院计算机应用技术研究所智能信息处理重点实验室"


def fake_measure(text: str, size: float, bold: bool = False) -> float:
    """A monospaced stand-in for font metrics: CJK and punctuation one em, ASCII half an em."""
    return sum(size / 2 if ord(c) < 128 else size for c in text)


def mm(points: float) -> float:
    return round(points / MM, 3)


# ---------------------------------------------------------------- page geometry


def test_four_per_sheet_are_a6_sized_cells_inside_an_8_mm_margin():
    layout = LAYOUTS["4"]
    boxes = cells(layout)
    # (210 − 2 × 8) / 2 = 97 mm wide, (297 − 2 × 8) / 2 = 140.5 mm tall: fits an A6 sleeve (105 × 148 mm)
    assert [(mm(c.x), mm(c.y), mm(c.width), mm(c.height)) for c in boxes] == [
        (8, 148.5, 97, 140.5), (105, 148.5, 97, 140.5),  # top row: left, right
        (8, 8, 97, 140.5), (105, 8, 97, 140.5),
    ]
    assert layout.per_page == 4 and not layout.style.qr_beside


def test_eight_per_sheet_are_landscape_a7_sized_cells():
    layout = LAYOUTS["8"]
    boxes = cells(layout)
    assert len(boxes) == 8
    assert {(mm(c.width), mm(c.height)) for c in boxes} == {(97, 70.25)}  # fits an A7 sleeve (105 × 74 mm)
    assert (mm(boxes[0].x), mm(boxes[0].top)) == (8, 289)  # reading order: top left first
    assert (mm(boxes[1].x), mm(boxes[1].top)) == (105, 289)
    assert (mm(boxes[7].x), mm(boxes[7].y)) == (105, 8)  # bottom right last
    assert layout.style.qr_beside


@pytest.mark.parametrize("key", ["4", "8"])
def test_cells_tile_the_printable_area_without_overlap(key):
    layout = LAYOUTS[key]
    boxes = cells(layout)
    printable = Box(8 * MM, 8 * MM, 194 * MM, 281 * MM)
    assert all(printable.contains(c) for c in boxes)
    assert sum(c.width * c.height for c in boxes) == pytest.approx(printable.width * printable.height)
    for one, other in itertools.combinations(boxes, 2):
        overlap_x = min(one.right, other.right) - max(one.x, other.x)
        overlap_y = min(one.top, other.top) - max(one.y, other.y)
        assert overlap_x <= 1e-6 or overlap_y <= 1e-6


def test_cut_lines_run_along_every_cell_edge():
    four, eight = cut_lines(LAYOUTS["4"]), cut_lines(LAYOUTS["8"])
    assert len(four) == 3 + 3 and len(eight) == 3 + 5  # columns + 1 vertical, rows + 1 horizontal
    verticals = sorted({mm(x1) for x1, _y1, x2, _y2 in four if x1 == x2})
    horizontals = sorted({mm(y1) for _x1, y1, _x2, y2 in eight if y1 == y2})
    assert verticals == [8, 105, 202]
    assert horizontals == [8, 78.25, 148.5, 218.75, 289]


@pytest.mark.parametrize("count, key, pages", [(9, "4", 3), (8, "4", 2), (4, "4", 1), (9, "8", 2), (8, "8", 1),
                                                (0, "4", 0), (316, "4", 79), (316, "8", 40)])
def test_pages_needed(count, key, pages):
    assert pages_needed(count, LAYOUTS[key]) == pages


# ---------------------------------------------------------------- fitting text


def test_wrap_breaks_cjk_between_characters():
    # 5 characters of 10 pt fit 50 pt
    assert wrap("厦门城市职业学院", 50, 10, fake_measure) == ["厦门城市职", "业学院"]


def test_wrap_never_starts_a_line_with_a_closing_mark():
    # "一二三四" fills 40 pt; "，" may not start the next line, so "四" goes down with it
    assert wrap("一二三四，五六", 40, 10, fake_measure) == ["一二三", "四，五六"]
    assert wrap("阿依古丽·买买提", 40, 10, fake_measure) == ["阿依古", "丽·买买", "提"]


def test_wrap_keeps_latin_words_whole_and_breaks_one_too_long():
    assert wrap("Xiamen University", 60, 10, fake_measure) == ["Xiamen", "University"]  # 30 + 5 + 50 > 60
    assert wrap("Supercalifragilistic", 50, 10, fake_measure) == ["Supercalif", "ragilistic"]


def test_balanced_wrap_evens_out_the_lines():
    title = "2026年云计算、小程序行业技能大赛"  # 4 ASCII (2 em) + 14 CJK = 16 em, 160 pt at 10 pt
    assert wrap(title, 150, 10, fake_measure) == ["2026年云计算、小程序行业技能大", "赛"]
    # two lines need at least 9 em: 9 + 8 rather than 15 + 1
    assert b.balanced_wrap(title, 150, 10, fake_measure) == ["2026年云计算、小", "程序行业技能大赛"]


def test_fit_text_takes_the_largest_size_that_fits():
    # two characters in 100 pt: 50 pt (and 1.08 × 50 = 54 pt of height ≤ 100)
    assert fit_text("张伟", width=100, height=100, largest=60, smallest=20, max_lines=1, measure=fake_measure) \
        == b.Fitted(50, ("张伟",))
    # too little height for 50 pt: 1.08 × size ≤ 40 → 37 pt (half-point steps)
    assert fit_text("张伟", width=100, height=40, largest=60, smallest=20, max_lines=1,
                    measure=fake_measure).size == 37


def test_fit_text_cuts_with_an_ellipsis_only_at_the_smallest_size():
    fitted = fit_text(LONG_UNIT, width=100, height=30, largest=12, smallest=8, max_lines=2, measure=fake_measure)
    assert fitted.truncated and fitted.size == 8
    assert len(fitted.lines) == 2 and fitted.lines[-1].endswith("…")
    assert all(fake_measure(line, 8) <= 100 for line in fitted.lines)
    assert fitted.height <= 30


def test_a_name_stays_on_one_line_while_that_keeps_it_big():
    style = LAYOUTS["4"].style  # names up to 60 pt
    width, height = 240, style.name_block
    assert fit_name("欧阳子轩", width=width, height=height, style=style, measure=fake_measure) == b.Fitted(60, ("欧阳子轩",))
    # 8 em in one line would be 30 pt, below 55 % of 60 pt: two lines, as even as they come, the dot kept up
    name = fit_name("阿依古丽·买买提", width=width, height=height, style=style, measure=fake_measure)
    assert len(name.lines) == 2 and name.size > 33
    assert name.lines[0].endswith("·") and not name.lines[1].startswith("·")
    assert "".join(name.lines) == "阿依古丽·买买提"


# ---------------------------------------------------------------- options from the query string


class Args(dict):
    """A query string: name -> list of values (as werkzeug's MultiDict answers getlist/get)."""

    def getlist(self, key):
        return list(super().get(key, []))

    def get(self, key, default=None):
        values = super().get(key)
        return values[0] if values else default


OFFERED = ["unit", "role", "team", "group", "sessions", "f_q1", "number"]


def options(**args):
    return read_options(Args({k: v if isinstance(v, list) else [v] for k, v in args.items()}), offered=OFFERED,
                        default_fields=("unit", "role", "group"), default_title="2026海峡两岸信息化论坛",
                        groups={"中职组", "高职组"}, session_ids={7, 8})


def test_options_default_to_all_approved_four_per_sheet_with_title_and_qr():
    chosen, errors = options()
    assert errors == []
    assert chosen.fields == ("unit", "role", "group") and chosen.layout.key == "4"
    assert chosen.title == "2026海峡两岸信息化论坛" and chosen.qr is True
    assert chosen.ids is None and chosen.group is None and chosen.session is None


def test_options_as_the_form_sends_them():
    chosen, errors = options(fields=["name", "number", "f_q1", "unit"], layout="8", title="  欢迎\x07参会  ",
                             qr=["0", "1"], ids="3,5, 3", group="高职组", session="8")
    assert errors == []
    assert chosen.fields == ("unit", "f_q1", "number")  # in printing order, whatever the order sent
    assert chosen.layout.key == "8" and chosen.title == "欢迎 参会" and chosen.qr is True
    assert chosen.ids == (3, 5) and chosen.group == "高职组" and chosen.session == 8
    unticked, _ = options(fields="name", qr="0", title="")
    assert unticked.fields == () and unticked.qr is False and unticked.title == ""  # only the name, no title, no QR
    assert options(ids=["3", "4,5"])[0].ids == (3, 4, 5)
    assert options(ids="")[0].ids is None and options(ids=" , ")[0].ids is None  # nothing ticked: all approved


@pytest.mark.parametrize("args, param, code", [
    ({"fields": ["unit", "phone"]}, "fields", "unknown_field"),
    ({"fields": "id_number"}, "fields", "unknown_field"),
    ({"layout": "6"}, "layout", "unknown_layout"),
    ({"ids": "1,abc"}, "ids", "bad_ids"),
    ({"ids": "0"}, "ids", "bad_ids"),
    ({"ids": ",".join(str(i) for i in range(1, 2002))}, "ids", "too_many_ids"),
    ({"group": "企业组"}, "group", "unknown_group"),
    ({"session": "9"}, "session", "unknown_session"),
    ({"session": "x"}, "session", "unknown_session"),
    ({"title": "长" * 121}, "title", "title_too_long"),
    ({"qr": "yes"}, "qr", "bad_qr"),
])
def test_bad_options_are_reported_not_guessed(args, param, code):
    _chosen, errors = options(**args)
    assert [(e.param, e.code) for e in errors] == [(param, code)]


# ---------------------------------------------------------------- which fields become which lines


def registration(**overrides):
    values = dict(id=42, kind="individual", name="王喆", contact_name="王喆", unit="厦门城市职业学院",
                  group_name="高职组", job_title="教研室主任", answers={"q1": "厦门", "q2": ["上午工作坊", "下午参观"]},
                  sessions=[SimpleNamespace(session_id=8)], members=[])
    values.update(overrides)
    return SimpleNamespace(**values)


LABELS = {"team": "队伍", "group": "组别", "job_title": "职务", "sessions": "分会场", "number": "报名编号",
          "f_q1": "所在城市", "f_q2": "参加活动"}
ROLE_LABELS = {"leader": "领队", "member": "队员", "coach": "指导教师"}
SESSIONS = {7: "主论坛：数字中国建设新机遇", 8: "分论坛一：智慧城市与数据要素"}


def test_lines_follow_the_chosen_fields_in_order():
    lines = b.badge_lines(registration(), ("unit", "group", "job_title", "sessions", "f_q1", "f_q2", "number"),
                          labels=LABELS, session_titles=SESSIONS)
    assert lines == (
        BadgeLine("厦门城市职业学院", emphasis=True),
        BadgeLine("组别：高职组"), BadgeLine("职务：教研室主任"),
        BadgeLine("分论坛一：智慧城市与数据要素"),  # only the sessions chosen, by title
        BadgeLine("所在城市：厦门"), BadgeLine("参加活动：上午工作坊、下午参观"), BadgeLine("报名编号：42"),
    )


def test_fields_without_a_value_print_no_line():
    empty = registration(unit="", group_name=None, job_title=None, answers={"q2": []}, sessions=[])
    assert b.badge_lines(empty, ("unit", "group", "job_title", "sessions", "f_q1", "f_q2", "team"), labels=LABELS,
                         session_titles=SESSIONS) == ()


def test_a_person_gets_one_badge_with_the_ticket_token():
    chosen, _ = options(fields=["unit", "role"])
    [badge] = b.badges_for(registration(), chosen, token="TOKEN42", labels=LABELS, role_labels=ROLE_LABELS,
                           session_titles=SESSIONS)
    assert badge == Badge(name="王喆", registration_id=42, lines=(BadgeLine("厦门城市职业学院", True),),
                          token="TOKEN42")  # no team, so no role band
    no_qr, _ = options(qr="0")
    assert b.badges_for(registration(), no_qr, token="TOKEN42", labels=LABELS, role_labels=ROLE_LABELS,
                        session_titles=SESSIONS)[0].token is None


def team(**overrides):
    """A team sign-up; its rows come unordered, their positions say the order (leader, members, coach)."""
    rows = [("coach", "陳國華", 3), ("leader", "王喆", 0), ("member", "张赟", 2), ("member", "李堃", 1)]
    members = [SimpleNamespace(role=SimpleNamespace(value=role), name=name, position=position)
               for role, name, position in rows]
    return registration(kind=SimpleNamespace(value="team"), name="鹭岛之星", members=members, **overrides)


def test_a_team_gets_one_badge_per_person_with_role_and_the_teams_token():
    chosen, _ = options(fields=["unit", "role", "team"])
    result = b.badges_for(team(), chosen, token="TEAMTOKEN", labels=LABELS, role_labels=ROLE_LABELS,
                          session_titles=SESSIONS)
    assert [(x.name, x.role, x.role_key) for x in result] == [
        ("王喆", "领队", "leader"), ("李堃", "队员", "member"), ("张赟", "队员", "member"), ("陳國華", "指导教师", "coach")]
    assert {x.token for x in result} == {"TEAMTOKEN"} and {x.registration_id for x in result} == {42}
    assert result[0].lines == (BadgeLine("厦门城市职业学院", True), BadgeLine("队伍：鹭岛之星"))
    without_role, _ = options(fields=["unit"])
    assert {x.role for x in b.badges_for(team(), without_role, token="T", labels=LABELS, role_labels=ROLE_LABELS,
                                         session_titles=SESSIONS)} == {None}


def test_a_team_without_its_leader_row_still_gets_the_contacts_badge():
    lone = team()
    lone.members = [m for m in lone.members if m.role.value != "leader"]
    chosen, _ = options(fields=["role"])
    names = [x.name for x in b.badges_for(lone, chosen, token="T", labels=LABELS, role_labels=ROLE_LABELS,
                                          session_titles=SESSIONS)]
    assert names == ["王喆", "李堃", "张赟", "陳國華"]


def test_missing_characters_are_listed_once_in_order():
    covered = {ord(c) for c in "王李堃厦门大学 "}
    assert b.missing_characters(["王𣲙", "李𡈼 王𣲙", "厦门大学"], covered) == ["𣲙", "𡈼"]


# ---------------------------------------------------------------- one badge's plan never overflows


def font_path_or_skip(app=None) -> str:
    from registration.ticket_pdf import DEFAULT_FONT_PATH

    path = (app.config.get("TICKET_PDF_FONT") if app is not None else None) or DEFAULT_FONT_PATH
    if not Path(path).is_file():
        message = f"{path} is missing: apt-get install fonts-lxgw-wenkai (scripts/system-deps.sh)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def real_measure():
    """Widths from the badge font itself (LXGW WenKai, regular and bold)."""
    from reportlab.pdfbase import pdfmetrics  # noqa: F401

    from registration.ticket_pdf import _font, _lock

    path = font_path_or_skip()
    with _lock:
        regular = _font(path)
        bold_path = b.bold_variant(path)
        bold = _font(bold_path) if bold_path else regular
    return b.reportlab_measure(regular, bold)


NAMES = ["张伟", "欧阳子轩", "阿依古丽·买买提", "迪丽热巴·艾力", "王𣲙", "John Fitzgerald Kennedy-Smith",
         "Maximilian-Alexander Wolfeschlegelsteinhausen"]
UNITS = ["", "厦门大学", "厦门市威特计算机信息系统工程有限公司", LONG_UNIT, "National Taiwan University of Science and Technology"]


def crowded_lines(unit: str, many: bool) -> tuple[BadgeLine, ...]:
    lines = [BadgeLine(unit, True)] if unit else []
    if many:
        lines += [BadgeLine("队伍：鹭岛之星信息技术创新实践队"), BadgeLine("组别：高职组"),
                  BadgeLine("主论坛：数字中国建设新机遇与数据要素市场化配置改革"), BadgeLine("分论坛一：智慧城市与数据要素"),
                  BadgeLine("所在城市：" + "厦门" * 30), BadgeLine("报名编号：123456")]
    return tuple(lines)


@pytest.mark.parametrize("key", ["4", "8"])
@pytest.mark.parametrize("measure_kind", ["fake", "font"])
def test_nothing_is_drawn_outside_its_badge(key, measure_kind, request):
    measure = fake_measure if measure_kind == "fake" else request.getfixturevalue("real_measure")
    layout = LAYOUTS[key]
    box = cells(layout)[3]
    # every name with every unit, short and crowded; the eight combinations of QR code, title and role in turn
    flags = itertools.cycle(itertools.product((True, False), ("", "2026年云计算、小程序行业技能大赛" * 3), (None, "指导教师")))
    for (name, unit, many), (qr, title, role) in zip(itertools.product(NAMES, UNITS, (False, True)), flags):
        badge = Badge(name=name, registration_id=1, lines=crowded_lines(unit, many), role=role,
                      role_key="coach" if role else None, token="TAEAAAAACAAAACPJ7RFMBY5LO6ZQQ" if qr else None)
        plan = plan_badge(badge, box, layout, title=title, measure=measure)
        label = f"{key}-up {name} / {unit} / many={many} qr={qr} title={bool(title)} role={role}"
        texts = plan.texts()
        assert texts, label
        for item in plan.items:
            inner = item.box
            assert box.contains(inner), f"{label}: {item} leaves the badge"
        for text in texts:
            assert measure(text.text, text.size, text.bold) <= box.width, label
        qrs = [item for item in plan.items if isinstance(item, b.QRCode)]
        assert len(qrs) == (1 if qr else 0), label
        bands = [item.box for item in plan.items if isinstance(item, b.Rect)]
        for text in texts:
            for other in [q.box for q in qrs]:
                assert not _overlap(text.box, other), f"{label}: “{text.text}” over the QR code"
            if text.color == b.INK or text.color == b.GREY:  # dark text is on white, never on a band
                assert not any(_overlap(text.box, band) for band in bands), f"{label}: “{text.text}” on a band"
        body = [t for t in texts if t.color in (b.INK, b.GREY)]
        for one, other in itertools.combinations(body, 2):
            assert not _overlap(one.box, other.box), f"{label}: “{one.text}” and “{other.text}” overlap"
        assert "".join(t.text for t in body).startswith(name[:1]), label  # the name comes first


def _overlap(one: Box, other: Box) -> bool:
    return min(one.right, other.right) - max(one.x, other.x) > 0.01 and min(one.top, other.top) - max(one.y, other.y) > 0.01


@pytest.mark.parametrize("key, at_least_mm", [("4", 20), ("8", 13)])
def test_a_common_name_is_big_enough_to_read_at_two_metres(key, at_least_mm, real_measure):
    """At 2 m, Chinese characters want to be about 15 mm tall (4-up) — a font size of 60 pt is 21 mm."""
    layout = LAYOUTS[key]
    badge = Badge(name="欧阳子轩", registration_id=1, lines=(BadgeLine("厦门城市职业学院", True), BadgeLine("组别：高职组")),
                  role="队员", role_key="member", token="TAEAAAAACAAAACPJ7RFMBY5LO6ZQQ")
    plan = plan_badge(badge, cells(layout)[0], layout, title="2026海峡两岸信息化论坛", measure=real_measure)
    name = next(t for t in plan.texts() if t.text == "欧阳子轩")
    assert name.size / 72 * 25.4 >= at_least_mm
    assert not plan.truncated


def test_the_qr_code_keeps_its_quiet_zone_and_the_tokens_modules():
    matrix = b.qr_matrix("TAEAAAAACAAAACPJ7RFMBY5LO6ZQQ")
    assert len(matrix) == 25  # version 2 (SPEC: at most version 6)
    layout = LAYOUTS["8"]
    badge = Badge(name="张伟", registration_id=1, token="TAEAAAAACAAAACPJ7RFMBY5LO6ZQQ")
    [qr] = [i for i in plan_badge(badge, cells(layout)[0], layout, title="", measure=fake_measure).items
            if isinstance(i, b.QRCode)]
    assert qr.data == "TAEAAAAACAAAACPJ7RFMBY5LO6ZQQ"
    module_mm = qr.box.width / (25 + 2 * b.QUIET_ZONE) / MM
    assert module_mm >= 0.8  # big modules: scans from a badge on a moving chest


# ---------------------------------------------------------------- the pages and the PDF


def login(client, user, language: str = "en"):
    client.set_cookie("saihui_lang", language)
    return _login(client, user)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is missing: apt-get install poppler-utils (scripts/system-deps.sh)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture()
def badge_font(app):
    return font_path_or_skip(app)


def sign_up(event, name: str, phone: str, **extra):
    from registration import services

    registration, _key = services.register_participant(
        event, services.SignupData(name=name, phone=phone, unit=extra.pop("unit", "厦门大学"), **extra),
        now=NOW, ignore_window=True)
    return registration


PEOPLE = [("张伟", "厦门城市职业学院"), ("欧阳子轩", "厦门大学"), ("王喆", "集美大学"), ("李堃", "华侨大学"),
          ("张赟", "厦门理工学院"), ("陳國華", "國立臺灣大學"), ("阿依古丽·买买提", "新疆大学"), ("王䶮", "福州大学"),
          ("刘犇", "厦门市威特计算机信息系统工程有限公司")]


@pytest.fixture()
def forum(db, factory):
    """A forum like the demo's: two sessions, nine approved attendees (rare characters among them), one pending."""
    from registration.models import RegistrationSettings

    org = factory.organization("海峡信息协会")
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, title="2026海峡两岸信息化论坛", status="published", sessions=2)
    db.session.add(RegistrationSettings(event_id=event.id, allow_session_choice=True))
    db.session.commit()
    first, second = event.sessions
    people = [sign_up(event, name, f"1380013{8000 + i}", unit=unit, session_ids=[first.id if i % 2 else second.id])
              for i, (name, unit) in enumerate(PEOPLE)]
    db.session.commit()
    return SimpleNamespace(org=org, organizer=organizer, event=event, people=people)


@pytest.fixture()
def contest(db, factory):
    """A competition of two teams (leader, two members, a coach each) in two groups."""
    from registration import services
    from registration.models import MemberRole, RegistrationKind, RegistrationState

    org = factory.organization("海峡信息协会")
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, title="2026年云计算、小程序行业技能大赛", kind="competition", status="published",
                          requires_approval=True)
    services.save_settings(event, kind=RegistrationKind.TEAM, team_min_members=2, team_max_members=3,
                           team_max_coaches=2, groups=["中职组", "高职组"], ask_id_number=False, ask_email=False,
                           ask_job_title=False, allow_session_choice=False, actor=organizer, now=NOW)
    teams = []
    for i, (team_name, group, people) in enumerate([
            ("鹭岛之星", "高职组", ["王喆", "李堃", "张赟", "陳國華"]),
            ("集美一队", "中职组", ["欧阳子轩", "司马相宇", "诸葛明远", "上官婉清"])]):
        registration = sign_up(
            event, people[0], f"1390013{8000 + i * 10}", unit="厦门城市职业学院", group_name=group, team_name=team_name,
            members=[services.MemberData(MemberRole.MEMBER, people[1], f"1390013{8001 + i * 10}"),
                     services.MemberData(MemberRole.MEMBER, people[2], f"1390013{8002 + i * 10}"),
                     services.MemberData(MemberRole.COACH, people[3], None)])
        services.approve_registration(registration, now=NOW, actor=organizer)
        teams.append(registration)
    pending = sign_up(event, "刘犇", "13700137000", unit="集美大学", group_name="中职组", team_name="待审一队",
                      members=[services.MemberData(MemberRole.MEMBER, "陈淼", "13700137001")])
    db.session.commit()
    assert pending.status == RegistrationState.PENDING
    return SimpleNamespace(org=org, organizer=organizer, event=event, teams=teams, pending=pending)


def pdf_pages(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([tool("pdfinfo"), str(path)], capture_output=True, check=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def pdf_fonts(pdf: bytes, tmp_path) -> list[dict[str, str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([tool("pdffonts"), str(path)], capture_output=True, check=True, text=True).stdout
    return [{"name": line.split()[0], "emb": line.split()[-5], "sub": line.split()[-4]}
            for line in out.splitlines()[2:]]


def render_page(pdf: bytes, tmp_path, dpi: int, page: int = 1):
    from PIL import Image

    path = tmp_path / "render.pdf"
    path.write_bytes(pdf)
    subprocess.run([tool("pdftoppm"), "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(path), str(tmp_path / "page")], check=True, capture_output=True)
    return Image.open(tmp_path / "page.png").convert("RGB")


def ink(image) -> float:
    """The share of pixels that are not white."""
    grey = image.convert("L")
    histogram = grey.histogram()
    return 1 - sum(histogram[245:]) / (grey.width * grey.height)


def pdf_url(event, **query) -> str:
    from urllib.parse import urlencode

    return f"/manage/events/{event.id}/badges.pdf" + (f"?{urlencode(query, doseq=True)}" if query else "")


def test_nine_attendees_four_per_sheet_make_three_pages_with_names_units_and_the_font(client, db, forum, tmp_path,
                                                                                      badge_font):
    login(client, forum.organizer)
    response = client.get(pdf_url(forum.event))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf" and response.data[:5] == b"%PDF-"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    assert pdf_pages(response.data, tmp_path) == 3  # 9 people, 4 per sheet
    content = pdf_text(response.data, tmp_path).replace("\n", "")  # long names and units wrap
    for name, unit in PEOPLE:
        assert name in content, name  # 王䶮 is CJK Extension A, 陳國華 Traditional, 阿依古丽·买买提 with its dot
        assert unit in content, unit
    assert content.count("2026海峡两岸信息化论坛") == 9  # the default title line, once per badge
    fonts = pdf_fonts(response.data, tmp_path)
    wenkai = [f for f in fonts if "WenKai" in f["name"]]
    assert wenkai and all(f["emb"] == "yes" and f["sub"] == "yes" for f in wenkai), fonts
    assert all(f["emb"] == "yes" for f in fonts), fonts  # nothing left to the printer's fonts
    assert len(response.data) < 400_000  # subsets, not the 20 MB font files
    assert pdf_pages(client.get(pdf_url(forum.event, layout="8")).data, tmp_path) == 2  # 9 at 8 per sheet

    page = render_page(response.data, tmp_path, dpi=50)
    assert ink(page) > 0.05  # bands, names and QR codes: far from blank
    width, height = page.size
    for quarter in [(0, 0, width // 2, height // 2), (width // 2, height // 2, width, height)]:
        assert ink(page.crop(quarter)) > 0.05, quarter  # every badge of the sheet has something on it


def test_the_badges_qr_code_decodes_to_the_sign_ups_ticket_token(client, db, forum, tmp_path, badge_font):
    """The first badge's QR code, rendered at 150 dpi, read back: by its modules (always), and by jsQR, the
    decoder the scanner page uses (when Node.js is installed)."""
    from registration.tickets import ticket_keys, ticket_token
    from registration.tokens import parse_ticket

    login(client, forum.organizer)
    response = client.get(pdf_url(forum.event, fields=["name", "unit"]))
    assert response.status_code == 200
    first = forum.people[0]
    token = ticket_token(first)
    dpi = 150
    page = render_page(response.data, tmp_path, dpi=dpi)
    layout = LAYOUTS["4"]
    badge = Badge(name="张伟", registration_id=first.id, lines=(BadgeLine("厦门城市职业学院", True),), token=token)
    [qr] = [i for i in plan_badge(badge, cells(layout)[0], layout, title=forum.event.title,
                                  measure=fake_measure).items if isinstance(i, b.QRCode)]
    scale = dpi / 72
    page_height = layout.page[1]
    left, top = qr.box.x * scale, (page_height - qr.box.top) * scale
    crop = page.crop((round(left), round(top), round(left + qr.box.width * scale), round(top + qr.box.height * scale)))
    assert 0.2 < ink(crop) < 0.6  # a QR code: about half dark

    # Sample each module's centre and compare with the token's own matrix (the quiet zone white).
    matrix = b.qr_matrix(token)
    count = len(matrix) + 2 * b.QUIET_ZONE
    module = crop.width / count
    grey = crop.convert("L")
    sampled = [[grey.getpixel((int((c + b.QUIET_ZONE + 0.5) * module), int((r + b.QUIET_ZONE + 0.5) * module))) < 128
                for c in range(len(matrix))] for r in range(len(matrix))]
    assert sampled == matrix
    assert all(grey.getpixel((int(0.5 * module), int((i + 0.5) * module))) > 200 for i in range(count))

    node = shutil.which("node")
    if node is None:
        return
    raw = tmp_path / "qr.rgba"
    rgba = crop.convert("RGBA")
    raw.write_bytes(rgba.tobytes())
    script = ("const jsQR=require(process.argv[1]);const d=require('fs').readFileSync(process.argv[2]);"
              "const r=jsQR(new Uint8ClampedArray(d.buffer,d.byteOffset,d.length),+process.argv[3],+process.argv[4]);"
              "process.stdout.write(r?r.data:'')")
    decoded = subprocess.run([node, "-e", script, str(ROOT / "static/vendor/jsqr/jsQR.js"), str(raw), str(rgba.width),
                              str(rgba.height)], capture_output=True, text=True, check=True).stdout
    assert decoded == token
    claims = parse_ticket(decoded, keys=ticket_keys())
    assert (claims.event_id, claims.registration_id) == (forum.event.id, first.id)


def test_a_team_gets_a_badge_per_person_with_roles(client, db, contest, tmp_path, badge_font):
    login(client, contest.organizer, language="zh_Hans")
    response = client.get(pdf_url(contest.event, fields=["unit", "role", "team", "group"]))
    assert response.status_code == 200
    assert pdf_pages(response.data, tmp_path) == 2  # 2 approved teams × 4 people, 4 per sheet; not the pending team
    content = pdf_text(response.data, tmp_path)
    for name in ("王喆", "李堃", "张赟", "陳國華", "欧阳子轩", "司马相宇", "诸葛明远", "上官婉清"):
        assert content.count(name) == 1, name
    assert "刘犇" not in content and "陈淼" not in content
    assert content.count("领队") == 2 and content.count("队员") == 4 and content.count("指导教师") == 2
    assert "鹭岛之星" in content and "高职组" in content and "中职组" in content
    assert pdf_pages(client.get(pdf_url(contest.event, layout="8")).data, tmp_path) == 1
    # by group: only 鹭岛之星
    only = pdf_text(client.get(pdf_url(contest.event, group="高职组")).data, tmp_path)
    assert "王喆" in only and "欧阳子轩" not in only


def test_the_download_is_logged(client, db, forum, badge_font):
    from core.models import AuditEntry

    login(client, forum.organizer)
    assert client.get(pdf_url(forum.event, fields=["name", "unit"], layout="8")).status_code == 200
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "registration.badges")).all()
    assert entry.actor_id == forum.organizer.id and entry.object_id == forum.event.id
    assert entry.details["badges"] == 9 and entry.details["fields"] == ["name", "unit"]
    assert entry.details["layout"] == "8"
    assert client.get(f"/manage/events/{forum.event.id}/badges").status_code == 200
    logged = sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "registration.badges")
    assert db.session.scalar(logged) == 1  # the form itself is not logged


def test_the_form_offers_fields_but_never_phone_email_or_id_numbers(client, db, forum):
    from registration import services
    from registration.fields import FieldKind

    for kind, label in [(FieldKind.TEXT, "所在城市"), (FieldKind.PHONE, "紧急联系电话"), (FieldKind.EMAIL, "工作邮箱"),
                        (FieldKind.ID_NUMBER, "护照号码")]:
        services.add_field(forum.event, services.FieldData(kind=kind, label=label), actor=forum.organizer, now=NOW)
    secret = services.add_field(forum.event, services.FieldData(kind=FieldKind.TEXT, label="家庭住址", personal=True),
                                actor=forum.organizer, now=NOW)
    db.session.commit()
    login(client, forum.organizer)
    html = client.get(f"/manage/events/{forum.event.id}/badges").get_data(as_text=True)
    assert "所在城市" in html and "Sessions" in html and "Unit" in html
    for never in ("紧急联系电话", "工作邮箱", "护照号码", "家庭住址", 'value="phone"', 'value="id_number"'):
        assert never not in html, never
    assert "9 badges" in html and "3 A4 sheets" in html and "All approved sign-ups" in html
    response = client.get(pdf_url(forum.event, fields=["name", f"f_{secret.key}"]))
    assert response.status_code == 400
    assert "is not a field that badges can show" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ({"layout": "6"}, "Unknown layout “6”"),
    ({"fields": ["name", "phone"]}, "“phone” is not a field that badges can show"),
    ({"ids": "abc"}, "Not sign-up numbers: abc"),
    ({"group": "企业组"}, "This event has no group “企业组”"),
    ({"session": "999999"}, "This event has no session number 999999"),
    ({"title": "长" * 200}, "The title line has at most 120 characters"),
    ({"qr": "maybe"}, "Choose whether the badges show the QR code"),
])
def test_bad_parameters_get_a_clear_message(client, db, forum, query, message):
    login(client, forum.organizer)
    for url in (pdf_url(forum.event, **query), pdf_url(forum.event, **query).replace("badges.pdf", "badges")):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.mimetype == "text/html"
        assert message in response.get_data(as_text=True), url


def test_ids_of_another_event_are_refused(client, db, forum, factory):
    other_event = factory.event(forum.org, title="另一场活动", status="published")
    stranger = sign_up(other_event, "黄二妹", "13900000002")
    db.session.commit()
    login(client, forum.organizer)
    response = client.get(pdf_url(forum.event, ids=f"{forum.people[0].id},{stranger.id}"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Not sign-ups of this event: #{stranger.id}" in page
    assert "黄二妹" not in page


def test_ticked_sign_ups_print_only_the_approved_ones(client, db, contest, tmp_path, badge_font):
    login(client, contest.organizer)
    ids = f"{contest.teams[0].id},{contest.pending.id}"
    html = client.get(f"/manage/events/{contest.event.id}/badges?ids={ids}").get_data(as_text=True)
    assert "The 2 sign-ups ticked in the list" in html
    assert "1 of the ticked sign-ups is not approved and gets no badge." in html
    assert "4 badges" in html  # the approved team's four people
    content = pdf_text(client.get(pdf_url(contest.event, ids=ids)).data, tmp_path)
    assert "王喆" in content and "欧阳子轩" not in content and "刘犇" not in content
    nothing = client.get(pdf_url(contest.event, ids=str(contest.pending.id)))
    assert nothing.status_code == 400
    assert "there is nothing to print" in nothing.get_data(as_text=True)


def test_the_bulk_action_leads_to_the_form_with_the_ticked_sign_ups(client, db, contest):
    login(client, contest.organizer)
    token = csrf_token(client, f"/manage/events/{contest.event.id}/registrations")
    ids = [contest.teams[1].id, contest.teams[0].id]
    response = client.post(f"/manage/events/{contest.event.id}/registrations/bulk",
                           data={"csrf_token": token, "action": "badges", "ids": [str(i) for i in ids]})
    assert response.status_code == 302
    assert response.location.endswith(f"/manage/events/{contest.event.id}/badges?ids={ids[0]},{ids[1]}")
    html = client.get(response.location).get_data(as_text=True)
    assert f'name="ids" value="{ids[0]},{ids[1]}"' in html and "8 badges" in html
    none = client.post(f"/manage/events/{contest.event.id}/registrations/bulk",
                       data={"csrf_token": token, "action": "badges"})
    assert none.status_code == 302 and "/badges" not in none.location
    assert "Tick at least one sign-up." in client.get(none.location).get_data(as_text=True)
    listed = client.get(f"/manage/events/{contest.event.id}/registrations").get_data(as_text=True)
    assert 'value="badges"' in listed and f"/manage/events/{contest.event.id}/badges" in listed


def test_characters_the_font_lacks_are_named_before_printing(client, db, forum, badge_font):
    sign_up(forum.event, "王𣲙", "13600136000", unit="厦门大学")  # CJK Extension B
    db.session.commit()
    login(client, forum.organizer)
    html = client.get(f"/manage/events/{forum.event.id}/badges").get_data(as_text=True)
    assert "The badge font lacks some characters" in html
    assert "王𣲙: 𣲙" in html
    assert "王䶮" not in html.split("The badge font lacks")[1]  # Extension A is in the font


def test_without_its_font_the_pdf_says_what_to_install(app, client, db, forum, monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_PDF_FONT", "/nonexistent/LXGWWenKai-Regular.ttf")
    login(client, forum.organizer)
    response = client.get(pdf_url(forum.event))
    assert response.status_code == 503 and "fonts-lxgw-wenkai" in response.get_data(as_text=True)
    form = client.get(f"/manage/events/{forum.event.id}/badges")
    assert form.status_code == 200 and "fonts-lxgw-wenkai" in form.get_data(as_text=True)


def test_check_in_staff_may_not_print_badges(client, db, forum, factory):
    staff = factory.user(organization=forum.org, role="checkin_staff", event=forum.event)
    login(client, staff)
    assert client.get(pdf_url(forum.event)).status_code == 403
    assert client.get(f"/manage/events/{forum.event.id}/badges").status_code == 403
