"""Re-authentication: the password asked again before a sensitive action (a chief judge unlocking a submitted score,
typing in a paper sheet for a judge, asking a panel to re-score; the round lock chain).

    from accounts.reauth import ReauthError, confirm_password

    confirm_password(current_user, form.password.data, now=utcnow(), remote_addr=request.remote_addr)

``confirm_password`` returns None when the password is right and raises ``ReauthError`` (a DomainError) when it is
missing (``password_required``, 422), wrong (``wrong_password``, 403) or when too many wrong passwords were given
for this account within the window (``throttled``, 429; the same limits as the login form). A wrong password is
recorded (``login_failures``, under ``reauth:<user id>``) so that it counts: **the caller must commit that record
and change nothing else** — :func:`keep_failure` does it (roll back the unit of work, record again, commit).
A right password clears the account's re-authentication failures.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _

from accounts.models import LoginFailure
from core.errors import DomainError
from extensions import db

DEFAULT_MAX_FAILURES = 5
DEFAULT_WINDOW_MINUTES = 15


class ReauthError(DomainError):
    def __init__(self, code: str, message: str, *, status: int, field: str | None = "password",
                 key: str | None = None, remote_addr: str | None = None, at: datetime | None = None):
        super().__init__(code, message, status=status, field=field)
        self.details: dict = {}
        self._failure = (key, remote_addr, at) if key else None


def _key(user) -> str:
    return f"reauth:{user.id}"


def _limits() -> tuple[int, timedelta]:
    if has_app_context():
        config = current_app.config
        return (int(config.get("LOGIN_MAX_FAILURES", DEFAULT_MAX_FAILURES)),
                timedelta(minutes=int(config.get("LOGIN_FAILURE_WINDOW_MINUTES", DEFAULT_WINDOW_MINUTES))))
    return DEFAULT_MAX_FAILURES, timedelta(minutes=DEFAULT_WINDOW_MINUTES)


def confirm_password(user, password: str | None, *, now: datetime, remote_addr: str | None = None) -> None:
    """Check ``user``'s password again (see the module's text). Records a wrong password (flushed)."""
    if user is None or not getattr(user, "id", None):
        raise ReauthError("password_required", _("Log in first."), status=401)
    max_failures, window = _limits()
    key = _key(user)
    failures = db.session.scalar(sa.select(sa.func.count(LoginFailure.id)).where(
        LoginFailure.login == key, LoginFailure.at >= now - window)) or 0
    if failures >= max_failures:
        raise ReauthError("throttled", _("Too many wrong passwords. Please wait %(minutes)d minutes and try again.",
                                         minutes=int(window.total_seconds() // 60)), status=429)
    if not password:
        raise ReauthError("password_required", _("Enter your password again to confirm this action."), status=422)
    if not user.check_password(password):
        addr = (remote_addr or "unknown")[:64]
        db.session.add(LoginFailure(login=key, remote_addr=addr, at=now))
        db.session.flush()
        raise ReauthError("wrong_password", _("The password is wrong; nothing was changed."), status=403,
                          key=key, remote_addr=addr, at=now)
    if failures:
        db.session.execute(sa.delete(LoginFailure).where(LoginFailure.login == key))


def keep_failure(error: DomainError) -> None:
    """After a refused action: roll the unit of work back and keep only the wrong password's record (committed),
    so that it counts towards throttling while nothing else changes."""
    db.session.rollback()
    failure = getattr(error, "_failure", None)
    if failure:
        key, addr, at = failure
        db.session.add(LoginFailure(login=key, remote_addr=addr, at=at))
        db.session.commit()
