"""The pieces of ``bench/checkin.py`` work: the seeded event, the plan of scans, the checks of answers and of the
database, the phase arithmetic, on the test database through the test client; and, on PostgreSQL, a tiny run of the
whole script (gunicorn included) ends with a ``BENCH checkin`` line without errors."""
from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from bench import checkin as bench
from bench._common import Phase, Tally, bench_line
from registration.models import CheckIn, Registration, RegistrationState, ScanFailure, ScanRequest
from registration.tickets import ticket_keys
from registration.tokens import TokenError, parse_ticket
from tests.conftest import IS_POSTGRES, NOW, ROOT


@pytest.fixture()
def seeded(db):
    return bench.seed(24, now=NOW)


def _send(client):
    def send(path, body, headers):
        response = client.post(path, json=body, headers=headers)
        return response.status_code, response.headers.get("Idempotent-Replayed") == "true", response.get_data()
    return send


def test_the_seeded_sign_ups_are_approved_with_genuine_tickets(db, seeded):
    assert len(seeded.tickets) == 24
    rows = db.session.scalars(sa.select(Registration).where(Registration.event_id == seeded.event_id)).all()
    assert {r.status for r in rows} == {RegistrationState.APPROVED}
    keys = ticket_keys()
    for registration_id, token in seeded.tickets:
        claims = parse_ticket(token, keys=keys)
        assert (claims.event_id, claims.registration_id) == (seeded.event_id, registration_id)


def test_the_plan_gives_each_client_its_own_sign_ups_and_the_share_of_each_kind(seeded):
    plans = bench.plan_scans(seeded.tickets, clients=2, scans=10, mix={"fresh": 0.6, "repeat": 0.2, "retry": 0.1,
                                                                       "forged": 0.1})
    fresh = [s.registration_id for plan in plans for s in plan if s.kind == "fresh"]
    assert len(fresh) == len(set(fresh)) == 12  # nobody is checked in "fresh" twice, by any client
    keys = ticket_keys()
    for plan in plans:
        assert Counter(s.kind for s in plan) == {"fresh": 6, "repeat": 2, "retry": 1, "forged": 1}
        assert plan[0].kind == "fresh"
        assert len({s.nonce for s in plan if s.kind != "retry"}) == 9  # a new nonce for every scan but retries
        for index, scan in enumerate(plan):
            earlier = plan[:index]
            if scan.kind == "repeat":
                assert scan.registration_id in {s.registration_id for s in earlier if s.kind == "fresh"}
            if scan.kind == "retry":
                original = plan[scan.original]
                assert scan.original < index and (original.token, original.nonce) == (scan.token, scan.nonce)
            if scan.kind == "forged":
                with pytest.raises(TokenError) as refused:
                    parse_ticket(scan.token, keys=keys)
                assert refused.value.code == "forged"


def test_forging_changes_one_character_of_the_mac_and_never_the_last(seeded):
    token = seeded.tickets[0][1]
    rng = random.Random(1)
    for _ in range(200):
        forged = bench.forge(token, rng)
        changed = [i for i, (a, b) in enumerate(zip(token, forged)) if a != b]
        assert len(forged) == len(token) and len(changed) == 1
        assert len(token) - 13 <= changed[0] < len(token) - 1


def test_a_tiny_run_through_the_api_answers_every_scan_as_expected(db, client, seeded):
    plans = bench.plan_scans(seeded.tickets, clients=2, scans=10, mix={"fresh": 0.6, "repeat": 0.2, "retry": 0.1,
                                                                       "forged": 0.1})
    path = bench.checkins_path(seeded.event_id)
    tallies = [bench.run_scans(_send(client), path, seeded.api_token, plan) for plan in plans]

    assert [t.errors for t in tallies] == [0, 0], [t.problems for t in tallies]
    assert sum((t.statuses for t in tallies), Counter()) == {200: 18, 400: 2}
    assert set(tallies[0].by_label) == {"fresh", "repeat", "retry", "forged"}
    db.session.rollback()
    assert bench.check_database(db.session, seeded.event_id, plans) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 12
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanFailure)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanRequest)) == 18


def test_the_database_check_sees_a_missing_or_doubled_check_in(db, client, seeded):
    plans = bench.plan_scans(seeded.tickets, clients=1, scans=4, mix={"fresh": 1.0})
    bench.run_scans(_send(client), bench.checkins_path(seeded.event_id), seeded.api_token, plans[0])
    db.session.rollback()
    first = db.session.scalar(sa.select(CheckIn).order_by(CheckIn.id))
    db.session.add(CheckIn(event_id=first.event_id, registration_id=first.registration_id, session_key=0,
                           active_key=None, checked_in_at=NOW, recorded_at=NOW, source=first.source,
                           nonce=plans[0][1].nonce))
    db.session.delete(db.session.scalar(sa.select(CheckIn).where(CheckIn.nonce == plans[0][1].nonce,
                                                                 CheckIn.active_key.is_not(None))))
    db.session.commit()
    problems = bench.check_database(db.session, seeded.event_id, plans)
    assert any("more than once" in p for p in problems), problems
    assert any(p.startswith("check-ins of") for p in problems), problems
    assert "a check-in was undone" in problems


@pytest.mark.parametrize(
    "kind, status, replayed, body",
    [
        ("fresh", 200, False, b'{"result": "already_checked_in", "registration": {"id": 7}, "checked_in_at": "x"}'),
        ("fresh", 200, False, b'{"result": "ok", "registration": {"id": 8}, "checked_in_at": "x"}'),
        ("fresh", 500, False, b"<html>Internal Server Error</html>"),
        ("repeat", 200, True, b'{"result": "already_checked_in", "registration": {"id": 7}, "checked_in_at": "x"}'),
        ("forged", 404, False, b'{"error": {"code": "not_found"}}'),
        ("forged", 200, False, b'{"result": "ok", "registration": {"id": 7}, "checked_in_at": "x"}'),
    ],
)
def test_an_unexpected_answer_is_an_error(kind, status, replayed, body):
    scan = bench.Scan(kind, "T" * 29, "n", 7 if kind != "forged" else None)
    assert bench.check_answer(scan, status, replayed, body, None) is not None


def test_expected_answers_pass_and_a_retry_must_be_the_first_answer_replayed():
    ok = b'{"result": "ok", "registration": {"id": 7}, "checked_in_at": "2026-11-24T01:00:00+00:00"}'
    assert bench.check_answer(bench.Scan("fresh", "T", "n", 7), 200, False, ok, None) is None
    retry = bench.Scan("retry", "T", "n", 7, original=0)
    assert bench.check_answer(retry, 200, True, ok, (200, ok)) is None
    assert bench.check_answer(retry, 200, False, ok, (200, ok)) is not None  # not marked replayed
    other = ok.replace(b"01:00", b"02:00")
    assert bench.check_answer(retry, 200, True, other, (200, ok)) is not None


def test_phase_numbers_and_the_bench_line():
    phase = Phase("checkin")
    tally = Tally()
    for status, problem in ((200, None), (200, None), (400, None), (500, "boom")):
        tally.record(time.perf_counter() - 0.010, status, problem, label="fresh")
    phase.started = time.perf_counter() - 2.0
    phase.add(tally)
    assert phase.requests == 4 and phase.errors == 1
    assert 1.4 < phase.rate < 1.6  # three good answers in about two seconds
    assert all(9 < ms < 100 for ms in phase.latencies_ms)
    text = "\n".join(phase.summary())
    assert "errors 1" in text and "boom" in text and "fresh (4)" in text
    line = bench_line("checkin", rate=123.456, baseline_rate=400.0, ratio=0.31, p50_ms=40.04, p99_ms=95.5, errors=0)
    assert line == "BENCH checkin rate=123.5 baseline_rate=400.0 ratio=0.31 p50_ms=40.0 p99_ms=95.5 errors=0"


@pytest.mark.skipif(not IS_POSTGRES, reason="the benchmark serves the app with gunicorn on PostgreSQL")
def test_a_tiny_run_of_the_whole_script_ends_with_its_bench_line():
    server = os.environ["TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    name = f"saihui_bench_checkin_smoke_{os.getpid()}"
    env = {**os.environ, "BENCH_PG_URL": server}
    try:
        done = subprocess.run(
            [sys.executable, "bench/checkin.py", "--registrations", "80", "--clients", "3", "--scans", "20",
             "--workers", "2", "--database", name],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    finally:
        drop_database_at(server, name)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"BENCH checkin rate=[\d.]+ baseline_rate=[\d.]+ ratio=[\d.]+ p50_ms=[\d.]+ p99_ms=[\d.]+ "
                        r"errors=0", last), output[-3000:]
    assert re.search(r"^checkin: 60 requests .* answers \{200: \d+, 400: \d+\}, errors 0", done.stdout, re.M), output
    assert (ROOT / "instance" / f"{name}-access.log").exists()
    (ROOT / "instance" / f"{name}-access.log").unlink()


def drop_database_at(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
