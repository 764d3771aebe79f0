"""The check-in staff's scanner page: who may open it and what it hands to its script."""
from __future__ import annotations


def test_checkin_staff_gets_the_scanner_with_sessions_and_api_urls(client, factory, login_as):
    org = factory.organization()
    event = factory.event(org, sessions=2)
    staff = factory.user(organization=org, role="checkin_staff", event=event)
    login_as(staff)
    response = client.get(f"/manage/events/{event.id}/checkin")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for session in event.sessions:
        assert f'<option value="{session.id}">' in html
        assert session.title in html
    assert f'data-url-checkin="/api/v1/events/{event.id}/checkins"' in html
    assert f'data-url-undo="/api/v1/events/{event.id}/checkins/undo"' in html
    assert f'data-url-roster="/api/v1/events/{event.id}/checkins/roster"' in html
    assert f'data-url-search="/api/v1/events/{event.id}/checkins/search"' in html
    assert 'data-csrf="' in html
    assert "/static/vendor/jsqr/jsQR.js" in html
    assert "<script>" not in html and " style=" not in html and "onclick" not in html


def test_organizer_gets_the_scanner_and_a_link_from_the_event(client, factory, login_as):
    org = factory.organization()
    event = factory.event(org)
    login_as(factory.user(organization=org, role="organizer"))
    assert client.get(f"/manage/events/{event.id}/checkin").status_code == 200
    assert f'href="/manage/events/{event.id}/checkin"' in client.get(f"/manage/events/{event.id}").get_data(as_text=True)


def test_judge_of_the_event_is_refused(client, factory, login_as):
    org = factory.organization()
    event = factory.event(org)
    judge = factory.user(organization=org, role="judge", event=event)
    login_as(judge)
    assert client.get(f"/manage/events/{event.id}/checkin").status_code == 403
    assert f'href="/manage/events/{event.id}/checkin"' not in client.get(f"/manage/events/{event.id}").get_data(as_text=True)


def test_staff_of_another_organization_do_not_learn_the_event_exists(client, factory, login_as):
    event = factory.event(factory.organization())
    other = factory.organization()
    login_as(factory.user(organization=other, role="checkin_staff"))
    assert client.get(f"/manage/events/{event.id}/checkin").status_code == 404
    assert client.get("/manage/events/999999/checkin").status_code == 404


def test_anonymous_is_sent_to_log_in(client, factory):
    event = factory.event(factory.organization())
    response = client.get(f"/manage/events/{event.id}/checkin")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
