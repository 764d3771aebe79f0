"""Two (or more) gates scanning the same ticket at the same moment: exactly one "ok", the others
"already_checked_in", one CheckIn row. Real threads, each with its own database session and connection, released
together by a barrier; on SQLite and PostgreSQL.

The service runs inside the same unit-of-work runner as the API (``api.checkins._write``: ``run_write`` plus one
more run after an ``IntegrityError``), so what is tested is what the scanner gets. A second test goes through the
whole API (Bearer tokens, the view, its error handling) from threads.
"""
from __future__ import annotations

import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from accounts.services import create_api_token
from events.models import Event
from registration import checkin
from registration.models import CheckIn, ScanRequest
from registration.services import SignupData, register_participant
from registration.tickets import ticket_token
from tests.conftest import NOW
from tests.test_access import make_user

ROUNDS = 8  # tickets, each scanned by every gate at once


@pytest.fixture()
def setup(db, factory):
    org = factory.organization("海峡信息协会")
    event = factory.event(org, status="published", sessions=1)
    gates = [make_user(db, f"gate{i}@example.org", f"签到{i}", [(org, "checkin_staff", event)]) for i in range(8)]
    registrations = []
    for i in range(ROUNDS):
        registration, _key = register_participant(
            event, SignupData(name=f"参会者{i}", phone=f"139{i:08d}", unit="厦门大学"), now=NOW, ignore_window=True)
        registrations.append(registration)
    db.session.commit()
    return {"event": event, "gates": gates, "tokens": [ticket_token(r) for r in registrations]}


def _scan_together(app, event_id: int, token: str, gate_ids: list[int], nonces: list[str],
                   session_id: int | None = None) -> list[str]:
    """Each gate (thread) scans ``token`` at the same moment; return their answers."""
    from accounts.models import User
    from api.checkins import _write
    from extensions import db

    answers: list[str] = [""] * len(gate_ids)
    barrier = threading.Barrier(len(gate_ids))

    def gate(i: int) -> None:
        with app.app_context():
            actor = db.session.get(User, gate_ids[i])
            db.session.commit()  # end the read transaction: start the race from nothing
            barrier.wait()

            def work():
                outcome = checkin.check_in(db.session.get(Event, event_id), token, session_id=session_id,
                                           nonce=nonces[i], actor=actor, now=NOW)
                db.session.commit()
                return outcome

            try:
                outcome = _write(work)
                answers[i] = outcome.result + (" (replayed)" if outcome.replayed else "")
            except Exception as error:  # noqa: BLE001 - reported by the assertions
                db.session.rollback()
                answers[i] = f"error: {type(error).__name__}: {str(error)[:300]}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=gate, args=(i,)) for i in range(len(gate_ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a gate is still waiting"
    return answers


def _rows(db, *where) -> int:
    db.session.rollback()  # see what the threads committed
    return db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn).where(*where))


@pytest.mark.parametrize("gates", [2, 8])
def test_gates_scanning_the_same_ticket_at_once_check_in_exactly_once(app, db, setup, gates):
    event = setup["event"]
    gate_ids = [u.id for u in setup["gates"][:gates]]
    for n, token in enumerate(setup["tokens"]):
        answers = _scan_together(app, event.id, token, gate_ids, [f"r{n}-g{i}" for i in range(gates)])
        assert Counter(answers) == Counter({"ok": 1, "already_checked_in": gates - 1}), answers
    assert _rows(db) == ROUNDS
    assert _rows(db, CheckIn.active_key.is_not(None)) == ROUNDS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanRequest)) == ROUNDS * gates


def test_the_same_ticket_at_the_event_and_at_a_session_at_once_is_two_check_ins(app, db, setup):
    event = setup["event"]
    session_id = event.sessions[0].id
    gate_ids = [u.id for u in setup["gates"][:4]]
    token = setup["tokens"][0]
    at_event = _scan_together(app, event.id, token, gate_ids, [f"e{i}" for i in range(4)])
    at_session = _scan_together(app, event.id, token, gate_ids, [f"s{i}" for i in range(4)], session_id=session_id)
    assert Counter(at_event) == Counter(at_session) == Counter({"ok": 1, "already_checked_in": 3})
    assert _rows(db) == 2


def test_the_same_nonce_sent_twice_at_once_gets_one_answer_and_one_check_in(app, db, setup):
    """A phone retries while its first request is still on its way: both get the first answer ("ok")."""
    event = setup["event"]
    gate = setup["gates"][0].id
    for n, token in enumerate(setup["tokens"]):
        answers = _scan_together(app, event.id, token, [gate, gate], [f"same-{n}", f"same-{n}"])
        assert sorted(answers) == ["ok", "ok (replayed)"], answers
    assert _rows(db) == ROUNDS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanRequest)) == ROUNDS


def test_gates_posting_to_the_api_at_once_get_one_ok(app, db, setup):
    """The same race through the HTTP API: each gate its own client and Bearer token, no 500, one check-in."""
    event_id = setup["event"].id
    secrets = [create_api_token(user, name="扫码枪", now=NOW)[1] for user in setup["gates"][:4]]
    db.session.commit()
    token = setup["tokens"][0]
    answers: list = [None] * len(secrets)
    barrier = threading.Barrier(len(secrets))

    def gate(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/events/{event_id}/checkins",
                               json={"token": token, "session_id": None, "nonce": f"http-{i}", "scanned_at": None},
                               headers={"Authorization": f"Bearer {secrets[i]}"})
        answers[i] = (response.status_code, (response.get_json() or {}).get("result"))

    threads = [threading.Thread(target=gate, args=(i,)) for i in range(len(secrets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert Counter(answers) == Counter({(200, "ok"): 1, (200, "already_checked_in"): 3}), answers
    assert _rows(db) == 1
