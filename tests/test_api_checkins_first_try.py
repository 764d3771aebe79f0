"""The scanner's API on its fast path (see ``api.checkins.create_checkin`` and ``registration.checkin.check_in``):
a first try does not look its nonce up, a used nonce fails on its unique constraint and the retry looks it up, and a
refusal looks it up before it is kept. The answers must be exactly those of the look-up-first order: the first answer
of a nonce wins whatever happened since, a nonce sent with another request is ``nonce_reused``. And the work per scan
stays small: a fresh scan is five statements, and a forged ticket never reaches the sign-ups.
"""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from events.models import EventState
from registration.models import CheckIn, RegistrationState, ScanFailure, ScanRequest
from registration.tickets import ticket_token
from tests.test_api_checkins import Api, api, client, error_code  # noqa: F401  (fixtures)


@contextmanager
def statements(db):
    """The SQL statements the app sends meanwhile (BEGIN/COMMIT are not statements here)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_a_retry_after_the_check_in_was_undone_gets_the_first_ok_and_checks_nobody_in(api):
    first = api.scan(nonce="door-1")
    assert first.get_json()["result"] == "ok"
    assert api.post({}, suffix="/undo").status_code == 200

    again = api.scan(nonce="door-1")  # the first try inserts a new check-in; the used nonce rolls it back

    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.count(CheckIn, CheckIn.active_key.is_not(None)) == 0
    assert api.count(CheckIn) == 1 and api.count(ScanRequest) == 1


def test_a_retry_after_the_event_was_archived_gets_its_first_answer(api):
    first = api.scan(nonce="before-archive")
    api.event.status = EventState.ARCHIVED
    api.db.session.commit()

    again = api.scan(nonce="before-archive")

    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert error_code(api.scan(nonce="after-archive"), 409) == "archived"
    assert api.count(ScanFailure) == 0


def test_a_refusal_retried_after_the_sign_up_was_approved_gets_the_first_refusal(api):
    token = ticket_token(api.pending)
    first = api.scan(token, nonce="too-early")
    assert error_code(first, 409) == "not_approved"
    api.pending.status = RegistrationState.APPROVED
    api.db.session.commit()

    again = api.scan(token, nonce="too-early")

    assert again.status_code == 409 and again.get_data() == first.get_data()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert api.count(ScanFailure) == 1 and api.count(CheckIn) == 0
    assert api.scan(token).get_json()["result"] == "ok"  # a new scan of the approved sign-up


def test_a_nonce_of_a_check_in_sent_with_a_forged_ticket_is_nonce_reused_and_not_kept(api):
    api.scan(nonce="mine")
    forged = api.token[:-3] + ("AAA" if api.token[-3:] != "AAA" else "BBB")

    assert error_code(api.scan(forged, nonce="mine"), 409) == "nonce_reused"
    assert api.count(ScanFailure) == 0 and api.count(ScanRequest) == 1


def test_a_nonce_of_a_refusal_sent_with_a_good_ticket_is_nonce_reused_and_checks_nobody_in(api):
    error_code(api.scan(ticket_token(api.pending), nonce="shared"), 409)

    assert error_code(api.scan(nonce="shared"), 409) == "nonce_reused"
    assert api.count(CheckIn) == 0 and api.count(ScanFailure) == 1


def test_a_check_in_by_hand_retried_with_its_nonce_is_replayed(api):
    body = {"registration_id": api.approved.id, "session_id": None, "nonce": "hand-9"}
    first = api.post(body)
    again = api.post(body)
    assert first.get_json()["result"] == "ok"
    assert again.get_data() == first.get_data() and again.headers.get("Idempotent-Replayed") == "true"
    assert api.count(CheckIn) == 1


def test_a_fresh_scan_is_five_statements_and_a_repeat_four(api):
    api.scan()  # the token's first use is written down (last_used_at); later ones within the minute are not
    other = api.sign_up(api.event, "周四海", "13900004444", "集美大学")
    api.db.session.commit()
    token = ticket_token(other)
    api.url()  # the test's own objects are loaded now, not counted below

    with statements(api.db) as fresh:
        assert api.scan(token).get_json()["result"] == "ok"
    with statements(api.db) as repeat:
        assert api.scan(token).get_json()["result"] == "already_checked_in"

    # the token with its user and memberships, the event, the sign-up locked with its check-in, two inserts
    assert len(fresh) == 5, "\n".join(s[:150] for s in fresh)
    assert len(repeat) == 4, repeat  # no check-in to insert
    assert sum("FOR UPDATE" in s for s in fresh) == (1 if api.db.engine.dialect.name == "postgresql" else 0)


def test_a_forged_ticket_is_refused_before_the_sign_ups_are_read(api):
    forged = api.token[:14] + ("A" if api.token[14] != "A" else "B") + api.token[15:]
    with statements(api.db) as seen:
        assert error_code(api.scan(forged), 400) == "invalid_token"
    assert not [s for s in seen if "registrations" in s and not s.startswith("INSERT INTO scan_failures")], seen
    assert api.count(ScanFailure) == 1
