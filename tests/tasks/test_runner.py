"""The runner with a fixed clock: sweeps under a database lock (two schedulers at once run each sweep once), a
failing sweep or an unavailable database never stops it; background tasks step by step, resumed from their cursor
after a simulated restart, never doing a chunk twice, cancelled, failed, taken over at most a few times.

Threads each get their own app context (own session and connection), as two scheduler processes would.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from core.models import AuditEntry, record_audit
from extensions import db as _db
from tasks import services
from tasks.models import BackgroundTask, SweepState, TaskState
from tasks.registry import StepResult, task_handler
from tasks.runner import Runner
from tasks.schedule import SWEEPS, Sweep
from tests.conftest import NOW

# ---------------------------------------------------------------- a background task made for these tests

ITEMS = 10
PER_STEP = 3
_fail_at: dict[int, BaseException] = {}  # task id -> raise this in its next step
_slow: dict[int, float] = {}  # task id -> seconds each step takes


@task_handler("tests.count_items")
def count_items_step(task, now) -> StepResult:
    """Logs items 0..ITEMS-1, PER_STEP per step, as audit rows (so a chunk done twice would show)."""
    if task.id in _fail_at:
        raise _fail_at.pop(task.id)
    if task.id in _slow:
        time.sleep(_slow[task.id])
    start = (task.cursor or {}).get("next", 0)
    end = min(start + PER_STEP, ITEMS)
    for item in range(start, end):
        record_audit(actor=None, organization_id=task.organization_id, action="tests.item", obj=task, now=now,
                     item=item, step=task.steps)
    task.cursor = {"next": end}
    finished = end >= ITEMS
    return StepResult(done=end, total=ITEMS, finished=finished, result={"items": end} if finished else None)


def items_logged(db, task_id: int) -> list[int]:
    db.session.expire_all()
    rows = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "tests.item", AuditEntry.object_type == "BackgroundTask", AuditEntry.object_id == task_id))
    return sorted(r.details["item"] for r in rows)


@pytest.fixture()
def event(factory):
    org = factory.organization()
    return factory.event(org, status="published")


@pytest.fixture()
def organizer(factory, event):
    return factory.user(organization=event.organization, role="organizer")


def new_task(db, event, organizer, kind: str = "tests.count_items") -> BackgroundTask:
    task = services.start_task(kind, event=event, actor=organizer, params={}, now=NOW)
    db.session.commit()
    return task


class Clock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


def reload(db, task: BackgroundTask) -> BackgroundTask:
    db.session.expire_all()
    return db.session.get(BackgroundTask, task.id)


# ---------------------------------------------------------------- background tasks


def test_a_task_runs_to_done_with_progress(app, db, event, organizer):
    task = new_task(db, event, organizer)
    assert task.state == TaskState.QUEUED and task.percent == 0
    runner = Runner(app, clock=Clock())
    assert runner.run_tasks(max_steps=1) == 1
    task = reload(db, task)
    assert (task.state, task.done, task.total, task.percent) == (TaskState.RUNNING, 3, ITEMS, 30)
    assert task.lease_owner is None  # given back when the run stopped: the next run continues
    assert runner.run_tasks() == 3
    task = reload(db, task)
    assert task.state == TaskState.DONE and task.percent == 100 and task.result == {"items": ITEMS}
    assert task.steps == 4 and task.finished_at == NOW and task.takeovers == 0
    assert items_logged(db, task.id) == list(range(ITEMS))
    assert runner.run_tasks() == 0  # nothing left to do


def test_a_task_resumes_from_its_cursor_after_a_restart(app, db, event, organizer):
    """Run two steps, drop the runner (a crash: it keeps its lease), let the lease expire: a new runner takes the
    task over, continues from the stored cursor, and the result is complete with nothing done twice."""
    task = new_task(db, event, organizer)
    clock = Clock()
    crashed = Runner(app, clock=clock, owner="crashed-runner")
    with app.app_context():
        claimed = services.claim_task(owner=crashed.owner, now=clock(), lease=crashed.task_lease)
        assert claimed.id == task.id
        for _ in range(2):
            assert services.advance_task(task.id, owner=crashed.owner, now=clock(),
                                         lease=crashed.task_lease) == services.StepOutcome.STEPPED
        _db.session.remove()
    # ... the process dies here, holding the lease.
    task = reload(db, task)
    assert (task.state, task.cursor, task.lease_owner) == (TaskState.RUNNING, {"next": 6}, "crashed-runner")

    fresh = Runner(app, clock=clock, owner="new-runner")
    assert fresh.run_tasks() == 0  # the lease has not expired yet: nobody else touches the task
    clock.now = NOW + crashed.task_lease + timedelta(seconds=1)
    assert fresh.run_tasks() == 2
    task = reload(db, task)
    assert task.state == TaskState.DONE and task.takeovers == 1 and task.steps == 4
    assert items_logged(db, task.id) == list(range(ITEMS))


def test_a_step_of_a_runner_that_lost_its_lease_is_rolled_back(app, db, event, organizer):
    """A runner that stalled past its lease (a long pause) finds on its commit that the task was taken over: its
    step's work is rolled back, so the chunk is done once, by the new holder."""
    task = new_task(db, event, organizer)
    clock = Clock()
    with app.app_context():
        services.claim_task(owner="slow", now=clock(), lease=timedelta(minutes=5))
        _db.session.remove()
    clock.now = NOW + timedelta(minutes=6)
    with app.app_context():
        assert services.claim_task(owner="fast", now=clock(), lease=timedelta(minutes=5)).id == task.id
        _db.session.remove()
    with app.app_context():
        outcome = services.advance_task(task.id, owner="slow", now=clock(), lease=timedelta(minutes=5))
        _db.session.remove()
    assert outcome == services.StepOutcome.LOST
    assert items_logged(db, task.id) == []
    with app.app_context():
        outcomes = [services.advance_task(task.id, owner="fast", now=clock(), lease=timedelta(minutes=5))
                    for _ in range(4)]
        _db.session.remove()
    assert outcomes[-1] == services.StepOutcome.FINISHED
    assert items_logged(db, task.id) == list(range(ITEMS))


def test_a_step_that_commits_after_its_lease_was_taken_over_concurrently_is_refused(app, db, event, organizer):
    """The lease check is part of the step's own commit: a takeover that lands while the step is working wins."""
    task = new_task(db, event, organizer)
    clock = Clock()
    lease = timedelta(minutes=5)
    with app.app_context():
        services.claim_task(owner="first", now=clock(), lease=lease)
        _db.session.remove()
    started = threading.Event()
    taken = threading.Event()
    outcome: list = []

    def slow_step_runner():
        with app.app_context():
            original = count_items_step

            def patched(task_, now_):
                result = original(task_, now_)
                started.set()
                taken.wait(30)  # the takeover commits while this step is still uncommitted
                return result

            from tasks import registry

            registry._HANDLERS["tests.count_items"] = patched
            try:
                outcome.append(services.advance_task(task.id, owner="first", now=clock(), lease=lease))
            finally:
                registry._HANDLERS["tests.count_items"] = original
                _db.session.remove()

    thread = threading.Thread(target=slow_step_runner)
    thread.start()
    assert started.wait(30)
    with app.app_context():
        later = NOW + lease + timedelta(seconds=1)
        assert services.claim_task(owner="second", now=later, lease=lease).id == task.id
        _db.session.remove()
    taken.set()
    thread.join(60)
    assert outcome == [services.StepOutcome.LOST]
    assert items_logged(db, task.id) == []
    assert reload(db, task).lease_owner == "second"


def test_two_runners_at_once_do_each_chunk_once(app, db, event, organizer):
    tasks = [new_task(db, event, organizer) for _ in range(6)]
    barrier = threading.Barrier(3)
    steps: list = [None] * 3

    def run(i: int) -> None:
        runner = Runner(app, clock=Clock(), owner=f"runner-{i}")
        barrier.wait()
        steps[i] = runner.run_tasks()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(steps) == 6 * 4, steps  # no step was done (and counted) twice
    for task in tasks:
        task = reload(db, task)
        assert task.state == TaskState.DONE and task.steps == 4 and task.takeovers == 0
        assert items_logged(db, task.id) == list(range(ITEMS))


def test_cancelling_a_running_task_stops_it(app, db, event, organizer):
    task = new_task(db, event, organizer)
    runner = Runner(app, clock=Clock())
    runner.run_tasks(max_steps=1)
    services.cancel_task(reload(db, task), actor=organizer, now=NOW)
    db.session.commit()
    assert runner.run_tasks() == 0
    task = reload(db, task)
    assert task.state == TaskState.CANCELLED and task.finished_at == NOW
    assert items_logged(db, task.id) == [0, 1, 2]
    with pytest.raises(services.TaskError) as error:
        services.cancel_task(task, actor=organizer, now=NOW)
    assert error.value.code == "task_finished"
    db.session.rollback()


def test_a_failing_step_fails_the_task_visibly_and_the_runner_goes_on(app, db, event, organizer):
    broken, healthy = new_task(db, event, organizer), new_task(db, event, organizer)
    _fail_at[broken.id] = ValueError("the event has no sessions")
    Runner(app, clock=Clock()).run_tasks()
    broken, healthy = reload(db, broken), reload(db, healthy)
    assert broken.state == TaskState.FAILED and "the event has no sessions" in broken.error
    assert broken.lease_owner is None and items_logged(db, broken.id) == []
    assert healthy.state == TaskState.DONE


def test_a_database_error_in_a_step_is_retried_later(app, db, event, organizer):
    task = new_task(db, event, organizer)
    _fail_at[task.id] = OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    runner = Runner(app, clock=Clock())
    assert runner.run_tasks() == 1  # the step, then the run stops: the database is unavailable
    task = reload(db, task)
    assert task.state == TaskState.RUNNING and task.lease_owner is None and task.done == 0
    runner.run_tasks()
    task = reload(db, task)
    assert task.state == TaskState.DONE and items_logged(db, task.id) == list(range(ITEMS))


def test_a_task_whose_runner_keeps_dying_fails_after_a_few_takeovers(app, db, event, organizer):
    task = new_task(db, event, organizer)
    lease = timedelta(minutes=5)
    now = NOW
    with app.app_context():
        for attempt in range(services.MAX_TAKEOVERS + 1):
            claimed = services.claim_task(owner=f"dying-{attempt}", now=now, lease=lease)
            assert claimed is not None and claimed.id == task.id
            now += lease + timedelta(seconds=1)  # it dies each time before its first step commits
        assert services.claim_task(owner="last", now=now, lease=lease) is None
        _db.session.remove()
    task = reload(db, task)
    assert task.state == TaskState.FAILED and "stopped" in task.error


def test_a_task_of_an_unknown_kind_fails_instead_of_blocking_the_queue(app, db, event, organizer):
    task = new_task(db, event, organizer)
    db.session.execute(sa.update(BackgroundTask).where(BackgroundTask.id == task.id).values(kind="gone.kind"))
    db.session.commit()
    Runner(app, clock=Clock()).run_tasks()
    task = reload(db, task)
    assert task.state == TaskState.FAILED and "gone.kind" in task.error


def test_start_task_refuses_unknown_kinds_and_values_that_are_not_json(db, event, organizer):
    with pytest.raises(ValueError):
        services.start_task("no.such.kind", event=event, actor=organizer, params={}, now=NOW)
    with pytest.raises(TypeError):
        services.start_task("tests.count_items", event=event, actor=organizer, params={"when": object()}, now=NOW)


# ---------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class FakeSweep(Sweep):
    """A sweep whose function is given directly (the real ones are looked up in <package>/jobs.py)."""

    function: object = None

    def resolve(self):
        return self.function


def test_the_sweeps_list_names_real_functions():
    for sweep in SWEEPS:
        function = sweep.resolve()
        assert callable(function), sweep.job_id
        assert sweep.job_id.count(".") == 1 and sweep.every >= timedelta(seconds=1)
    assert len({s.job_id for s in SWEEPS}) == len(SWEEPS)


def test_two_schedulers_at_once_run_a_sweep_once(app, db):
    calls: list[str] = []
    inside = threading.Event()
    release = threading.Event()

    def slow_sweep(now) -> int:
        calls.append(threading.current_thread().name)
        inside.set()
        release.wait(30)
        return 1

    sweep = FakeSweep("tests.slow_sweep", every=timedelta(minutes=1), function=slow_sweep)
    first, second = Runner(app, sweeps=[sweep]), Runner(app, sweeps=[sweep])
    results: dict[str, int | None] = {}
    thread = threading.Thread(target=lambda: results.update(first=first.run_sweep(sweep, NOW)), name="first")
    thread.start()
    assert inside.wait(30)
    results["second"] = second.run_sweep(sweep, NOW)  # while the first holds the lock
    release.set()
    thread.join(30)
    assert results == {"first": 1, "second": None}
    assert calls == ["first"]
    # The lock is free again afterwards: the next run (either scheduler) runs it.
    assert second.run_sweep(sweep, NOW) == 1
    state = db.session.get(SweepState, "tests.slow_sweep")
    db.session.refresh(state)
    assert state.runs == 2 and state.last_count == 1 and state.lease_owner is None


def test_two_schedulers_started_together_run_each_real_sweep_once(app, db, factory):
    """The real SWEEPS, from two runners at the same moment: every event opened once, logged once."""
    from events.models import Event, RegistrationPhase

    org = factory.organization()
    events = [factory.event(org, title=f"沙龙{i}", status="published", registration_opens_at=NOW - timedelta(hours=1),
                            registration_closes_at=NOW + timedelta(days=3)) for i in range(5)]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def run(i: int) -> None:
        runner = Runner(app, owner=f"scheduler-{i}")
        barrier.wait()
        results[i] = runner.run_all_sweeps(NOW)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    opened = [r["registration.open_due_registrations"] for r in results]
    assert sorted(opened, key=lambda n: n or 0) in ([None, 5], [0, 5]), opened
    db.session.expire_all()
    assert {db.session.get(Event, e.id).registration_phase for e in events} == {RegistrationPhase.OPEN}
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "registration.opened", AuditEntry.object_id.in_([e.id for e in events])))
    assert entries == 5


def test_a_failing_sweep_is_logged_and_the_others_still_run(app, db, caplog):
    def broken(now):
        raise RuntimeError("a bug in a sweep")

    ran = []
    sweeps = [FakeSweep("tests.broken", every=timedelta(minutes=1), function=broken),
              FakeSweep("tests.fine", every=timedelta(minutes=1), function=lambda now: ran.append(now) or 3)]
    with caplog.at_level("ERROR", logger="saihui.scheduler"):
        results = Runner(app, sweeps=sweeps).run_all_sweeps(NOW)
    assert results == {"tests.broken": None, "tests.fine": 3}
    assert ran == [NOW]
    assert "tests.broken failed" in caplog.text and "a bug in a sweep" in caplog.text
    state = db.session.get(SweepState, "tests.broken")
    db.session.refresh(state)
    assert state.failures == 1 and "a bug in a sweep" in state.last_error and state.lease_owner is None


def test_an_unavailable_database_does_not_stop_the_scheduler(app, db, monkeypatch, caplog):
    from tasks import locks

    def unavailable(*args, **kwargs):
        raise OperationalError("SELECT pg_try_advisory_lock(1)", {}, Exception("connection refused"))

    monkeypatch.setattr(locks, "sweep_lock", unavailable)
    sweep = FakeSweep("tests.any", every=timedelta(minutes=1), function=lambda now: 1)
    with caplog.at_level("ERROR", logger="saihui.scheduler"):
        assert Runner(app, sweeps=[sweep]).run_sweep(sweep, NOW) is None
    assert "could not run" in caplog.text

    def claim_fails(**kwargs):
        raise OperationalError("UPDATE background_tasks", {}, Exception("connection refused"))

    monkeypatch.setattr(services, "claim_task", claim_fails)
    assert Runner(app).run_tasks() == 0


def test_an_expired_sweep_lease_is_taken_over(app, db):
    """SQLite: a scheduler that died holding a sweep's lease blocks it only until the lease expires."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's advisory lock dies with the connection of the process that held it")
    sweep = FakeSweep("tests.leased", every=timedelta(minutes=1), lease=timedelta(minutes=10),
                      function=lambda now: 1)
    db.session.add(SweepState(name=sweep.job_id, lease_owner="dead-scheduler", lease_expires_at=NOW))
    db.session.commit()
    runner = Runner(app, sweeps=[sweep])
    assert runner.run_sweep(sweep, NOW - timedelta(seconds=1)) is None
    assert runner.run_sweep(sweep, NOW) == 1


def test_tests_never_start_the_scheduler_and_development_does(app):
    from config import DevelopmentConfig, ProductionConfig

    assert app.config["SCHEDULER_IN_PROCESS"] is False
    assert "saihui_scheduler" not in app.extensions
    assert DevelopmentConfig.SCHEDULER_IN_PROCESS is True
    assert ProductionConfig.SCHEDULER_IN_PROCESS is False


@pytest.fixture(autouse=True)
def _clean_test_hooks():
    yield
    _fail_at.clear()
    _slow.clear()


def test_postgresql_advisory_lock_held_elsewhere_skips_the_sweep_until_that_connection_closes(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite uses the lease row (test above)")
    from tasks.locks import advisory_key

    sweep = FakeSweep("tests.advisory", every=timedelta(minutes=1), function=lambda now: 7)
    other_process = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        assert other_process.execute(sa.select(sa.func.pg_try_advisory_lock(advisory_key(sweep.job_id)))).scalar()
        assert Runner(app, sweeps=[sweep]).run_sweep(sweep, NOW) is None
    finally:
        other_process.invalidate()  # the other scheduler dies: the server drops its lock with its connection
        other_process.close()
    assert Runner(app, sweeps=[sweep]).run_sweep(sweep, NOW) == 7


def test_the_apscheduler_jobs_are_one_per_sweep_plus_the_task_runner(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from tasks.scheduler import TASK_RUNNER_JOB, add_jobs

    scheduler = BackgroundScheduler(timezone="UTC")
    runner = Runner(app)
    add_jobs(scheduler, runner)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {s.job_id for s in SWEEPS} | {TASK_RUNNER_JOB}
    for sweep in SWEEPS:
        job = jobs[sweep.job_id]
        assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 30
        assert job.trigger.interval == sweep.every and job.args == (sweep,)


def test_a_busy_task_runner_tick_is_not_a_warning_but_a_busy_sweep_is(caplog):
    import logging

    from tasks.scheduler import TASK_RUNNER_JOB

    logger = logging.getLogger("apscheduler.scheduler")
    message = 'Execution of job "%s (trigger: interval[0:00:03])" skipped: maximum number of running instances reached (1)'
    with caplog.at_level("WARNING", logger="apscheduler.scheduler"):
        logger.warning(message, TASK_RUNNER_JOB)
        logger.warning(message, "registration.close_due_registrations")
    assert "registration.close_due_registrations" in caplog.text
    assert TASK_RUNNER_JOB not in caplog.text
