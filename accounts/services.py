"""Account use cases. They flush but never commit; the request (or CLI command) commits once."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from accounts.models import ApiToken, LoginFailure, Membership, MembershipRole, Organization, User, hash_api_token
from core.errors import DomainError
from extensions import db

TOKEN_PREFIX = "sh_"
MIN_PASSWORD_LENGTH = 8


class AccountError(DomainError):
    pass


def normalize_login(login: str) -> str:
    return (login or "").strip().lower()


def find_user_by_login(login: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.login == normalize_login(login)))


def count_recent_failures(login: str, remote_addr: str, now: datetime, window: timedelta) -> tuple[int, int]:
    since = now - window
    by_login = db.session.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(LoginFailure.login == login, LoginFailure.at >= since)
    )
    by_addr = db.session.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(
            LoginFailure.remote_addr == remote_addr, LoginFailure.at >= since
        )
    )
    return by_login or 0, by_addr or 0


def authenticate(
    login: str, password: str, *, remote_addr: str, now: datetime, max_failures: int, window: timedelta
) -> User:
    """Check a login. Too many failures for this account or this address within ``window`` throttle both.

    The address limit is ``4 × max_failures`` so that one office behind one address is not locked out by one
    person's typos, while a password-guessing script is.
    """
    login = normalize_login(login)
    by_login, by_addr = count_recent_failures(login, remote_addr, now, window)
    if by_login >= max_failures or by_addr >= 4 * max_failures:
        raise AccountError(
            "throttled",
            _("Too many failed attempts. Please wait %(minutes)d minutes and try again.",
              minutes=int(window.total_seconds() // 60)),
            status=429,
        )
    user = find_user_by_login(login)
    if user is None or not user.check_password(password) or not user.active:
        db.session.add(LoginFailure(login=login[:120], remote_addr=remote_addr[:64], at=now))
        db.session.flush()
        raise AccountError("invalid_credentials", _("Wrong account or password."), status=401)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.login == login))
    return user


def validate_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password_too_short",
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            status=422,
            field="new_password",
        )


def change_password(user: User, *, current: str, new: str, now: datetime) -> None:
    if not user.check_password(current):
        raise AccountError("wrong_password", _("The current password is wrong."), status=422, field="current_password")
    validate_new_password(new)
    user.set_password(new)
    user.password_changed_at = now
    user.session_version += 1
    db.session.flush()


def create_user(*, login: str, name: str, password: str, is_superuser: bool = False) -> User:
    login = normalize_login(login)
    if not login:
        raise AccountError("login_required", _("An account name (phone or e-mail) is required."), status=422)
    if find_user_by_login(login) is not None:
        raise AccountError("login_taken", _("This account already exists."), status=409)
    validate_new_password(password)
    user = User(login=login, name=name.strip(), is_superuser=is_superuser)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def add_membership(user: User, organization: Organization, role: MembershipRole, event=None) -> Membership:
    existing = db.session.scalar(
        sa.select(Membership).where(
            Membership.user_id == user.id,
            Membership.organization_id == organization.id,
            Membership.role == role,
            Membership.event_id == event.id if event is not None else Membership.event_id.is_(None),
        )
    )
    if existing is not None:
        return existing
    membership = Membership(user=user, organization=organization, role=role, event_id=event.id if event else None)
    db.session.add(membership)
    db.session.flush()
    return membership


def create_api_token(user: User, *, name: str, now: datetime) -> tuple[ApiToken, str]:
    """Create a token; return it and the secret, which is never stored and cannot be shown again."""
    name = (name or "").strip()
    if not name:
        raise AccountError("name_required", _("Give the token a name, e.g. “Door scanner 1”."), status=422, field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name[:80], token_hash=hash_api_token(secret), prefix=secret[:10], created_at=now)
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_api_token(user: User, token_id: int, *, now: datetime) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise AccountError("not_found", _("No such token."), status=404)
    if token.revoked_at is None:
        token.revoked_at = now
    db.session.flush()
    return token


# One query for the token, its user and the user's memberships (every API request needs all three); built once,
# as a statement made anew on every request costs about as much Python as running it.
_TOKEN_WITH_USER = (
    sa.select(ApiToken).where(ApiToken.token_hash == sa.bindparam("token_hash"))
    .options(joinedload(ApiToken.user).joinedload(User.memberships))
)


def find_user_by_api_token(secret: str, *, now: datetime) -> User | None:
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalars(_TOKEN_WITH_USER, {"token_hash": hash_api_token(secret)}).unique().first()
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    # Touch at most once a minute, so that a busy scanner does not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user


def list_api_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc()))
    )
