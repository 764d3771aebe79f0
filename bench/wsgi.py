"""The app as gunicorn serves it for benchmarks: production settings from the environment (SAIHUI_CONFIG is not
read: ProductionConfig always), the sign-up rate limit raised so that the load of one address is not refused, and
one bench-only route, the baseline.

``POST /_bench/baseline`` is the least a form POST can do in this stack: the same app, middleware, CSRF check,
session cookie and database connection pool as the sign-up form, then one row inserted and committed, then a
redirect. The sign-up rate divided by this rate says what the sign-up use case itself costs.

    gunicorn -w 4 -b 127.0.0.1:8000 bench.wsgi:app      (with SECRET_KEY and DATABASE_URL set)
"""
from __future__ import annotations

import os

from flask import redirect

from app import create_app
from config import ProductionConfig
from core.models import AuditEntry
from core.types import utcnow
from extensions import db


class BenchConfig(ProductionConfig):
    # All simulated participants come from 127.0.0.1: the per-address limit would refuse them after 60.
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "1000000 per minute")


app = create_app(BenchConfig)


@app.post("/_bench/baseline")
def bench_baseline():
    db.session.add(AuditEntry(at=utcnow(), action="bench.baseline", object_type="Bench", details={}))
    db.session.commit()
    return redirect("/")
