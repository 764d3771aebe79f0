"""A sign-up rush through a real HTTP server: 50 people, each with their own browser session (cookie jar and CSRF
token), submit the public sign-up form at the same moment. Seats never oversell, nobody is lost, nobody gets a 500.

Unlike tests/registration/test_capacity_rush.py (the service, called from threads) this goes through everything a
participant's request goes through: the WSGI server, CSRF, the rate limiter, the form, the view's unit of work
and its error handling. Runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from datetime import timedelta
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import (
    HTTPCookieProcessor,
    HTTPRedirectHandler,
    Request,
    build_opener,
)

import pytest
import sqlalchemy as sa

from core.types import utcnow
from events.models import Event, EventSession
from registration.models import Registration, RegistrationSettings

RUSH = 50
SEATS = 20


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def _http_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    server.socket.listen(256)  # all participants connect at once: no refused connection from a short backlog
    thread = threading.Thread(target=server.serve_forever, name="saihui-rush-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture()
def server(_http_server, app, db):
    """Base URL of the app served over HTTP, with the per-address sign-up limit raised: every simulated
    participant comes from 127.0.0.1."""
    previous = app.config.get("SIGNUP_RATE_LIMIT", None)
    app.config["SIGNUP_RATE_LIMIT"] = "10000 per minute"
    yield _http_server
    if previous is None:
        app.config.pop("SIGNUP_RATE_LIMIT", None)
    else:
        app.config["SIGNUP_RATE_LIMIT"] = previous


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer we check


class Participant:
    """One person's browser: its own cookie jar, the CSRF token of the form it opened, Chinese as language."""

    def __init__(self, base: str):
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirect())
        self.token = ""

    def _send(self, request: Request) -> tuple[int, dict, str]:
        request.add_header("Accept-Language", "zh-CN,zh;q=0.9")
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8")
        except HTTPError as error:
            return error.code, dict(error.headers), error.read().decode("utf-8", "replace")

    def open_form(self, path: str) -> None:
        status, _headers, html = self._send(Request(self.base + path))
        assert status == 200, html[:500]
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert match, "the sign-up form has no CSRF token"
        self.token = match.group(1)

    def submit(self, path: str, fields: list[tuple[str, str]]) -> tuple[int, dict, str]:
        body = urlencode([("csrf_token", self.token), *fields]).encode()
        return self._send(Request(self.base + path, data=body, method="POST",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}))


def _rush(base: str, event_id: int, n: int = RUSH, extra: list[tuple[str, str]] = ()) -> list[tuple[int, dict, str]]:
    """``n`` participants open the form, wait for each other, then all submit at once (distinct phones)."""
    path = f"/e/{event_id}/register"
    participants = [Participant(base) for _ in range(n)]
    for p in participants:
        p.open_form(path)
    barrier = threading.Barrier(n)
    answers: list = [None] * n

    def submit(i: int) -> None:
        fields = [("name", f"参会者{i:02d}"), ("phone", f"139{i:08d}"), ("unit", "厦门城市职业学院"), *extra]
        barrier.wait()
        try:
            answers[i] = participants[i].submit(path, fields)
        except Exception as error:  # noqa: BLE001 - reported by the assertions below
            answers[i] = (f"{type(error).__name__}: {error}", {}, "")

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not any(t.is_alive() for t in threads), "a participant is still waiting for an answer"
    return answers


def _open_event(factory, **kwargs) -> Event:
    """A published event whose sign-up is open now (times relative to the real clock: the view reads it)."""
    org = factory.organization()
    return factory.event(org, status="published", starts_at=utcnow() + timedelta(days=30), **kwargs)


def _statuses(db, event_id: int) -> Counter:
    db.session.rollback()  # see what the server's threads committed
    return Counter(s.value for s in db.session.scalars(
        sa.select(Registration.status).where(Registration.event_id == event_id)))


@pytest.mark.parametrize("requires_approval, holding", [(False, "approved"), (True, "pending")])
def test_fifty_people_submit_the_form_at_once_for_twenty_seats(server, db, factory, requires_approval, holding):
    event = _open_event(factory, capacity=SEATS, requires_approval=requires_approval)

    answers = _rush(server, event.id)

    codes = Counter(status for status, _headers, _body in answers)
    assert codes == Counter({302: RUSH}), codes  # every sign-up taken: no 500, no 409, no lock error
    links = {urlsplit(headers["Location"]).path for _status, headers, _body in answers}
    assert len(links) == RUSH and all(link.startswith("/r/") for link in links)  # each their own manage link
    assert _statuses(db, event.id) == Counter({holding: SEATS, "waitlisted": RUSH - SEATS})
    assert db.session.get(Event, event.id).seats_taken == SEATS


def test_the_manage_links_of_a_rush_show_each_persons_own_outcome(server, db, factory):
    event = _open_event(factory, capacity=SEATS)
    answers = _rush(server, event.id)

    tickets, positions = 0, []
    for _status, headers, _body in answers:
        status, _headers, page = Participant(server)._send(Request(server + urlsplit(headers["Location"]).path))
        assert status == 200, page[:300]
        waiting = re.search(r"您在候补名单中排第 (\d+) 位", page)
        if waiting:
            positions.append(int(waiting.group(1)))
        else:
            assert 'class="ticket-qr' in page  # approved: the ticket is on the page
            tickets += 1
    assert tickets == SEATS
    assert sorted(positions) == list(range(1, RUSH - SEATS + 1))  # a distinct place in the queue for each


def test_the_last_seat_of_a_session_goes_to_exactly_one_and_the_others_are_told(server, db, factory):
    event = _open_event(factory, sessions=1)
    db.session.add(RegistrationSettings(event_id=event.id, allow_session_choice=True))
    session = db.session.scalar(sa.select(EventSession).where(EventSession.event_id == event.id))
    session.capacity, session.seats_taken = 5, 4  # one seat left
    db.session.commit()

    answers = _rush(server, event.id, extra=[("sessions", str(session.id))])

    codes = Counter(status for status, _headers, _body in answers)
    assert codes == Counter({302: 1, 409: RUSH - 1}), codes
    for status, _headers, body in answers:
        if status == 409:  # the form again, with the reason at the session choice
            assert f"“{session.title}”名额已满，请选择其他分会场。" in body
            assert 'name="sessions"' in body
    assert _statuses(db, event.id) == Counter({"approved": 1})
    assert db.session.get(EventSession, session.id).seats_taken == 5
    assert db.session.get(Event, event.id).seats_taken == 1  # the refused sign-ups gave their event seat back
