"""Sign-up burst: many people submit the public sign-up form of one popular event at the same moment.

    .venv/bin/python bench/registration_burst.py            (from the repository root; 1 to 4 minutes)

What it does, on a fresh PostgreSQL database ``saihui_bench`` (dropped and recreated; left behind for inspection):

1. ``flask db upgrade`` (the real migrations), then through the services: an organization, an organizer, a
   published event with ``--capacity`` seats (2,000 by default: the burst of 3,000 sign-ups exceeds it, so the
   last third go to the waiting list and both paths are measured) and registration open now; and a warm-up event.
2. gunicorn with 4 sync workers serving ``bench.wsgi:app`` (production settings, sign-up rate limit raised).
3. ``--participants`` simulated participants (threads, 50 by default), each a small browser with its own cookie
   jar: it opens the sign-up form once (GET, keeps the session cookie and CSRF token), then warms up (2 sign-ups
   on the warm-up event, 2 baseline posts; not measured).
4. Baseline phase: every participant POSTs ``--posts`` times (60 by default), as fast as answers come, to
   ``/_bench/baseline`` (same stack, CSRF, one row inserted and committed, 302).
5. Sign-up phase: the same to the real form ``/e/<id>/register``, each post a new mainland mobile number; the
   answer must be 302 (to the participant's manage page). Any other answer or a transport error is an error.
6. In the database: every 302 left exactly one sign-up; ``seats_taken`` equals the pending + approved count;
   nobody holds a seat beyond the capacity (``oversold``); with no cancellations, every seat is filled before
   anyone is waitlisted. Any mismatch is added to ``errors``.

Rates are completed posts per second of wall time of the phase (from the moment all participants are released
until the last answer). Latency is per post, from sending the request to reading the whole answer, so it
includes the time the request waits for a free worker. The last line is::

    BENCH registration_burst rate=… baseline_rate=… ratio=… p50_ms=… p99_ms=… oversold=… errors=…

Goals (issue 3): rate >= 150 sign-ups/s, ratio >= 0.3, p99 < 300 ms, oversold = 0 (and errors = 0).
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/registration_burst.py` works too

from bench._common import (
    Browser,
    CpuMeter,
    Gunicorn,
    bench_line,
    percentile,
    postgres_backend_pids,
    recreate_database,
    server_environment,
    upgrade_database,
)

DATABASE = "saihui_bench"
UNIT = "厦门城市职业学院"


@dataclass
class Phase:
    name: str
    path: str
    phone_prefix: str
    started: float = 0.0
    finished: float = 0.0
    client_cpu: float = 0.0  # CPU seconds used during the phase by this process (all participants),
    server_cpu: float = 0.0  # by the gunicorn workers,
    postgres_cpu: float = 0.0  # and by the PostgreSQL server processes of the benchmark's database
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return self.statuses[302]

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 302)

    @property
    def rate(self) -> float:
        return self.completed / (self.finished - self.started) if self.finished > self.started else 0.0


def set_up(env: dict, capacity: int) -> tuple[int, int]:
    """The organization, organizer and events, made through the services as the app makes them.
    Returns (event id, warm-up event id)."""
    os.environ.update(env)  # read by config when it is first imported, just below
    from accounts.models import MembershipRole, Organization
    from accounts.services import add_membership, create_user
    from app import create_app
    from config import ProductionConfig
    from core.types import utcnow
    from events.models import EventKind
    from events.services import EventData, create_event, publish_event
    from extensions import db

    app = create_app(ProductionConfig)
    with app.app_context():
        now = utcnow().replace(microsecond=0)
        org = Organization(name="厦门市信息化协会")
        db.session.add(org)
        db.session.flush()
        organizer = create_user(login="organizer@bench.example.org", name="林晓燕", password="bench-organizer-pw-9")
        add_membership(organizer, org, MembershipRole.ORGANIZER)
        ids = []
        for title, seats in (("海峡两岸信息化论坛 2026", capacity), ("热身活动", None)):
            event = create_event(org, EventData(
                kind=EventKind.FORUM, title=title, venue="厦门国际会议中心", timezone="Asia/Shanghai",
                starts_at=now + timedelta(days=18), ends_at=now + timedelta(days=18, hours=8), capacity=seats,
                registration_opens_at=now - timedelta(hours=1), registration_closes_at=now + timedelta(days=17),
            ), actor=organizer, now=now)
            publish_event(event, actor=organizer, now=now)
            ids.append(event.id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids[0], ids[1]


def check_database(env: dict, event_id: int, capacity: int, signed_up: int) -> tuple[int, list[str], dict]:
    """Return (oversold, problems, counts) for the event after the burst."""
    import sqlalchemy as sa

    from config import normalize_database_url

    engine = sa.create_engine(normalize_database_url(env["DATABASE_URL"]))
    with engine.connect() as conn:
        seats_taken, cap = conn.execute(sa.text("SELECT seats_taken, capacity FROM events WHERE id = :id"),
                                        {"id": event_id}).one()
        rows = conn.execute(sa.text("SELECT status, count(*) FROM registrations WHERE event_id = :id GROUP BY status"),
                            {"id": event_id}).all()
        seat_flags = conn.execute(sa.text(
            "SELECT count(*) FROM registrations WHERE event_id = :id AND holds_seat"), {"id": event_id}).scalar_one()
    engine.dispose()
    counts = Counter({status: n for status, n in rows})
    holding = counts["pending"] + counts["approved"]
    total = sum(counts.values())
    assert cap == capacity
    problems = []
    oversold = max(0, holding - capacity)
    if seats_taken != holding:
        problems.append(f"seats_taken={seats_taken} but {holding} sign-ups hold a seat")
    if seat_flags != holding:
        problems.append(f"{seat_flags} sign-ups flagged holds_seat but {holding} pending or approved")
    if total != signed_up:
        problems.append(f"{signed_up} sign-ups answered 302 but the database has {total}")
    if holding != min(capacity, total):
        problems.append(f"{holding} seats held of {capacity} with {total} sign-ups: a seat was lost")
    if counts["waitlisted"] != total - holding:
        problems.append(f"{counts['waitlisted']} waitlisted, expected {total - holding}")
    return oversold, problems, dict(counts)


def run(args) -> int:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} before the run (other work skews the numbers)")
    print(f"creating database {DATABASE} …", flush=True)
    db_url = recreate_database(DATABASE)
    env = server_environment(db_url, SIGNUP_RATE_LIMIT="1000000 per minute")
    upgrade_database(env)
    event_id, warmup_id = set_up(env, args.capacity)
    signup_path, warmup_path, baseline_path = f"/e/{event_id}/register", f"/e/{warmup_id}/register", "/_bench/baseline"

    phases = [Phase("baseline", baseline_path, "138"), Phase("signup", signup_path, "139")]
    n = args.participants
    lock = threading.Lock()
    # Participants and this thread meet at each gate: before the warm-up ends, and at the start and end of each
    # phase, so that this thread reads the clocks and CPU counters exactly at the phase boundaries.
    gates = threading.Barrier(n + 1, timeout=600)
    setup_failures: list[str] = []

    def form(participant: int, prefix: str, k: int) -> dict[str, str]:
        return {"name": f"参会者{participant:02d}{k:03d}", "phone": f"{prefix}{participant:02d}{k:06d}", "unit": UNIT,
                "note": "", "website": ""}

    def measure(browser: Browser, phase: Phase, participant: int) -> None:
        latencies, statuses, problems = [], Counter(), []
        for k in range(args.posts):
            start = time.perf_counter()
            try:
                status, _response, body = browser.post_form(phase.path, form(participant, phase.phone_prefix, k))
            except OSError as error:
                status, body = type(error).__name__, b""
            latencies.append((time.perf_counter() - start) * 1000)
            statuses[status] += 1
            if status != 302 and len(problems) < 3:
                problems.append(f"{phase.path} -> {status}: {body[:300]!r}")
        with lock:
            phase.latencies_ms += latencies
            phase.statuses.update(statuses)
            phase.problems += problems
            phase.finished = max(phase.finished, time.perf_counter())

    def participant(i: int) -> None:
        browser = Browser(server.host)
        try:
            status = browser.open_form(signup_path)
            if status != 200 or not browser.csrf_token:
                raise RuntimeError(f"the sign-up form answered {status} without a CSRF token")
            for k in range(2):  # warm-up, not measured: worker imports, template and query caches, pool
                browser.post_form(warmup_path, form(i, "137", k))
                browser.post_form(baseline_path, form(i, "138", 900_000 + k))
        except Exception as error:  # noqa: BLE001 - reported, and the run is stopped
            with lock:
                setup_failures.append(f"participant {i}: {error}")
        try:
            gates.wait()  # warm-up done
            for phase in phases:
                gates.wait()  # start
                measure(browser, phase, i)
                gates.wait()  # end
        except threading.BrokenBarrierError:
            pass
        finally:
            browser.close()

    print(f"gunicorn -w {args.workers} bench.wsgi:app; {n} participants x {args.posts} posts per phase; "
          f"event capacity {args.capacity} …", flush=True)
    with Gunicorn("bench.wsgi:app", env, workers=args.workers) as server:
        threads = [threading.Thread(target=participant, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        gates.wait()
        if setup_failures:
            gates.abort()
            print("\n".join(setup_failures[:5]), file=sys.stderr)
            return 2
        meters = {"server": CpuMeter(server.worker_pids), "postgres": CpuMeter(lambda: postgres_backend_pids(DATABASE))}
        for phase in phases:
            for meter in meters.values():
                meter.start()
            client_cpu = time.process_time()
            phase.started = time.perf_counter()
            gates.wait()  # start
            gates.wait()  # end
            phase.client_cpu = time.process_time() - client_cpu
            phase.server_cpu, phase.postgres_cpu = (meter.stop() for meter in meters.values())
        for t in threads:
            t.join()

    baseline, signup = phases
    oversold, problems, counts = check_database(env, event_id, args.capacity, signup.completed)
    for phase in phases:
        posts = max(sum(phase.statuses.values()), 1)
        print(f"{phase.name}: {posts} posts in {phase.finished - phase.started:.1f} s, {phase.rate:.1f}/s, "
              f"answers {dict(phase.statuses)}, p50 {percentile(phase.latencies_ms, 50):.1f} ms, "
              f"p99 {percentile(phase.latencies_ms, 99):.1f} ms, max {max(phase.latencies_ms):.1f} ms")
        print(f"  CPU per post: gunicorn workers {phase.server_cpu / posts * 1000:.2f} ms, "
              f"PostgreSQL {phase.postgres_cpu / posts * 1000:.2f} ms, client {phase.client_cpu / posts * 1000:.2f} ms")
        for problem in phase.problems[:5]:
            print(f"  error: {problem}")
    print(f"database: {counts}; capacity {args.capacity}")
    for problem in problems:
        print(f"  error: {problem}")

    errors = signup.errors + baseline.errors + len(problems)
    print(bench_line(
        "registration_burst",
        rate=signup.rate, baseline_rate=baseline.rate, ratio=round(signup.rate / baseline.rate, 2) if baseline.rate else 0,
        p50_ms=percentile(signup.latencies_ms, 50), p99_ms=percentile(signup.latencies_ms, 99),
        oversold=oversold, errors=errors,
    ))
    return 0 if errors == 0 and oversold == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=50, help="simulated participants (threads)")
    parser.add_argument("--posts", type=int, default=60, help="posts per participant in each phase")
    parser.add_argument("--capacity", type=int, default=2000, help="seats of the event (the burst should exceed it)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
