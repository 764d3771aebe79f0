"""accounts/services.py called directly: login throttling, passwords, API tokens, users and memberships."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import ApiToken, LoginFailure, Membership, MembershipRole, User
from accounts.services import (
    AccountError,
    add_membership,
    authenticate,
    change_password,
    create_api_token,
    create_user,
    find_user_by_api_token,
    list_api_tokens,
    revoke_api_token,
)
from tests.conftest import NOW, Factory

PASSWORD = Factory.PASSWORD
MAX = 5
WINDOW = timedelta(minutes=15)


def attempt(login: str, password: str, *, addr: str = "10.0.0.1", now=NOW, max_failures: int = MAX):
    return authenticate(login, password, remote_addr=addr, now=now, max_failures=max_failures, window=WINDOW)


def failures(db, login: str | None = None) -> int:
    query = sa.select(sa.func.count(LoginFailure.id))
    if login is not None:
        query = query.where(LoginFailure.login == login)
    return db.session.scalar(query)


def error_code(call, *args, **kwargs) -> str:
    with pytest.raises(AccountError) as excinfo:
        call(*args, **kwargs)
    return excinfo.value.code


@pytest.fixture()
def user(factory):
    return factory.user("zhang.wei@example.org", "张伟")


# ---------------------------------------------------------------- authenticate


def test_right_password_returns_the_user(db, user):
    assert attempt("zhang.wei@example.org", PASSWORD) == user
    assert attempt("  ZHANG.WEI@Example.org ", PASSWORD) == user  # login is trimmed and case-insensitive


@pytest.mark.parametrize("password", ["wrong-password", "", PASSWORD.upper(), PASSWORD + " "])
def test_wrong_password_counts_a_failure(db, user, password):
    assert error_code(attempt, "zhang.wei@example.org", password) == "invalid_credentials"
    db.session.commit()
    assert failures(db, "zhang.wei@example.org") == 1
    row = db.session.scalar(sa.select(LoginFailure))
    assert (row.remote_addr, row.at) == ("10.0.0.1", NOW)


def test_unknown_login_counts_a_failure_with_the_same_error(db, user):
    with pytest.raises(AccountError) as excinfo:
        attempt("nobody@example.org", PASSWORD)
    assert excinfo.value.code == "invalid_credentials" and excinfo.value.status == 401
    assert failures(db, "nobody@example.org") == 1


def test_inactive_user_cannot_log_in(db, user):
    user.active = False
    db.session.commit()
    assert error_code(attempt, user.login, PASSWORD) == "invalid_credentials"


def test_throttled_after_max_failures_even_with_the_right_password(db, user):
    for i in range(MAX):
        assert error_code(attempt, user.login, "wrong", now=NOW + timedelta(seconds=i)) == "invalid_credentials"
    with pytest.raises(AccountError) as excinfo:
        attempt(user.login, PASSWORD, now=NOW + timedelta(minutes=1))
    assert excinfo.value.code == "throttled"
    assert excinfo.value.status == 429
    assert "15" in excinfo.value.message  # tells how long to wait
    # A throttled attempt is not itself recorded (no self-extending lockout).
    assert failures(db, user.login) == MAX


def test_one_failure_less_than_the_limit_still_lets_the_right_password_in(db, user):
    for _ in range(MAX - 1):
        error_code(attempt, user.login, "wrong")
    assert attempt(user.login, PASSWORD) == user


def test_failures_older_than_the_window_do_not_count(db, user):
    for i in range(MAX):
        error_code(attempt, user.login, "wrong", now=NOW + timedelta(seconds=i))
    # Exactly at the window's edge the oldest failure still counts ...
    assert error_code(attempt, user.login, PASSWORD, now=NOW + WINDOW) == "throttled"
    # ... one second later it has expired and the right password works again.
    assert attempt(user.login, PASSWORD, now=NOW + WINDOW + timedelta(seconds=1)) == user


def test_success_clears_the_failures_of_that_login(db, user, factory):
    other = factory.user("li.na@example.org", "李娜")
    for _ in range(MAX - 1):
        error_code(attempt, user.login, "wrong")
    error_code(attempt, other.login, "wrong")
    attempt(user.login, PASSWORD)
    db.session.commit()
    assert failures(db, user.login) == 0
    assert failures(db, other.login) == 1
    # The counter starts again from zero: MAX - 1 new failures do not throttle.
    for _ in range(MAX - 1):
        error_code(attempt, user.login, "wrong")
    assert attempt(user.login, PASSWORD) == user


def test_failures_are_counted_per_login(db, user, factory):
    other = factory.user("li.na@example.org", "李娜")
    for _ in range(MAX):
        error_code(attempt, user.login, "wrong", addr="10.0.0.1")
    assert error_code(attempt, user.login, PASSWORD, addr="10.9.9.9") == "throttled"  # another address too
    assert attempt(other.login, PASSWORD, addr="10.0.0.1") == other  # an office colleague is not locked out


def test_one_address_guessing_many_logins_is_throttled(db, user):
    for i in range(4 * MAX):
        error_code(attempt, f"guess{i}@example.org", "wrong", addr="203.0.113.7")
    assert error_code(attempt, user.login, PASSWORD, addr="203.0.113.7") == "throttled"
    assert attempt(user.login, PASSWORD, addr="198.51.100.1") == user


# ---------------------------------------------------------------- passwords


def test_change_password_bumps_the_session_version(db, user):
    old_version, old_id = user.session_version, user.get_id()
    change_password(user, current=PASSWORD, new="new-secret-2026", now=NOW)
    db.session.commit()
    db.session.expire_all()
    assert user.session_version == old_version + 1
    assert user.get_id() != old_id
    assert user.password_changed_at == NOW
    assert user.check_password("new-secret-2026")
    assert not user.check_password(PASSWORD)
    assert "new-secret-2026" not in user.password_hash


@pytest.mark.parametrize(
    ("current", "new", "code", "field"),
    [
        ("wrong-current", "new-secret-2026", "wrong_password", "current_password"),
        (PASSWORD, "short", "password_too_short", "new_password"),
        (PASSWORD, "", "password_too_short", "new_password"),
    ],
)
def test_change_password_errors_change_nothing(db, user, current, new, code, field):
    version = user.session_version
    with pytest.raises(AccountError) as excinfo:
        change_password(user, current=current, new=new, now=NOW)
    assert (excinfo.value.code, excinfo.value.field) == (code, field)
    db.session.rollback()
    assert user.session_version == version
    assert user.check_password(PASSWORD)
    assert user.password_changed_at is None


# ---------------------------------------------------------------- users and memberships


def test_create_user_normalizes_and_hashes(db):
    user = create_user(login="  Wang.Zhe@Example.ORG ", name=" 王喆 ", password="long-enough-1")
    db.session.commit()
    assert (user.login, user.name) == ("wang.zhe@example.org", "王喆")
    assert user.password_hash != "long-enough-1" and user.check_password("long-enough-1")
    assert user.session_version == 1 and not user.is_superuser


@pytest.mark.parametrize(
    ("login", "password", "code"),
    [("zhang.wei@example.org", "long-enough-1", "login_taken"), ("ZHANG.WEI@example.org", "long-enough-1", "login_taken"),
     ("   ", "long-enough-1", "login_required"), ("new@example.org", "1234567", "password_too_short")],
)
def test_create_user_errors(db, user, login, password, code):
    assert error_code(create_user, login=login, name="某人", password=password) == code
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_add_membership_is_idempotent_per_role_and_event(db, user, factory):
    org = factory.organization()
    event = factory.event(org)
    first = add_membership(user, org, MembershipRole.ORGANIZER)
    assert add_membership(user, org, MembershipRole.ORGANIZER) is first
    add_membership(user, org, MembershipRole.CHECKIN_STAFF, event=event)
    add_membership(user, org, MembershipRole.CHECKIN_STAFF, event=event)
    add_membership(user, org, MembershipRole.CHECKIN_STAFF)
    db.session.commit()
    rows = db.session.execute(sa.select(Membership.role, Membership.event_id).order_by(Membership.id)).all()
    assert [(r.role, r.event_id) for r in rows] == [
        (MembershipRole.ORGANIZER, None),
        (MembershipRole.CHECKIN_STAFF, event.id),
        (MembershipRole.CHECKIN_STAFF, None),
    ]


# ---------------------------------------------------------------- API tokens


def test_create_api_token_stores_only_the_hash(db, user):
    token, secret = create_api_token(user, name=" 门口扫码枪1 ", now=NOW)
    db.session.commit()
    assert secret.startswith("sh_") and len(secret) > 40
    stored = db.session.get(ApiToken, token.id)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.prefix == secret[:10]
    assert stored.name == "门口扫码枪1"
    # The secret itself is in no column of the row.
    row = db.session.execute(sa.select(ApiToken.__table__).where(ApiToken.id == token.id)).one()
    assert all(secret not in str(value) for value in row)


def test_create_api_token_needs_a_name(db, user):
    assert error_code(create_api_token, user, name="  ", now=NOW) == "name_required"


def test_tokens_are_unique(db, user):
    secrets_ = {create_api_token(user, name=f"t{i}", now=NOW)[1] for i in range(5)}
    assert len(secrets_) == 5
    assert len(list_api_tokens(user)) == 5


def test_find_user_by_api_token(db, user):
    token, secret = create_api_token(user, name="大屏", now=NOW)
    db.session.commit()
    assert find_user_by_api_token(secret, now=NOW) == user
    assert token.last_used_at == NOW
    # Touched at most once a minute.
    assert find_user_by_api_token(secret, now=NOW + timedelta(seconds=30)) == user
    assert token.last_used_at == NOW
    assert find_user_by_api_token(secret, now=NOW + timedelta(minutes=2)) == user
    assert token.last_used_at == NOW + timedelta(minutes=2)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # altered
        lambda s: s[3:],  # without the prefix
        lambda s: "",
        lambda s: s + "x" * 100,  # too long
        lambda s: token_hash_of(s),  # the stored hash is not a password
    ],
)
def test_find_user_by_api_token_rejects_wrong_secrets(db, user, mangle):
    _token, secret = create_api_token(user, name="扫码", now=NOW)
    db.session.commit()
    assert find_user_by_api_token(mangle(secret), now=NOW) is None


def token_hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def test_revoked_token_finds_nobody(db, user):
    token, secret = create_api_token(user, name="旧手机", now=NOW)
    revoke_api_token(user, token.id, now=NOW + timedelta(hours=1))
    db.session.commit()
    assert token.revoked_at == NOW + timedelta(hours=1)
    assert find_user_by_api_token(secret, now=NOW + timedelta(hours=2)) is None
    revoke_api_token(user, token.id, now=NOW + timedelta(hours=3))  # again: keeps the first time
    assert token.revoked_at == NOW + timedelta(hours=1)


def test_token_of_an_inactive_user_finds_nobody(db, user):
    _token, secret = create_api_token(user, name="扫码", now=NOW)
    user.active = False
    db.session.commit()
    assert find_user_by_api_token(secret, now=NOW) is None


def test_cannot_revoke_someone_elses_token(db, user, factory):
    other = factory.user("li.na@example.org", "李娜")
    token, secret = create_api_token(other, name="她的", now=NOW)
    db.session.commit()
    assert error_code(revoke_api_token, user, token.id, now=NOW) == "not_found"
    assert error_code(revoke_api_token, user, 987654, now=NOW) == "not_found"
    assert find_user_by_api_token(secret, now=NOW) == other
