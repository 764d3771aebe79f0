"""Rankings: a full recompute of totals, ranks and awards, and a leaderboard read after one new score.

    .venv/bin/python bench/ranking.py                      (both databases; about 2 minutes)
    .venv/bin/python bench/ranking.py --db sqlite --entrants 1000

What it does, once per database (PostgreSQL: a fresh database ``saihui_bench_ranking``, dropped and recreated and
left behind for inspection; SQLite: a fresh file in a temporary directory), in this process:

1. ``flask db upgrade`` (the real migrations). Through the services: an organization, an organizer, a published
   competition event, a competition with two groups (中职组, 高职组) and the default awards (10/20/30 %, half-up),
   trimmed mean from 5 judges, round 决赛 with a rubric of 10 criteria (module A: A1–A5 客观, module B: B1–B5 主观,
   each out of 10 in steps of 0.5), 7 judges on one panel.
2. In bulk (one multi-row INSERT per table, or COPY on PostgreSQL): ``--entrants`` entrants (5,000) split over the
   groups, their station numbers, every judge assigned to every entrant (35,000 assignments), scoring started
   through the service, then every judge's submitted score for every entrant and criterion (350,000 scores, random
   but seeded). The results are published.
3. ``full_s``: the median of three full recomputes of the standings (all scores read in one query, every
   criterion combined, totals, both groups ranked with ties, awards, medal table) with an empty cache.
4. ``read_ms``: the median of fifteen rounds of: one submitted score corrected through
   ``judging.services.change_submitted_score`` (its audit entry bumps the results version in the same
   transaction) and committed, then ``GET /api/v1/competitions/<id>/leaderboard?group=<its group>`` through the
   app (the Flask test client, no network; an anonymous caller of published results, as a big screen), timed from
   the request to the JSON body — it includes reading the version, the incremental recompute (the changed
   entrant's scores reloaded, everything re-ranked), recording the ranking history, and serialising the group's
   2,500 entries.
5. ``floor_s``: the same totals computed by the database with one SQL aggregate query (trimmed mean per entrant and
   criterion, rounded to 2 places, summed per entrant), fetched in full. The totals are compared with the
   recompute's; ``mismatches`` counts entrants whose totals differ (must be 0).

One line per database (``full_cpu_s`` and ``read_cpu_ms``: this process's CPU time for the same work — steadier
than wall time on a shared machine; on PostgreSQL the server's own time is not in it)::

    BENCH ranking db=<postgresql|sqlite> full_s=… read_ms=… floor_s=… full_cpu_s=… read_cpu_ms=… entrants=… …

Goals (issue 8): full recompute under 1 s, leaderboard read under 50 ms, on this 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import bench_line, recreate_database, server_environment, upgrade_database  # noqa: E402

CRITERIA = [f"A{i}" for i in range(1, 6)] + [f"B{i}" for i in range(1, 6)]
JUDGES = 7
READS = 15
NOW = datetime(2026, 12, 19, 8, 0, tzinfo=timezone.utc)


def make_app(url: str):
    from app import create_app
    from config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True} if url.startswith("postgresql") else {
            "connect_args": {"timeout": 30}}
        SCHEDULER_IN_PROCESS = False
        TESTING = False

    return create_app(BenchConfig)


def seed(app, entrants: int, rng: random.Random) -> dict:
    import sqlalchemy as sa

    from accounts.models import MembershipRole, Organization
    from accounts.services import add_membership, create_user
    from competition import results
    from competition import services as cs
    from competition.models import CriterionKind, DrawCode, Entrant, EntrantSource
    from events.models import Event, EventKind, EventState
    from extensions import db
    from judging import services as js
    from judging.models import Assignment, Score

    with app.app_context():
        org = Organization(name="福建省信息行业协会")
        db.session.add(org)
        db.session.flush()
        organizer = create_user(login="organizer@bench.example.org", name="周组织", password="bench-pass-123")
        add_membership(organizer, org, MembershipRole.ORGANIZER)
        event = Event(organization_id=org.id, kind=EventKind.COMPETITION, title="云计算行业技能大赛（压测）",
                      venue="实训楼", starts_at=NOW, ends_at=NOW.replace(hour=20), timezone="Asia/Shanghai",
                      status=EventState.PUBLISHED)
        db.session.add(event)
        db.session.flush()
        competition = cs.create_competition(event, cs.CompetitionData(title="云计算赛项", groups=["中职组", "高职组"]),
                                            actor=organizer, now=NOW)
        round_ = cs.add_round(competition, cs.RoundData(name="决赛"), actor=organizer, now=NOW)
        rubric = cs.rubric_for(round_)
        criteria = {}
        for module_code, kind in (("A", CriterionKind.MEASUREMENT), ("B", CriterionKind.JUDGEMENT)):
            module = cs.add_module(rubric, cs.ModuleData(code=module_code, name=f"模块{module_code}"), actor=organizer,
                                   now=NOW)
            for code in [c for c in CRITERIA if c.startswith(module_code)]:
                criteria[code] = cs.add_criterion(module, cs.CriterionData(
                    code=code, name=f"评分项{code}", maximum="10", step="0.5", kind=kind), actor=organizer, now=NOW)
        panel = js.create_panel(competition, js.PanelData(name="评委组", round_id=round_.id), actor=organizer, now=NOW)
        members = []
        for i in range(JUDGES):
            added = js.add_judge(competition, js.JudgeData(name=f"评委{i + 1}", login=f"judge{i + 1}@bench.example.org",
                                                           password="bench-pass-123"), actor=organizer, now=NOW)
            members.append(js.add_panel_judge(panel, added.profile, [], actor=organizer, now=NOW))
        db.session.commit()
        group_ids = [g.id for g in competition.groups]
        ids = dict(competition_id=competition.id, round_id=round_.id, group_ids=group_ids, organizer_id=organizer.id,
                   criterion_ids=[criteria[c].id for c in CRITERIA], judge_ids=[m.profile.user_id for m in members])

        connection = db.session.connection()
        connection.execute(sa.insert(Entrant), [
            {"competition_id": competition.id, "group_id": group_ids[i % 2], "name": f"参赛队{i + 1:05d}",
             "unit": f"第{i % 400 + 1}职业学校", "is_team": True, "members": [f"队员{i}甲", f"队员{i}乙"], "coaches": [],
             "phone": "", "source": EntrantSource.IMPORT, "position": i, "created_at": NOW} for i in range(entrants)])
        entrant_ids = list(db.session.scalars(sa.select(Entrant.id).where(Entrant.competition_id == competition.id)
                                              .order_by(Entrant.id)))
        connection.execute(sa.insert(DrawCode), [
            {"competition_id": competition.id, "entrant_id": e, "stage": 1, "code": f"{i + 1:04d}", "drawn_at": NOW}
            for i, e in enumerate(entrant_ids)])
        connection.execute(sa.insert(Assignment), [
            {"round_id": round_.id, "panel_id": panel.id, "panel_judge_id": m.id, "judge_id": m.profile.user_id,
             "entrant_id": e, "created_at": NOW} for m in members for e in entrant_ids])
        db.session.commit()
        cs.start_scoring(db.session.get(type(round_), round_.id), actor=organizer, now=NOW)
        db.session.commit()
        naive = NOW.replace(tzinfo=None)
        rows = []
        for e in entrant_ids:
            level = rng.randint(8, 18)  # each entrant's own strength, in half points
            for c in ids["criterion_ids"]:
                for j in ids["judge_ids"]:
                    half_points = max(0, min(20, level + rng.randint(-2, 2)))
                    rows.append((round_.id, j, e, c, half_points * 5000, "", "submitted", "tablet", 1, naive, naive,
                                 naive))
        columns = ("round_id", "judge_id", "entrant_id", "criterion_id", "value", "note", "state", "source",
                   "rubric_version", "created_at", "updated_at", "submitted_at")
        raw = db.session.connection().connection.driver_connection
        if db.engine.dialect.name == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY scores ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.executemany(f"INSERT INTO scores ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                            [(*r[:9], *(v.isoformat(sep=' ') for v in r[9:])) for r in rows])
        results.touch(competition.id, action="bench.seed")
        db.session.commit()
        results.publish(db.session.get(type(competition), competition.id), actor=organizer, now=NOW)
        db.session.commit()
        ids["entrant_ids"] = entrant_ids
        ids["scores"] = len(rows)
        return ids


def floor_totals(app, ids: dict) -> tuple[float, dict[int, Decimal]]:
    import sqlalchemy as sa

    from extensions import db

    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
        mean = ("ROUND((SUM(value) - MAX(value) - MIN(value))::numeric / (COUNT(*) - 2) / 10000, 2)" if pg else
                "ROUND((SUM(value) - MAX(value) - MIN(value)) * 1.0 / (COUNT(*) - 2) / 10000, 2)")
        query = sa.text(f"SELECT entrant_id, SUM(c) FROM (SELECT entrant_id, criterion_id, {mean} AS c FROM scores "
                        "WHERE round_id = :round AND state = 'submitted' GROUP BY entrant_id, criterion_id) AS t "
                        "GROUP BY entrant_id")
        started = time.perf_counter()
        rows = db.session.execute(query, {"round": ids["round_id"]}).all()
        elapsed = time.perf_counter() - started
        db.session.rollback()
        return elapsed, {e: Decimal(str(round(float(t), 2))).quantize(Decimal("0.01")) for e, t in rows}


def run(name: str, url: str, entrants: int) -> str:
    env = server_environment(url)
    upgrade_database(env)
    app = make_app(url)
    rng = random.Random(20261219)
    started = time.perf_counter()
    ids = seed(app, entrants, rng)
    print(f"[{name}] seeded {entrants} entrants, {ids['scores']} scores in {time.perf_counter() - started:.1f} s",
          flush=True)

    from accounts.models import User
    from competition import results
    from competition.models import Competition, Entrant
    from extensions import db
    from judging import services as js
    from judging.models import Score

    with app.app_context():
        competition = db.session.get(Competition, ids["competition_id"])
        fulls, full_cpus = [], []
        for _ in range(3):
            results.clear_cache()
            db.session.expire_all()
            t0, c0 = time.perf_counter(), time.process_time()
            computed = results.standings(competition)
            fulls.append(time.perf_counter() - t0)
            full_cpus.append(time.process_time() - c0)
            db.session.rollback()
        print(f"[{name}] full recompute: {', '.join(f'{f:.3f}' for f in fulls)} s", flush=True)
        ranked = sum(len(board.ranked) for board in computed.boards)
        results.read_standings(competition)  # the history's baseline
        db.session.commit()

    client = app.test_client()
    reads, read_cpus, hits = [], [], []
    for i in range(READS):
        with app.app_context():
            organizer = db.session.get(User, ids["organizer_id"])
            entrant_id = ids["entrant_ids"][rng.randrange(len(ids["entrant_ids"]))]
            score = db.session.scalar(db.select(Score).where(Score.entrant_id == entrant_id).limit(1))
            new_value = Decimal(10) if score.value != 10 else Decimal(0)
            js.change_submitted_score(score, new_value, actor=organizer, reason="复核更正", now=NOW)
            db.session.commit()
            group_id = db.session.get(Entrant, entrant_id).group_id
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(f"/api/v1/competitions/{ids['competition_id']}/leaderboard?group={group_id}")
        body = response.get_json()
        reads.append((time.perf_counter() - t0) * 1000)
        read_cpus.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200 and body["entries"], response.status_code
        t0 = time.perf_counter()
        client.get(f"/api/v1/competitions/{ids['competition_id']}/leaderboard?group={group_id}")
        hits.append((time.perf_counter() - t0) * 1000)
    print(f"[{name}] read after one new score: {', '.join(f'{r:.1f}' for r in reads)} ms "
          f"(p90 {sorted(reads)[int(len(reads) * 0.9)]:.1f}); "
          f"again (same version): {statistics.median(hits):.1f} ms; entries per group {len(body['entries'])}",
          flush=True)

    with app.app_context():  # the totals after the corrections, to compare with the floor's
        competition = db.session.get(Competition, ids["competition_id"])
        ours = {line.entrant.id: line.total for board in results.standings(competition).boards
                for line in board.lines}
        db.session.rollback()
    floor, sql_totals = floor_totals(app, ids)
    mismatches = sum(1 for e, total in sql_totals.items() if ours.get(e) != total)
    print(f"[{name}] floor (one SQL aggregate): {floor:.3f} s; ranked {ranked}", flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return bench_line("ranking", db=name, full_s=statistics.median(fulls), read_ms=statistics.median(reads),
                      floor_s=floor, full_cpu_s=statistics.median(full_cpus),
                      read_cpu_ms=statistics.median(read_cpus), entrants=entrants, scores=ids["scores"],
                      mismatches=mismatches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--entrants", type=int, default=5000)
    args = parser.parse_args()
    try:
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    except OSError:
        pass
    lines = []
    if args.db in ("postgresql", "both"):
        url = recreate_database("saihui_bench_ranking").replace("postgresql://", "postgresql+psycopg://", 1)
        lines.append(run("postgresql", url, args.entrants))
    if args.db in ("sqlite", "both"):
        path = Path(tempfile.mkdtemp(prefix="saihui-bench-ranking-")) / "bench.sqlite3"
        lines.append(run("sqlite", f"sqlite:///{path}", args.entrants))
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
