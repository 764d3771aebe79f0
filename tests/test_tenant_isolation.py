"""An organization never sees another organization's events: 404 (not 403, not 200) on every page and API route
that names one of them, and no trace of them on its own pages.

The routes come from ``app.url_map`` (every rule with an ``event_id``), so routes added later are covered without
editing this file. Public routes (those that ACCESS in tests/test_access.py opens to anonymous visitors, such as
the published event's public page) are left out: anyone may see them.
"""
from __future__ import annotations

import json

import pytest

from tests.conftest import build_once
from tests.test_access import (
    ACCESS,
    IGNORED_ENDPOINTS,
    build_path,
    build_world,
    isolated_client,
    log_in_as,
    make_question,
    make_registration,
    methods_of,
    send,
    url_values,
)

# (viewer, the other organization's event, the viewer's own event): outsiders of org A looking at event A, and
# org A's people looking at event B. branch_admin is admin of a branch (专委会) of org A: the association's admin
# sees its branches' events, a branch does not see the association's.
DIRECTIONS = [
    ("other", "event_a", "event_b"),
    ("admin_b", "event_a", "event_b"),
    ("branch_admin", "event_a", "branch_event"),
    ("organizer", "event_b", "event_a"),
    ("admin", "event_b", "event_a"),
    ("staff", "event_b", "event_a"),
    ("judge", "event_b", "event_a"),
]


def is_public(endpoint: str) -> bool:
    """Open to anonymous visitors according to ACCESS. A route missing there (test_every_endpoint_is_listed fails
    for it) counts as not public, so it is checked here too."""
    return ACCESS.get(endpoint, {}).get("GET", {}).get("anonymous") == 200


def readable(response) -> str:
    """The response as text: JSON decoded (Flask escapes non-ASCII as \\uXXXX), anything else as UTF-8."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data().decode("utf-8", "replace")


def event_rules(app):
    rules = [
        rule for rule in app.url_map.iter_rules()
        if rule.endpoint not in IGNORED_ENDPOINTS and "event_id" in rule.arguments and not is_public(rule.endpoint)
    ]
    assert rules, "no event routes found in the URL map"
    return rules


@pytest.fixture()
def world(db, factory):
    """The access table's world plus a published event of org A's branch; built once per test process and copied
    back before each test (``build_once`` in tests/conftest.py)."""
    return build_once(db, "tenant world", lambda: build_tenant_world(db, factory))


def build_tenant_world(db, factory):
    world = build_world(db, factory)
    world.branch_event = factory.event(world.branch_a, title="青年专委会人工智能沙龙", kind="salon", status="published",
                                       sessions=1, starts_at=world.event_a.starts_at)
    world.registrations[world.branch_event.id] = make_registration(db, world.branch_event, "吴三多", "13900000003")
    world.questions[world.branch_event.id] = make_question(db, world.branch_event, world.users["branch_admin"])
    from tests.competition.builders import competition_url_values, make_competition

    world.competitions[world.branch_event.id] = competition_url_values(
        make_competition(world.branch_event, world.users["branch_admin"]))
    db.session.commit()
    return world


@pytest.fixture()
def client(app, db):
    return isolated_client(app)


@pytest.mark.parametrize(("viewer", "target", "own"), DIRECTIONS)
def test_every_event_route_answers_404_to_other_organizations(app, client, world, viewer, target, own):
    event = getattr(world, target)
    log_in_as(client, world, viewer)
    wrong = []
    checked = 0
    for rule in event_rules(app):
        for method in methods_of(rule):
            if method not in rule.methods:
                continue  # GET on a POST-only route is 405 for everyone, before any access check
            path = build_path(rule, url_values(world, viewer, event=event))
            response = send(client, method, path)
            checked += 1
            if response.status_code != 404:
                wrong.append(f"{method} {path} ({rule.endpoint}): {response.status_code}")
            elif path.startswith("/api/") and response.get_json(silent=True) is None:
                wrong.append(f"{method} {path} ({rule.endpoint}): 404 but not JSON")
    assert checked >= 10
    assert not wrong, f"{viewer} reaches {target} ({event.title}) instead of 404:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("viewer", "target", "own"), DIRECTIONS)
def test_own_pages_never_mention_another_organizations_event(app, client, world, viewer, target, own):
    """The dashboard, the event list API and every other non-public page (opened on the viewer's own event where
    the route needs one) show the viewer's own events and never the other organization's."""
    event = getattr(world, target)
    own_event = getattr(world, own)
    log_in_as(client, world, viewer)

    dashboard = client.get("/manage/").get_data(as_text=True)
    listed = client.get("/api/v1/events").get_json()["events"]
    assert event.title not in dashboard
    assert event.id not in [e["id"] for e in listed]
    assert event.title not in str(listed)
    # The viewer's own event is there (else an empty page would pass this test).
    assert own_event.title in dashboard
    assert own_event.id in [e["id"] for e in listed]

    leaks = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS or is_public(rule.endpoint) or "GET" not in rule.methods:
            continue
        path = build_path(rule, url_values(world, viewer, event=own_event))
        response = client.get(path)
        assert response.status_code != 500, f"GET {path}: 500"
        if event.title in readable(response):
            leaks.append(f"GET {path} ({rule.endpoint})")
    assert not leaks, f"{viewer}'s pages mention {event.title}:\n" + "\n".join(leaks)


def test_draft_event_public_page_is_404_for_everyone(client, world, factory):
    draft = factory.event(world.org_a, title="甲协会未发布的年会", kind="ceremony", status="draft")
    for role in ("anonymous", "other", "organizer"):
        log_in_as(client, world, role)
        assert client.get(f"/e/{draft.id}").status_code == 404, role
    assert "甲协会未发布的年会" not in client.get("/").get_data(as_text=True)
