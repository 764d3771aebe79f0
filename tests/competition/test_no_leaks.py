"""Unpublished and frozen results must not leak through any page or API (CTFd and DOMjudge shipped exactly these
leaks: scores through per-team pages, counts, exports, the scoreboard's JSON). This walks *every* route that
anonymous visitors may open (ACCESS in tests/test_access.py), with a competition of the world's published event
whose names, units and totals are unmistakable, in each state the public must not see through:

- not published, the public sees nothing: no name, unit or total;
- not published, codes only: no name or unit;
- published and frozen, then scoring goes on: no total, rank order or name given after the freeze.

The public results pages, the big screen and its JSON are walked as an organizer too: a projector runs on an
organizer's laptop, and the audience must still see only the public board.
"""
from __future__ import annotations

import json
import re

import pytest

from competition import results
from competition.result_models import BeforePublish
from tests.competition.results_builders import build_scored, submit_scores
from tests.conftest import NOW
from tests.test_access import ACCESS, build_path, build_world, isolated_client, log_in_as, url_values

NAMES = {"星辰秘密队": "隐身职业技术学院", "月影无声队": "幽灵信息工程学校", "迟来晨曦队": "暗夜软件学院"}


def public_endpoints() -> list[str]:
    return sorted(endpoint for endpoint, row in ACCESS.items() if row.get("GET", {}).get("anonymous") == 200)


@pytest.fixture()
def setup(db, factory):
    world = build_world(db, factory)
    built = build_scored(db, factory, entrants=[(n, u, "高职组") for n, u in NAMES.items()], judges=2,
                         organization=world.org_a, organizer=world.users["organizer"], event=world.event_a,
                         title="秘密赛项")
    submit_scores(db, built, {"星辰秘密队": {"A1": ["87.65", "87.65"]}, "月影无声队": {"A1": ["83.21", "83.21"]}})
    return world, built


def readable(response) -> str:
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data().decode("utf-8", "replace")


def walk(app, world, built, *, role: str = "anonymous", endpoints=None) -> dict[str, str]:
    """Every public route's answer (and its board and group variants), as ``role``."""
    client = isolated_client(app)
    log_in_as(client, world, role)
    values = url_values(world, "organizer") | {"competition_id": built.competition.id,
                                                "group_id": built.groups["高职组"].id,
                                                "entrant_id": built.entrants["星辰秘密队"].id,
                                                "round_id": built.round.id}
    group = built.groups["高职组"].id
    pages = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in (endpoints or public_endpoints()) or "GET" not in rule.methods:
            continue
        path = build_path(rule, values)
        variants = [path]
        if rule.endpoint.startswith("results_public."):
            variants += [f"{path}?board=g{group}", f"{path}?board=overall"]
        if rule.endpoint == "api.leaderboard":
            variants += [f"{path}?group={group}", f"{path}?group=overall", f"{path}?group=g{group}"]
        for variant in variants:
            response = client.get(variant)
            assert response.status_code < 500, f"{variant}: {response.status_code}"
            pages[variant] = readable(response)
    assert any("/results/" in p for p in pages) and any("/screen/" in p for p in pages)
    assert any("/leaderboard" in p for p in pages)
    return pages


def without_csrf(text: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', text)


def leaks(pages: dict[str, str], secrets) -> list[str]:
    return [f"{secret!r} on {path}" for path, text in pages.items() for secret in secrets if secret in text]


def test_not_published_nothing_leaks(app, setup):
    world, built = setup
    pages = walk(app, world, built)
    secrets = list(NAMES) + list(NAMES.values()) + ["87.65", "83.21"]
    assert not leaks(pages, secrets)
    organizer_pages = walk(app, world, built, role="organizer",
                           endpoints=[e for e in public_endpoints() if e != "api.leaderboard"])
    assert not leaks(organizer_pages, secrets)


def test_codes_only_shows_no_names_or_units(db, app, setup):
    world, built = setup
    results.update_settings(built.competition, results.SettingsData(before_publish=BeforePublish.CODES),
                            actor=built.organizer, now=NOW)
    db.session.commit()
    pages = walk(app, world, built)
    assert not leaks(pages, list(NAMES) + list(NAMES.values()))
    assert any("87.65" in text for text in pages.values())  # the live totals by code are what the organizer chose
    organizer_pages = walk(app, world, built, role="organizer",
                           endpoints=[e for e in public_endpoints() if e != "api.leaderboard"])
    assert not leaks(organizer_pages, list(NAMES) + list(NAMES.values()))


def test_frozen_board_hides_everything_after_the_freeze(db, app, setup):
    world, built = setup
    results.publish(built.competition, actor=built.organizer, now=NOW)
    results.freeze(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    before = walk(app, world, built)
    assert any("星辰秘密队" in text for text in before.values())  # published: names show
    # scoring goes on: 迟来晨曦队 overtakes everyone, 月影无声队 gets a new total
    submit_scores(db, built, {"迟来晨曦队": {"A1": ["91.37", "91.37"]}, "月影无声队": {"A1": ["84.44", "84.44"]}})
    pages = walk(app, world, built)
    assert not leaks(pages, ["91.37", "84.44"])
    ours = [path for path in pages if any(part in path for part in ("/results/", "/screen/", "/leaderboard"))]
    # what the public saw at the freeze, byte for byte but for the CSRF token of the language menu: no count, no
    # order, no version moved
    assert {p: without_csrf(pages[p]) for p in ours} == {p: without_csrf(before[p]) for p in ours}
    organizer_pages = walk(app, world, built, role="organizer",
                           endpoints=[e for e in public_endpoints() if e != "api.leaderboard"])
    assert not leaks(organizer_pages, ["91.37", "84.44"])
    results.unfreeze(built.competition, actor=built.organizer, now=NOW)
    db.session.commit()
    assert any("91.37" in text for text in walk(app, world, built).values())  # unfrozen: the live board
