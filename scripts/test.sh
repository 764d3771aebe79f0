#!/usr/bin/env bash
# Run the whole suite twice: on SQLite, then on PostgreSQL (127.0.0.1:5432, user postgres, database test).
# Without PostgreSQL the second run is skipped with a message; on CI (CI=true) that is a failure.
# Extra arguments go to pytest, e.g. scripts/test.sh -k checkin
# Each run is spread over SAIHUI_TEST_WORKERS processes (pytest-xdist; default 2, the cores of the CI machine;
# 0 = one process, as plain pytest). Each process has its own database (tests/conftest.py).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
bash scripts/system-deps.sh
on_ci=false; case "${CI:-}" in 1|true|TRUE|yes) on_ci=true ;; esac
PG_URL=${SAIHUI_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}

pg_ready() { .venv/bin/python - "$PG_URL" <<'PY'
import sys, sqlalchemy as sa
try:
    sa.create_engine(sys.argv[1]).connect().close()
except Exception as e:
    print(f"PostgreSQL not reachable: {e}".splitlines()[0], file=sys.stderr); sys.exit(1)
PY
}

if ! pg_ready 2>/dev/null && $on_ci && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 20); do pg_ready 2>/dev/null && break; sleep 1; done
fi

workers=${SAIHUI_TEST_WORKERS:-2}
parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers" --dist worksteal)

status=0
echo "=== pytest on SQLite ==="
env -u TEST_DATABASE_URL .venv/bin/python -m pytest "${parallel[@]}" "$@" || status=1

echo "=== pytest on PostgreSQL ==="
if pg_ready; then
  TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "${parallel[@]}" "$@" || status=1
else
  if $on_ci; then
    echo "FAIL: PostgreSQL is required on CI and is not reachable at $PG_URL" >&2
    status=1
  else
    echo "SKIPPED: PostgreSQL is not reachable at $PG_URL; only SQLite was tested." >&2
  fi
fi
exit $status
