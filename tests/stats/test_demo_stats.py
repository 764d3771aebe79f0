"""The statistics of the demo data against figures computed here independently: raw SQL over the rows and plain
Python, never the stats services. The summary paragraph must hold exactly these numbers, the Excel export too."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from io import BytesIO

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from demo.data import ASSOCIATION
from tests.conftest import NOW

BEIJING_MIDNIGHT = {  # local midnight in UTC (Asia/Shanghai has no daylight saving)
    (2026, 1): datetime(2025, 12, 31, 16, tzinfo=timezone.utc),
    (2026, 7): datetime(2026, 6, 30, 16, tzinfo=timezone.utc),
    (2027, 1): datetime(2026, 12, 31, 16, tzinfo=timezone.utc),
}
PERIODS = {None: ((2026, 1), (2027, 1)), 1: ((2026, 1), (2026, 7)), 2: ((2026, 7), (2027, 1))}


def _utc(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _unit(text):
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()
    text = re.sub(r"(股份有限公司|有限责任公司|有限公司)$", "公司", text)
    return text or None


@pytest.fixture()
def demo_tree(app, db, demo):
    """The demo (conftest's ``demo``: loaded once per process, copied back for later tests): its association and
    the association's tree of organization ids."""
    from accounts.models import Organization

    association = db.session.scalar(sa.select(Organization).where(Organization.name == ASSOCIATION))
    tree = [association.id] + [c.id for c in association.children]
    return association, tree


def _rows(db, sql, **params):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def expected_figures(db, tree, half):
    start, end = (BEIJING_MIDNIGHT[k] for k in PERIODS[half])
    ids = ",".join(str(i) for i in tree)
    all_events = {r[0]: (r[1], _utc(r[2]), r[3]) for r in _rows(db, f"SELECT id, kind, starts_at, status FROM events "
                                                                     f"WHERE organization_id IN ({ids})")}
    events = {i: e for i, e in all_events.items() if e[2] in ("published", "archived") and start <= e[1] < end}
    approved = _rows(db, "SELECT id, event_id, kind, phone, unit FROM registrations WHERE status = 'approved'")
    members: dict[int, list[str]] = {}
    for rid, phone in _rows(db, "SELECT registration_id, phone FROM team_members"):
        members.setdefault(rid, []).append(phone)
    came = {r[0] for r in _rows(db, "SELECT DISTINCT registration_id FROM check_ins WHERE active_key IS NOT NULL")}

    def people(rid, kind, phone):
        return members.get(rid, []) if kind == "team" else [phone]

    first_start: dict[str, datetime] = {}
    for rid, event_id, kind, phone, _unit_name in approved:
        if event_id in all_events:
            for p in people(rid, kind, phone):
                at = all_events[event_id][1]
                first_start[p] = min(first_start.get(p, at), at)
    mine = [r for r in approved if r[1] in events]
    phones = {p for rid, _e, kind, phone, _u in mine for p in people(rid, kind, phone)}
    kinds: dict[str, int] = {}
    for kind, _at, _status in events.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    competitions = _rows(db, f"SELECT id FROM competitions WHERE event_id IN ({','.join(map(str, events)) or 0})")
    teams = _rows(db, f"SELECT COUNT(*) FROM entrants WHERE is_team = true AND competition_id IN "
                      f"({','.join(str(c[0]) for c in competitions) or 0})")[0][0]
    certificates = _rows(db, f"SELECT COUNT(*) FROM certificates WHERE status = 'valid' AND event_id IN "
                             f"({','.join(map(str, events)) or 0})")[0][0]
    return {
        "events": len(events),
        "kinds": kinds,
        "signups": len(mine),
        "persons": sum(len(people(rid, kind, phone)) for rid, _e, kind, phone, _u in mine),
        "attended_persons": sum(len(people(rid, kind, phone)) for rid, _e, kind, phone, _u in mine if rid in came),
        "distinct_people": len(phones),
        "first_time": sum(1 for p in phones if first_start[p] >= start),
        "distinct_units": len({_unit(u) for *_rest, u in mine} - {None}),
        "competitions": len(competitions),
        "teams": teams,
        "certificates": certificates,
        "competition_ids": [c[0] for c in competitions],
    }


def expected_awards(db, competition_ids):
    """Awards by tier straight from issue 8's standings of the published results."""
    from competition import results
    from competition.models import Competition

    tally: dict[str, int] = {}
    for cid in competition_ids:
        competition = db.session.get(Competition, cid)
        state = results.get_state(cid)
        if state is None or not state.published or state.frozen_at is not None:
            continue
        for board in results.standings(competition).boards:
            if board.has_awards:
                for line in board.lines:
                    if line.award:
                        tally[line.award] = tally.get(line.award, 0) + 1
    return tally


def numbers(text):
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def test_yearly_figures_summary_and_workbook_match_the_rows(app, db, demo_tree):
    association, _tree = demo_tree
    for half in (None, 1, 2):
        check_period(app, db, demo_tree, half)
    from stats import services

    with app.test_request_context():
        second = services.period_stats(association, services.with_descendants(association), services.period_for(2026, 2))
        first = services.period_stats(association, services.with_descendants(association), services.period_for(2026, 1))
    assert 0 < second.first_time < second.distinct_people  # regulars of the first half came back
    assert first.competitions == [] and first.awards == []


def check_period(app, db, demo, half):
    from stats import services, summary, workbook

    association, tree = demo
    expected = expected_figures(db, tree, half)
    awards = expected_awards(db, expected["competition_ids"])
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        organizations = services.with_descendants(association)
        stats = services.period_stats(association, organizations, services.period_for(2026, half))
        text = summary.summary(stats, "zh_Hans")
        content = workbook.period_workbook(stats, text)

    assert expected["events"] > 0 and expected["persons"] > 0
    assert len(stats.events) == expected["events"]
    assert dict(stats.by_kind) == expected["kinds"]
    assert stats.approved == expected["signups"]
    assert stats.persons == expected["persons"]
    assert stats.attended_persons == expected["attended_persons"]
    assert stats.distinct_people == expected["distinct_people"]
    assert stats.first_time == expected["first_time"]
    assert stats.distinct_units == expected["distinct_units"]
    assert len(stats.competitions) == expected["competitions"]
    assert stats.teams == expected["teams"]
    assert dict(stats.awards) == awards
    assert stats.certificates == expected["certificates"]

    # the paragraph holds exactly these numbers, in this order
    order = ["forum", "salon", "seminar", "training", "competition", "ceremony"]
    wanted = [2026, expected["events"]] + [expected["kinds"][k] for k in order if k in expected["kinds"]] + [
        expected["persons"], expected["attended_persons"], expected["distinct_people"], expected["first_time"],
        expected["distinct_units"]]
    if expected["competitions"]:
        wanted += [expected["competitions"], expected["teams"]] + [awards[t] for t in ("一等奖", "二等奖", "三等奖", "优秀奖")
                                                                   if t in awards]
    if expected["certificates"]:
        wanted.append(expected["certificates"])
    assert numbers(text) == wanted, text
    assert text.startswith({None: "2026年，", 1: "2026年上半年，", 2: "2026年下半年，"}[half])
    assert "海峡信息化协会（含海峡信息化协会青年工作委员会）" in text
    assert f"有效报名{expected['persons']:,}人次" in text and f"签到{expected['attended_persons']:,}人次" in text

    # the workbook opens with openpyxl and holds the same figures
    book = load_workbook(BytesIO(content))
    figures = {row[2]: row[1] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True) if row[2]}
    assert figures["events"] == expected["events"]
    assert figures["persons"] == expected["persons"]
    assert figures["attended_persons"] == expected["attended_persons"]
    assert figures["distinct_people"] == expected["distinct_people"]
    assert figures["first_time"] == expected["first_time"]
    assert figures["distinct_units"] == expected["distinct_units"]
    assert figures["certificates"] == expected["certificates"]
    assert {k[len("awards:"):]: v for k, v in figures.items() if k.startswith("awards:")} == awards
    assert {k[len("events:"):]: v for k, v in figures.items() if k.startswith("events:")} == expected["kinds"]
    assert figures["summary"] == text
    events_sheet = book.worksheets[1]
    assert events_sheet.max_row - 1 == expected["events"]
    assert sum(r[5] for r in events_sheet.iter_rows(min_row=2, values_only=True)) == expected["persons"]


def test_every_event_matches_the_rows(app, db, demo_tree):
    """Per event: sign-ups by status, persons, check-in rate per session, no-shows, first-time participants."""
    from events.models import Event
    from stats import services

    _association, tree = demo_tree
    ids = ",".join(str(i) for i in tree)
    starts = {r[0]: _utc(r[1]) for r in _rows(db, f"SELECT id, starts_at FROM events WHERE organization_id IN ({ids})")}
    approved = _rows(db, "SELECT id, event_id, kind, phone FROM registrations WHERE status = 'approved'")
    members: dict[int, list[str]] = {}
    for rid, phone in _rows(db, "SELECT registration_id, phone FROM team_members"):
        members.setdefault(rid, []).append(phone)
    checked = _rows(db, "SELECT registration_id, session_key FROM check_ins WHERE active_key IS NOT NULL")
    for event_id, start in starts.items():
        event = db.session.get(Event, event_id)
        with app.test_request_context():
            stats = services.event_stats(event, now=NOW)
        statuses = dict(_rows(db, "SELECT status, COUNT(*) FROM registrations WHERE event_id = :e GROUP BY status",
                              e=event_id))
        assert {s: n for s, n in stats.by_status if n} == statuses
        mine = [r for r in approved if r[1] == event_id]
        mine_ids = {r[0] for r in mine}
        people = {r[0]: (members.get(r[0], []) if r[2] == "team" else [r[3]]) for r in mine}
        came = {rid for rid, _k in checked if rid in mine_ids}
        assert stats.approved == len(mine)
        assert stats.persons == sum(len(p) for p in people.values())
        assert stats.attended_persons == sum(len(people[r]) for r in came)
        ahead_and_nobody_came = start > NOW and not came  # "—", not 0%: the event has not taken place yet
        assert stats.check_in_rate == (services.rate(len(came), len(mine)) if mine and not ahead_and_nobody_came
                                       else None)
        if start <= NOW:
            assert stats.no_shows == len(mine) - len(came)
        else:
            assert stats.no_shows is None
        for session in stats.sessions:
            key = session.session_id or 0
            assert session.checked_in == len({rid for rid, k in checked if k == key and rid in mine_ids})
        earlier = {p for r in approved if r[1] in starts and starts[r[1]] < start
                   for p in (members.get(r[0], []) if r[2] == "team" else [r[3]])}
        phones = {p for ps in people.values() for p in ps}
        assert stats.distinct_people == len(phones)
        assert stats.first_time == len(phones - earlier)
        assert stats.returning == len(phones & earlier)


    check_forum(app, db)


def check_forum(app, db):
    from events.models import Event
    from stats import services

    forum = db.session.scalar(sa.select(Event).where(Event.title == "2026海峡两岸信息化论坛"))
    with app.test_request_context():
        stats = services.event_stats(forum, now=NOW)
    main = stats.sessions[0]
    assert (main.expected, main.checked_in, main.rate) == (316, 291, services.rate(291, 316))
    assert str(main.rate) == "92.1"
    assert sum(s.expected for s in stats.sessions[1:]) == 316  # each chose one afternoon session
    assert stats.returning > 0  # salon regulars came to the forum
