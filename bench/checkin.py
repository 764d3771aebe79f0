"""Check-in at the door: ten busy gates scan tickets through the JSON API as fast as answers come.

    .venv/bin/python bench/checkin.py            (from the repository root; about 2 minutes)

What it does, on a fresh PostgreSQL database ``saihui_bench_checkin`` (dropped and recreated; left behind for
inspection):

1. ``flask db upgrade`` (the real migrations), then through the services: an organization, an organizer, a published
   forum and a check-in staff member of it with a personal API token (made as the profile page makes it); and
   through the models, ``--registrations`` approved sign-ups (5,000 by default), each with its real signed ticket
   token (``registration.tickets.ticket_token``, the QR code's text).
2. gunicorn with 4 sync workers serving ``bench.wsgi:app`` (production settings) with its access log written to a
   file, as a production server does; the app's own records stay on: every check-in writes its ``CheckIn`` row and
   the answer under the scan's nonce (``ScanRequest``), every refused scan a ``ScanFailure``, the baseline an
   ``AuditEntry``.
3. ``--clients`` simulated scanners (threads, 20 by default). Each opens the login page once (session cookie and
   CSRF token, for the baseline), and warms up (2 check-ins of sign-ups kept for it and 2 baseline posts; not
   measured).
4. Baseline phase: every client POSTs ``--scans`` times (250 by default), back to back, to ``/_bench/baseline``, the
   bare endpoint of ``registration_burst.py`` (same stack, CSRF, one row inserted and committed, 302).
5. Check-in phase: every client POSTs ``--scans`` times to ``/api/v1/events/<id>/checkins`` with
   ``Authorization: Bearer <the staff member's token>`` and ``{"token", "session_id": null, "nonce", "scanned_at":
   null}``, a new random nonce each time. The scans of a client, in a shuffled order (seeded):

   ========  =====  ======================================================  =================================
   kind      share  what                                                    expected answer
   ========  =====  ======================================================  =================================
   fresh     80 %   a ticket not scanned before (each sign-up at most once)  200 ``ok``, that sign-up
   repeat    12 %   a ticket this client checked in earlier, new nonce       200 ``already_checked_in``
   retry      3 %   an earlier request sent again with the same nonce        the first answer, replayed
   forged     5 %   a real ticket with one character of its MAC altered      400 ``invalid_token``
   ========  =====  ======================================================  =================================

   Any other answer (any 5xx, an unexpected status or body) or a transport error is an error.
6. In the database: one standing check-in per ``ok``, none for anyone else, one failure per forged scan, one stored
   answer per nonce. Any mismatch is added to ``errors``.

``rate`` and ``baseline_rate``: requests answered as expected per second of wall time of the phase; ``ratio`` =
rate / baseline_rate; ``p50_ms``, ``p99_ms``: latency of the check-in requests (all kinds) as the scanner sees it,
waiting for a free worker included. With 20 clients sending back to back, Little's law ties them: the mean latency
is about 20 / rate seconds. The last line is::

    BENCH checkin rate=… baseline_rate=… ratio=… p50_ms=… p99_ms=… errors=…

Goals (issue 4): ratio >= 0.35 and p99 < 100 ms at 20 concurrent clients (and errors = 0).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/checkin.py` works too

from bench._common import (  # noqa: E402
    ROOT,
    Browser,
    Gunicorn,
    Phase,
    Tally,
    bench_line,
    percentile,
    recreate_database,
    run_closed_loop,
    server_environment,
    upgrade_database,
)

DATABASE = "saihui_bench_checkin"
BASELINE_PATH = "/_bench/baseline"
MIX = {"fresh": 0.80, "repeat": 0.12, "retry": 0.03, "forged": 0.05}
WARMUP_SCANS = 2  # per client, on sign-ups kept for the warm-up
STAFF_LOGIN = "gate1@bench.example.org"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


# ------------------------------------------------------------------ the event and its sign-ups


@dataclass
class Seeded:
    event_id: int
    api_token: str  # the staff member's personal API token (the secret, as the profile page shows it once)
    tickets: list[tuple[int, str]]  # (registration id, ticket token) of every approved sign-up, in id order


def seed(registrations: int, *, now, password: str = "bench-staff-pw-2026") -> Seeded:
    """In the current app context: through the services, an organization, an organizer, a published forum and a
    check-in staff member of it with an API token; then ``registrations`` approved sign-ups written as the model
    rows that ``register_participant`` writes for an individual who takes a seat of an event without approval (in
    bulk: one by one through the service they take a minute or more on a busy 2-core machine). Commits."""
    import hashlib
    import secrets

    import sqlalchemy as sa

    from accounts.models import MembershipRole, Organization
    from accounts.services import add_membership, create_api_token, create_user
    from demo.people import people, units
    from events.models import Event, EventKind
    from events.services import EventData, create_event, publish_event
    from extensions import db
    from registration.models import Registration, RegistrationKind, RegistrationState
    from registration.tickets import ticket_token

    org = Organization(name="厦门市信息化协会")
    db.session.add(org)
    db.session.flush()
    organizer = create_user(login="organizer@bench.example.org", name="林晓燕", password=password)
    add_membership(organizer, org, MembershipRole.ORGANIZER)
    event = create_event(org, EventData(
        kind=EventKind.FORUM, title="海峡两岸信息化论坛 2026", venue="厦门国际会议中心", timezone="Asia/Shanghai",
        starts_at=now + timedelta(minutes=30), ends_at=now + timedelta(hours=8),
        registration_opens_at=now - timedelta(days=20), registration_closes_at=now - timedelta(hours=1),
    ), actor=organizer, now=now)
    publish_event(event, actor=organizer, now=now)
    staff = create_user(login=STAFF_LOGIN, name="陈签到", password=password)
    add_membership(staff, org, MembershipRole.CHECKIN_STAFF, event=event)
    _token_row, secret = create_api_token(staff, name="1号门扫码枪", now=now)
    db.session.commit()

    signed_up = now - timedelta(days=3)
    unit_names = units()
    made = []
    for i, (name, phone) in enumerate(people(registrations, seed=4)):
        made.append(Registration(
            event_id=event.id, kind=RegistrationKind.INDIVIDUAL, status=RegistrationState.APPROVED, holds_seat=True,
            name=name, contact_name=name, phone=phone, unit=unit_names[i % len(unit_names)], answers={},
            source="web", dedupe_phone=phone,
            manage_key_hash=hashlib.sha256(secrets.token_urlsafe(18).encode("ascii")).hexdigest(),
            created_at=signed_up, updated_at=signed_up, decided_at=signed_up,
        ))
        if len(made) % 1000 == 0:
            db.session.add_all(made[-1000:])
            db.session.flush()
    db.session.add_all(made[len(made) // 1000 * 1000:])
    db.session.flush()
    db.session.execute(sa.update(Event).where(Event.id == event.id).values(seats_taken=Event.seats_taken + len(made)))
    db.session.commit()
    return Seeded(event_id=event.id, api_token=secret, tickets=[(r.id, ticket_token(r)) for r in made])


# ------------------------------------------------------------------ what each scanner sends


@dataclass
class Scan:
    kind: str  # fresh / repeat / retry / forged (see the module docs)
    token: str
    nonce: str
    registration_id: int | None  # the sign-up the ticket names (None: forged)
    original: int | None = None  # retry: the index of the scan it repeats, in the same client's list

    def body(self) -> dict:
        return {"token": self.token, "session_id": None, "nonce": self.nonce, "scanned_at": None}


def forge(token: str, rng: random.Random) -> str:
    """``token`` with one character of its MAC (the last 13 characters) changed: still well-formed, never valid."""
    position = rng.randrange(len(token) - 13, len(token) - 1)  # not the last one, whose low bits are unused
    replacement = rng.choice([c for c in BASE32 if c != token[position]])
    return token[:position] + replacement + token[position + 1:]


def kinds_for(scans: int, mix: dict[str, float]) -> dict[str, int]:
    """How many scans of each kind a client makes: the shares of ``mix``, the rounding left to ``fresh``."""
    counts = {kind: int(round(scans * share)) for kind, share in mix.items() if kind != "fresh"}
    counts["fresh"] = scans - sum(counts.values())
    if counts["fresh"] < 1:
        raise ValueError("every client needs at least one fresh scan")
    return counts


def plan_scans(tickets: list[tuple[int, str]], clients: int, scans: int, *, seed: int = 4,
               mix: dict[str, float] = MIX) -> list[list[Scan]]:
    """Each client's scans, in order. Client ``c`` checks in its own share of the tickets (so no two clients ever
    scan the same sign-up, and every fresh scan must answer ``ok``); repeats and retries refer to scans the same
    client made earlier, so their answer is known whatever the other clients do."""
    counts = kinds_for(scans, mix)
    if counts["fresh"] * clients > len(tickets):
        raise ValueError(f"{counts['fresh'] * clients} fresh scans need as many sign-ups; only {len(tickets)}")
    rng = random.Random(seed)
    plans = []
    for c in range(clients):
        own = iter(tickets[c::clients])
        order = [kind for kind, n in counts.items() for _ in range(n)]
        rng.shuffle(order)
        first_fresh = order.index("fresh")
        order[0], order[first_fresh] = order[first_fresh], order[0]  # repeats and retries need an earlier scan
        plan: list[Scan] = []
        for kind in order:
            if kind == "fresh":
                registration_id, token = next(own)
                plan.append(Scan("fresh", token, _nonce(rng), registration_id))
            elif kind == "repeat":
                earlier = rng.choice([s for s in plan if s.kind == "fresh"])
                plan.append(Scan("repeat", earlier.token, _nonce(rng), earlier.registration_id))
            elif kind == "retry":
                index = rng.choice([i for i, s in enumerate(plan) if s.kind != "retry"])
                earlier = plan[index]
                plan.append(Scan("retry", earlier.token, earlier.nonce, earlier.registration_id, original=index))
            else:
                registration_id, token = rng.choice(tickets)
                plan.append(Scan("forged", forge(token, rng), _nonce(rng), None))
        plans.append(plan)
    return plans


def _nonce(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))  # as a phone's crypto.randomUUID() makes them


# ------------------------------------------------------------------ what each answer must be


def check_answer(scan: Scan, status: int, replayed: bool, body: bytes, first: tuple[int, bytes] | None) -> str | None:
    """None when the answer is the expected one, else what is wrong. ``first``: for a retry, the (status, body) the
    original request got."""
    try:
        data = json.loads(body)
    except ValueError:
        return f"{scan.kind}: {status}, not JSON: {body[:200]!r}"
    if scan.kind == "retry":
        if first is None:
            return "retry of a request that got no answer"
        if (status, data) != (first[0], json.loads(first[1])) or not replayed:
            return f"retry: {status} {body[:200]!r} (replayed={replayed}), first answer {first[0]} {first[1][:200]!r}"
        return None
    if scan.kind == "forged":
        if status == 400 and isinstance(data, dict) and data.get("error", {}).get("code") == "invalid_token":
            return None
        return f"forged: {status} {body[:200]!r}"
    expected = "ok" if scan.kind == "fresh" else "already_checked_in"
    if (status == 200 and isinstance(data, dict) and data.get("result") == expected and not replayed
            and (data.get("registration") or {}).get("id") == scan.registration_id and data.get("checked_in_at")):
        return None
    return f"{scan.kind} of #{scan.registration_id}: {status} {body[:200]!r}"


Send = Callable[[str, dict, dict], tuple[int, bool, bytes]]  # (path, JSON body, headers) -> (status, replayed, body)


def run_scans(send: Send, path: str, api_token: str, plan: list[Scan], tally: Tally | None = None) -> Tally:
    """Send a client's scans one after the other through ``send``; record each latency and answer in the tally."""
    tally = tally if tally is not None else Tally()
    headers = {"Authorization": f"Bearer {api_token}", "Accept-Language": "zh-CN,zh;q=0.9"}
    answers: dict[int, tuple[int, bytes]] = {}
    for index, scan in enumerate(plan):
        started = time.perf_counter()
        try:
            status, replayed, body = send(path, scan.body(), headers)
            ended = time.perf_counter()
        except OSError as error:
            tally.record(started, type(error).__name__, f"{scan.kind}: {type(error).__name__}: {error}",
                         label=scan.kind)
            continue
        first = answers.get(scan.original) if scan.original is not None else None
        tally.record(started, status, check_answer(scan, status, replayed, body, first), label=scan.kind, ended=ended)
        answers[index] = (status, body)
    return tally


def checkins_path(event_id: int) -> str:
    return f"/api/v1/events/{event_id}/checkins"


# ------------------------------------------------------------------ what the database must hold


def check_database(session, event_id: int, plans: list[list[Scan]]) -> list[str]:
    """Compare the event's check-ins, failures and stored answers with the scans sent (all answered: a request lost
    in transport is already an error, and may show here once more). ``session``: a SQLAlchemy session."""
    import sqlalchemy as sa

    from registration.models import CheckIn, ScanFailure, ScanRequest

    sent = [scan for plan in plans for scan in plan]
    fresh = {s.registration_id for s in sent if s.kind == "fresh"}
    forged = {s.nonce for s in sent if s.kind == "forged"}
    nonces = {s.nonce for s in sent}
    rows = session.execute(sa.select(CheckIn.registration_id, CheckIn.nonce, CheckIn.active_key)
                           .where(CheckIn.event_id == event_id)).all()
    problems = []
    by_registration = Counter(r.registration_id for r in rows if r.nonce in nonces)
    if set(by_registration) != fresh:
        problems.append(f"check-ins of {len(by_registration)} sign-ups, {len(fresh)} fresh scans answered")
    doubled = [rid for rid, n in by_registration.items() if n > 1]
    if doubled:
        problems.append(f"{len(doubled)} sign-ups checked in more than once, e.g. #{doubled[0]}")
    if any(r.active_key is None for r in rows):
        problems.append("a check-in was undone")
    failures = set(session.scalars(sa.select(ScanFailure.nonce).where(ScanFailure.event_id == event_id)))
    if failures & nonces != forged:
        problems.append(f"{len(failures & nonces)} failed scans recorded, {len(forged)} forged scans answered")
    stored = set(session.scalars(sa.select(ScanRequest.nonce).where(ScanRequest.event_id == event_id)))
    if not nonces <= stored:
        problems.append(f"{len(nonces - stored)} answered nonces have no stored answer")
    return problems


# ------------------------------------------------------------------ the run


def set_up(env: dict, registrations: int, warmup: int) -> Seeded:
    """The seeded event on the benchmark's database, made in this process as the app makes it."""
    os.environ.update(env)  # read by config when it is first imported, just below
    from app import create_app
    from config import ProductionConfig
    from core.types import utcnow
    from extensions import db

    app = create_app(ProductionConfig)
    with app.app_context():
        seeded = seed(registrations + warmup, now=utcnow().replace(microsecond=0))
        db.session.remove()
        db.engine.dispose()
    return seeded


def run(args) -> int:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} before the run (other work skews the numbers)")
    print(f"creating database {args.database} …", flush=True)
    db_url = recreate_database(args.database)
    env = server_environment(db_url)
    upgrade_database(env)
    started = time.perf_counter()
    warmup = WARMUP_SCANS * args.clients
    seeded = set_up(env, args.registrations, warmup)
    print(f"seeded {len(seeded.tickets)} approved sign-ups ({warmup} for the warm-up) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    warmup_tickets, tickets = seeded.tickets[:warmup], seeded.tickets[warmup:]
    plans = plan_scans(tickets, args.clients, args.scans)
    warmups = plan_scans(warmup_tickets, args.clients, WARMUP_SCANS, seed=5, mix={"fresh": 1.0})
    path = checkins_path(seeded.event_id)

    @dataclass
    class Client:
        browser: Browser  # the baseline's: cookies and CSRF token, like a browser
        scanner: Browser  # the scanner's: Bearer token, JSON, no cookies

    def send_with(scanner: Browser) -> Send:
        def send(path_: str, body: dict, headers: dict) -> tuple[int, bool, bytes]:
            status, response, data = scanner.post_json(path_, body, headers)
            return status, response.headers.get("Idempotent-Replayed") == "true", data
        return send

    def prepare(i: int) -> Client:
        client = Client(Browser(server.host), Browser(server.host, keep_cookies=False))
        status = client.browser.open_form("/login")
        if status != 200 or not client.browser.csrf_token:
            raise RuntimeError(f"the login page answered {status} without a CSRF token")
        warm = run_scans(send_with(client.scanner), path, seeded.api_token, warmups[i])
        if warm.errors:
            raise RuntimeError(f"warm-up check-in failed: {warm.problems[0]}")
        for _ in range(2):
            status, _response, _body = client.browser.post_form(BASELINE_PATH, {})
            if status != 302:
                raise RuntimeError(f"warm-up baseline post answered {status}")
        return client

    def work(phase: Phase, client: Client, i: int) -> Tally:
        if phase.name == "checkin":
            return run_scans(send_with(client.scanner), path, seeded.api_token, plans[i])
        tally = Tally()
        for _ in range(args.scans):
            started = time.perf_counter()
            try:
                status, _response, body = client.browser.post_form(BASELINE_PATH, {})
            except OSError as error:
                tally.record(started, type(error).__name__, f"baseline: {type(error).__name__}: {error}")
                continue
            tally.record(started, status, None if status == 302 else f"baseline: {status} {body[:200]!r}")
        return tally

    def close(client: Client) -> None:
        client.browser.close()
        client.scanner.close()

    access_log = ROOT / "instance" / f"{args.database}-access.log"
    access_log.parent.mkdir(exist_ok=True)
    access_log.unlink(missing_ok=True)
    phases = [Phase("baseline"), Phase("checkin")]
    print(f"gunicorn -w {args.workers} bench.wsgi:app (access log {access_log.relative_to(ROOT)}); "
          f"{args.clients} clients x {args.scans} requests per phase; check-in mix "
          f"{kinds_for(args.scans, MIX)} per client …", flush=True)
    with Gunicorn("bench.wsgi:app", env, workers=args.workers, access_log=access_log) as server:
        failures = run_closed_loop(server, args.database, args.clients, phases, prepare=prepare, work=work,
                                   close=close)
    if failures:
        print("\n".join(failures[:5]), file=sys.stderr)
        return 2

    baseline, checkins = phases
    for phase in phases:
        print("\n".join(phase.summary()))
    access_lines = sum(1 for _ in access_log.open("rb")) if access_log.exists() else 0
    print(f"  access log: {access_lines} lines")

    from config import normalize_database_url

    engine = sa.create_engine(normalize_database_url(db_url))
    with Session(engine) as session:
        problems = check_database(session, seeded.event_id, plans)
    engine.dispose()
    for problem in problems:
        print(f"  error: {problem}")
    errors = baseline.errors + checkins.errors + len(problems)
    ratio = round(checkins.rate / baseline.rate, 2) if baseline.rate else 0
    print(bench_line(
        "checkin", rate=checkins.rate, baseline_rate=baseline.rate, ratio=ratio,
        p50_ms=percentile(checkins.latencies_ms, 50), p99_ms=percentile(checkins.latencies_ms, 99), errors=errors,
    ))
    return 0 if errors == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=5000, help="approved sign-ups of the event")
    parser.add_argument("--clients", type=int, default=20, help="simulated scanners (threads)")
    parser.add_argument("--scans", type=int, default=250, help="requests per client in each phase")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--database", default=DATABASE, help="PostgreSQL database to (re)create for the run")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
