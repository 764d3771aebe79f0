"""What every benchmark needs: a fresh PostgreSQL database, the app served by gunicorn, a lean browser-like HTTP
client, clients driven through measured phases (``run_closed_loop``), percentiles and the final ``BENCH`` line.

Benchmarks run from the repository root with the project's interpreter (``.venv/bin/python bench/<name>.py``);
importing this module puts the repository root on ``sys.path`` so that ``python bench/<name>.py`` works too.
"""
from __future__ import annotations

import http.client
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Self
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The local PostgreSQL server; a benchmark drops and recreates its own database there.
PG_SERVER_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")


# ------------------------------------------------------------------ the database


def database_url(name: str) -> str:
    return f"{PG_SERVER_URL.rstrip('/')}/{name}"


def _admin_connection():
    import psycopg

    return psycopg.connect(database_url("postgres"), autocommit=True)


def recreate_database(name: str) -> str:
    """Drop the database ``name`` (closing its connections) and create it empty; return its URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"not a plain database name: {name!r}")
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def drop_database(name: str) -> None:
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_environment(db_url: str, **extra: str) -> dict[str, str]:
    """Environment of a production-like app on ``db_url``: random secret, plain-HTTP cookies."""
    env = dict(os.environ)
    env.update(
        SAIHUI_CONFIG="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=db_url,
        SESSION_COOKIE_SECURE="0",  # the benchmark speaks plain HTTP to 127.0.0.1
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


def upgrade_database(env: Mapping[str, str]) -> None:
    """``flask db upgrade`` on the database named by ``env["DATABASE_URL"]``: the real migrations."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, env=dict(env),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError("flask db upgrade failed")


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn -w <workers> <wsgi_app>`` on a free local port, stopped on exit of the ``with`` block."""

    def __init__(self, wsgi_app: str, env: Mapping[str, str], *, workers: int = 4, port: int | None = None,
                 access_log: str | Path | None = None):
        self.wsgi_app = wsgi_app
        self.env = dict(env)
        self.workers = workers
        self.port = port or free_port()
        self.access_log = access_log  # a file: one line per request, as a production server writes it
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        logging = ["--access-logfile", str(self.access_log)] if self.access_log else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", self.host, "--backlog", "2048",
             "--log-level", "warning", *logging, self.wsgi_app],
            cwd=ROOT, env=self.env,
        )
        self._wait_until_up()
        return self

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid) if self.process is not None else []

    def _wait_until_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on {self.host} within {timeout:.0f} s")

    def __exit__(self, *exc_info) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: the arbiter stops its workers
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ------------------------------------------------------------------ the client


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Browser:
    """One participant's browser, kept lean so that the client takes little of the machine's CPU: a cookie jar, the
    CSRF token of the last form it opened, redirects not followed (a sign-up answers 302 to the manage page)."""

    def __init__(self, host: str, timeout: float = 60.0, *, keep_cookies: bool = True):
        hostname, _sep, port = host.partition(":")
        self.connection = http.client.HTTPConnection(hostname, int(port or 80), timeout=timeout)
        self.keep_cookies = keep_cookies  # False: an API client (Bearer token) that sends no cookie back
        self.cookies: dict[str, str] = {}
        self.csrf_token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> tuple[int, http.client.HTTPResponse, bytes]:
        all_headers = {"Accept-Language": "zh-CN,zh;q=0.9", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed a kept-alive connection between two requests: send once more on a new one.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
        data = response.read()
        for header in (response.headers.get_all("Set-Cookie") or []) if self.keep_cookies else []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response.status, response, data

    def open_form(self, path: str) -> int:
        """GET a page with a form and keep its CSRF token, as a browser keeps the page."""
        status, _response, data = self.request("GET", path)
        match = _CSRF.search(data.decode("utf-8", "replace"))
        if match:
            self.csrf_token = match.group(1) or match.group(2)
        return status

    def post_form(self, path: str, fields: Mapping[str, str] | Iterable[tuple[str, str]]):
        """POST a form with the kept CSRF token; return (status, response, body)."""
        items = list(fields.items()) if isinstance(fields, Mapping) else list(fields)
        body = urlencode([("csrf_token", self.csrf_token or ""), *items]).encode("ascii")
        return self.request("POST", path, body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, payload, headers: Mapping[str, str] | None = None):
        """POST a JSON body; return (status, response, body)."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return self.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})

    def close(self) -> None:
        self.connection.close()


# ------------------------------------------------------------------ CPU accounting (Linux /proc)


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each process still alive (read from /proc)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return used


def child_pids(pid: int) -> list[int]:
    """The direct children of ``pid`` (gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def postgres_backend_pids(database: str) -> list[int]:
    """Server processes of the connections to ``database`` (local server only)."""
    with _admin_connection() as conn:
        return [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,))]


class CpuMeter:
    """CPU used between ``start()`` and ``stop()`` by a set of processes found at each call (a process that
    appeared in between counts from zero)."""

    def __init__(self, find_pids):
        self.find_pids = find_pids
        self.before: dict[int, float] = {}
        self.seconds = 0.0

    def start(self) -> None:
        self.before = cpu_seconds(self.find_pids())

    def stop(self) -> float:
        after = cpu_seconds(set(self.find_pids()) | set(self.before))
        self.seconds = sum(max(used - self.before.get(pid, 0.0), 0.0) for pid, used in after.items())
        return self.seconds


# ------------------------------------------------------------------ closed-loop phases


@dataclass
class Tally:
    """What one client saw in one phase: the latency and the answer of each request, and what was wrong."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # HTTP status (or the transport error's name) -> count
    errors: int = 0
    problems: list[str] = field(default_factory=list)  # the first few errors, described
    by_label: dict[str, list[float]] = field(default_factory=dict)  # latencies by kind of request, when labelled

    def record(self, started: float, status, problem: str | None = None, *, label: str | None = None,
               ended: float | None = None) -> None:
        """One request sent at ``started`` and answered at ``ended`` (``time.perf_counter()``; default: now);
        ``problem``: what was wrong; ``label``: the kind of request, to see the latency of each kind apart."""
        latency = ((ended if ended is not None else time.perf_counter()) - started) * 1000
        self.latencies_ms.append(latency)
        if label is not None:
            self.by_label.setdefault(label, []).append(latency)
        self.statuses[status] += 1
        if problem is not None:
            self.errors += 1
            if len(self.problems) < 5:
                self.problems.append(problem)


@dataclass
class Phase:
    """One measured phase: every client sends its requests back to back (a closed loop), all released together.

    ``rate``: requests answered as expected per second of wall time, from the release until the last answer.
    Latency is per request, from sending to having read the whole answer (waiting for a free worker included).
    CPU seconds used during the phase are measured for the client process, the gunicorn workers and the
    PostgreSQL server processes of the benchmark's database.
    """

    name: str
    started: float = 0.0
    finished: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    postgres_cpu: float = 0.0
    tally: Tally = field(default_factory=Tally)

    @property
    def requests(self) -> int:
        return sum(self.tally.statuses.values())

    @property
    def errors(self) -> int:
        return self.tally.errors

    @property
    def latencies_ms(self) -> list[float]:
        return self.tally.latencies_ms

    @property
    def seconds(self) -> float:
        return max(self.finished - self.started, 0.0)

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def add(self, tally: Tally) -> None:
        self.tally.latencies_ms += tally.latencies_ms
        self.tally.statuses.update(tally.statuses)
        self.tally.errors += tally.errors
        self.tally.problems += tally.problems
        for label, latencies in tally.by_label.items():
            self.tally.by_label.setdefault(label, []).extend(latencies)
        self.finished = max(self.finished, time.perf_counter())

    def summary(self) -> list[str]:
        n = max(self.requests, 1)
        lines = [
            f"{self.name}: {self.requests} requests in {self.seconds:.1f} s, {self.rate:.1f}/s, "
            f"answers {dict(sorted(self.tally.statuses.items(), key=str))}, errors {self.errors}, "
            f"p50 {percentile(self.latencies_ms, 50):.1f} ms, p99 {percentile(self.latencies_ms, 99):.1f} ms, "
            f"max {max(self.latencies_ms, default=math.nan):.1f} ms",
            f"  CPU per request: gunicorn workers {self.server_cpu / n * 1000:.2f} ms, "
            f"PostgreSQL {self.postgres_cpu / n * 1000:.2f} ms, client {self.client_cpu / n * 1000:.2f} ms",
        ]
        if self.tally.by_label:
            lines.append("  latency by kind: " + ", ".join(
                f"{label} ({len(values)}) p50 {percentile(values, 50):.1f} / p99 {percentile(values, 99):.1f} ms"
                for label, values in self.tally.by_label.items()))
        lines += [f"  error: {problem}" for problem in self.tally.problems[:5]]
        return lines


def run_closed_loop(server: Gunicorn, database: str, clients: int, phases: list[Phase], *,
                    prepare: Callable[[int], object], work: Callable[[Phase, object, int], Tally],
                    close: Callable[[object], None] = lambda client: None, timeout: float = 600) -> list[str]:
    """Run ``clients`` threads through ``phases`` one after the other and fill in each phase's numbers.

    ``prepare(i)`` makes client ``i`` (connections, cookies, warm-up: not measured) and returns it;
    ``work(phase, client, i)`` sends that client's requests of the phase back to back and returns its ``Tally``;
    ``close(client)`` runs at the end. The clients and this thread meet at barriers (after the warm-up, at the
    start and at the end of each phase) so that clocks and CPU counters are read exactly at the phase boundaries.
    Returns the setup failures; when there are any, nothing was measured.
    """
    lock = threading.Lock()
    gates = threading.Barrier(clients + 1, timeout=timeout)
    failures: list[str] = []

    def client_thread(i: int) -> None:
        client = None
        try:
            client = prepare(i)
        except Exception as error:  # noqa: BLE001 - reported, and the run is stopped
            with lock:
                failures.append(f"client {i}: {type(error).__name__}: {error}")
        try:
            gates.wait()  # warm-up done
            for phase in phases:
                gates.wait()  # start
                tally = work(phase, client, i)
                with lock:
                    phase.add(tally)
                gates.wait()  # end
        except threading.BrokenBarrierError:
            pass
        finally:
            if client is not None:
                close(client)

    threads = [threading.Thread(target=client_thread, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    gates.wait()
    if failures:
        gates.abort()
        for thread in threads:
            thread.join()
        return failures
    meters = (CpuMeter(server.worker_pids), CpuMeter(lambda: postgres_backend_pids(database)))
    for phase in phases:
        for meter in meters:
            meter.start()
        client_cpu = time.process_time()
        phase.started = time.perf_counter()
        gates.wait()  # start
        gates.wait()  # end
        phase.client_cpu = time.process_time() - client_cpu
        phase.server_cpu, phase.postgres_cpu = (meter.stop() for meter in meters)
    for thread in threads:
        thread.join()
    return []


# ------------------------------------------------------------------ numbers


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by the nearest-rank method: a value that was really observed."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def bench_line(name: str, **fields) -> str:
    """``BENCH <name> key=value ...``: the one line a benchmark ends with, parsed by whoever compares runs."""
    def fmt(value) -> str:
        if isinstance(value, float):
            return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
        return str(value)

    return " ".join(["BENCH", name, *(f"{key}={fmt(value)}" for key, value in fields.items())])
