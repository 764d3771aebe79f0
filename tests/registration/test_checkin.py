"""registration.checkin: the check-in use cases, called directly; assertions on codes and on the database."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.models import AuditEntry
from events.models import EventState
from registration import checkin
from registration.checkin import CheckinError
from registration.models import (
    CheckIn,
    CheckInSource,
    MemberRole,
    RegistrationKind,
    RegistrationSession,
    RegistrationSettings,
    RegistrationState,
    ScanFailure,
    ScanRequest,
)
from registration.services import MemberData, SignupData, register_participant
from registration.tickets import ticket_keys, ticket_token
from registration.tokens import derive_ticket_key, sign_ticket
from tests.conftest import NOW
from tests.test_access import make_user

LATER = NOW + timedelta(minutes=7)


@pytest.fixture()
def setup(db, factory):
    org = factory.organization("海峡信息协会")
    event = factory.event(org, status="published", sessions=2)
    other_event = factory.event(org, title="月度技术沙龙", kind="salon", status="published", sessions=1)
    staff = make_user(db, "gate1@example.org", "陈签到", [(org, "checkin_staff", event)])
    staff2 = make_user(db, "gate2@example.org", "林签到", [(org, "checkin_staff", event)])
    db.session.commit()
    return {"org": org, "event": event, "other_event": other_event, "staff": staff, "staff2": staff2}


def sign_up(db, event, name="林一鸣", phone="13900000001", unit="厦门大学", **extra):
    registration, _key = register_participant(event, SignupData(name=name, phone=phone, unit=unit, **extra), now=NOW,
                                              ignore_window=True)
    db.session.commit()
    return registration


def scan(db, event, token, *, actor, nonce=None, now=NOW, **kwargs):
    """One scan as the API runs it: check in and commit, or roll back and record the failure, then re-raise."""
    try:
        outcome = checkin.check_in(event, token, nonce=nonce, actor=actor, now=now, **kwargs)
        db.session.commit()
        return outcome
    except CheckinError as error:
        db.session.rollback()
        checkin.record_scan_failure(event, error, token=token, session_id=kwargs.get("session_id"), nonce=nonce,
                                    actor=actor, now=now)
        db.session.commit()
        raise


def error_of(call) -> CheckinError:
    with pytest.raises(CheckinError) as caught:
        call()
    return caught.value


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- a good scan


def test_a_scan_checks_in_an_approved_signup_and_answers_the_contract(db, setup):
    event, staff = setup["event"], setup["staff"]
    registration = sign_up(db, event)

    outcome = scan(db, event, ticket_token(registration), actor=staff, nonce="n-1")

    assert outcome.status == 200 and not outcome.replayed
    assert outcome.body == {
        "result": "ok",
        "registration": {"id": registration.id, "name": "林一鸣", "unit": "厦门大学", "kind": "individual",
                         "contact_name": "林一鸣", "group": None},
        "checked_in_at": "2026-11-24T02:00:00+00:00",
        "checked_in_by": "陈签到",
        "session": None,
    }
    row = db.session.scalar(sa.select(CheckIn))
    assert (row.registration_id, row.event_id, row.session_id, row.session_key, row.active_key) == (
        registration.id, event.id, None, 0, 0)
    assert row.checked_in_at == NOW and row.recorded_at == NOW
    assert row.actor_id == staff.id and row.source == CheckInSource.SCAN and row.nonce == "n-1"
    stored = db.session.scalar(sa.select(ScanRequest))
    assert (stored.nonce, stored.status_code, stored.response) == ("n-1", 200, outcome.body)


def test_a_second_scan_is_already_checked_in_with_the_first_time_and_who(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    token = ticket_token(registration)
    scan(db, event, token, actor=setup["staff"], nonce="first")

    again = scan(db, event, token, actor=setup["staff2"], nonce="second", now=LATER)

    assert again.result == "already_checked_in"
    assert again.body["checked_in_at"] == "2026-11-24T02:00:00+00:00"
    assert again.body["checked_in_by"] == "陈签到"
    assert count(db, CheckIn) == 1
    assert count(db, ScanRequest) == 2


def test_the_same_nonce_again_returns_the_first_answer_exactly_and_changes_nothing(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    token = ticket_token(registration)
    first = scan(db, event, token, actor=setup["staff"], nonce="retry-me")

    # The phone lost the answer and sends the very same request later (another staff member is logged in now).
    again = scan(db, event, token, actor=setup["staff2"], nonce="retry-me", now=LATER)

    assert again.replayed and again.status == 200
    assert again.body == first.body  # "ok", not "already_checked_in": the first answer
    assert count(db, CheckIn) == 1 and count(db, ScanRequest) == 1


def test_the_same_nonce_for_another_ticket_or_event_is_refused(db, setup):
    event, other_event = setup["event"], setup["other_event"]
    one = sign_up(db, event)
    two = sign_up(db, event, name="黄二妹", phone="13900000002")
    scan(db, event, ticket_token(one), actor=setup["staff"], nonce="dup")

    for target, token in [(event, ticket_token(two)), (other_event, ticket_token(one))]:
        error = error_of(lambda target=target, token=token: scan(db, target, token, actor=setup["staff"], nonce="dup"))
        assert (error.code, error.status, error.record) == ("nonce_reused", 409, False)
    assert count(db, CheckIn) == 1
    assert count(db, ScanFailure) == 0


# ---------------------------------------------------------------- refused scans


def altered(token: str) -> str:
    """The token with one character in the middle changed (still base32)."""
    i = 10
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda reg: "hello", "malformed"),
        (lambda reg: "", "malformed"),
        (lambda reg: "https://example.org/not-a-ticket", "malformed"),
        (lambda reg: altered(ticket_token(reg)), "forged"),
        (lambda reg: sign_ticket(reg.event_id, reg.id, key_id=1, keys={1: derive_ticket_key("a-guessed-secret", 1)}),
         "forged"),
        (lambda reg: sign_ticket(reg.event_id, reg.id, key_id=200, keys={200: derive_ticket_key("x", 200)}),
         "unknown_key"),
    ],
    ids=["garbage", "empty", "url", "altered", "other-secret", "unknown-key"],
)
def test_bad_tokens_are_invalid_token_and_the_failure_is_kept_with_its_reason(db, setup, make, reason):
    event = setup["event"]
    registration = sign_up(db, event)
    token = make(registration)

    error = error_of(lambda: scan(db, event, token, actor=setup["staff"], nonce="bad-1"))

    assert (error.code, error.status, error.reason) == ("invalid_token", 400, reason)
    assert count(db, CheckIn) == 0
    failure = db.session.scalar(sa.select(ScanFailure))
    assert (failure.code, failure.reason, failure.token, failure.actor_id, failure.event_id) == (
        "invalid_token", reason, token, setup["staff"].id, event.id)


def test_a_refused_scan_retried_with_its_nonce_gets_the_same_error_and_is_kept_once(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    token = altered(ticket_token(registration))
    error_of(lambda: scan(db, event, token, actor=setup["staff"], nonce="bad-again"))

    replay = checkin.check_in(event, token, nonce="bad-again", actor=setup["staff"], now=LATER)

    assert replay.replayed and replay.status == 400
    assert replay.body["error"]["code"] == "invalid_token"
    assert count(db, ScanFailure) == 1


def test_a_failed_scan_keeps_a_long_payload_cut_and_without_control_characters(db, setup):
    event = setup["event"]
    token = "\x00\ud800" + "X" * 5000
    error_of(lambda: scan(db, event, token, actor=setup["staff"], nonce="long"))
    failure = db.session.scalar(sa.select(ScanFailure))
    assert len(failure.token) == checkin.TOKEN_KEPT
    assert failure.token.startswith("\N{REPLACEMENT CHARACTER}\N{REPLACEMENT CHARACTER}XXX")


def test_a_ticket_of_another_event_is_wrong_event(db, setup):
    event, other_event = setup["event"], setup["other_event"]
    foreign = sign_up(db, other_event)

    error = error_of(lambda: scan(db, event, ticket_token(foreign), actor=setup["staff"], nonce="w"))

    assert (error.code, error.status) == ("wrong_event", 409)
    assert count(db, CheckIn) == 0
    assert db.session.scalar(sa.select(ScanFailure.reason)) == "wrong_event"


def test_a_genuine_ticket_without_its_signup_is_not_found(db, setup):
    event = setup["event"]
    token = sign_ticket(event.id, 987654, key_id=1, keys=ticket_keys())
    error = error_of(lambda: scan(db, event, token, actor=setup["staff"], nonce="nf"))
    assert (error.code, error.status) == ("not_found", 404)
    assert db.session.scalar(sa.select(ScanFailure.code)) == "not_found"


@pytest.mark.parametrize("state", ["pending", "waitlisted", "rejected", "cancelled"])
def test_a_signup_that_is_not_approved_is_refused_and_named(db, setup, state):
    event = setup["event"]
    registration = sign_up(db, event)
    registration.status = RegistrationState(state)
    db.session.commit()

    error = error_of(lambda: scan(db, event, ticket_token(registration), actor=setup["staff"], nonce="na"))

    assert (error.code, error.status) == ("not_approved", 409)
    assert error.details["status"] == state
    assert error.details["registration"]["name"] == "林一鸣"
    assert count(db, CheckIn) == 0
    failure = db.session.scalar(sa.select(ScanFailure))
    assert (failure.code, failure.registration_id) == ("not_approved", registration.id)


def test_an_archived_event_takes_no_check_in(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    event.status = EventState.ARCHIVED
    db.session.commit()
    error = error_of(lambda: scan(db, event, ticket_token(registration), actor=setup["staff"], nonce="arch"))
    assert (error.code, error.status) == ("archived", 409)
    assert count(db, CheckIn) == 0 and count(db, ScanFailure) == 0


# ---------------------------------------------------------------- sessions


def test_session_check_ins_are_separate_per_session_and_from_the_event(db, setup):
    event = setup["event"]
    first, second = event.sessions
    registration = sign_up(db, event)
    token = ticket_token(registration)

    answers = [scan(db, event, token, actor=setup["staff"], nonce=f"s{i}", session_id=place).result
               for i, place in enumerate([None, first.id, second.id, first.id, None])]

    assert answers == ["ok", "ok", "ok", "already_checked_in", "already_checked_in"]
    keys = sorted(db.session.scalars(sa.select(CheckIn.session_key)))
    assert keys == sorted([0, first.id, second.id])


def test_a_session_of_another_event_is_unknown_session(db, setup):
    event, other_event = setup["event"], setup["other_event"]
    registration = sign_up(db, event)
    error = error_of(lambda: scan(db, event, ticket_token(registration), actor=setup["staff"], nonce="us",
                                  session_id=other_event.sessions[0].id))
    assert (error.code, error.status, error.record) == ("unknown_session", 422, False)
    assert count(db, CheckIn) == 0 and count(db, ScanFailure) == 0


def test_a_signup_that_chose_sessions_is_refused_at_another_session(db, setup):
    event = setup["event"]
    first, second = event.sessions
    registration = sign_up(db, event)
    registration.sessions = [RegistrationSession(session_id=first.id, holds_seat=True)]
    db.session.commit()
    token = ticket_token(registration)

    error = error_of(lambda: scan(db, event, token, actor=setup["staff"], nonce="ws", session_id=second.id))
    assert (error.code, error.status) == ("wrong_session", 409)
    assert scan(db, event, token, actor=setup["staff"], nonce="rs", session_id=first.id).result == "ok"
    assert scan(db, event, token, actor=setup["staff"], nonce="ev").result == "ok"  # the event's own door


# ---------------------------------------------------------------- queued offline scans


def test_a_queued_offline_scan_is_checked_in_at_its_scan_time(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    scanned_at = datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=8)))  # 01:30 UTC, half an hour ago

    outcome = scan(db, event, ticket_token(registration), actor=setup["staff"], nonce="q", scanned_at=scanned_at)

    assert outcome.body["checked_in_at"] == "2026-11-24T01:30:00+00:00"
    row = db.session.scalar(sa.select(CheckIn))
    assert row.checked_in_at == datetime(2026, 11, 24, 1, 30, tzinfo=timezone.utc)
    assert row.recorded_at == NOW


@pytest.mark.parametrize(
    "scanned_at",
    [NOW + timedelta(minutes=6), NOW + timedelta(days=400), NOW - timedelta(days=31), datetime(2026, 11, 24, 1, 0)],
    ids=["six-minutes-ahead", "next-year", "a-month-ago", "no-time-zone"],
)
def test_scan_times_in_the_future_long_ago_or_without_zone_are_refused(db, setup, scanned_at):
    event = setup["event"]
    registration = sign_up(db, event)
    error = error_of(lambda: scan(db, event, ticket_token(registration), actor=setup["staff"], nonce="t",
                                  scanned_at=scanned_at))
    assert (error.code, error.status) == ("invalid_scanned_at", 422)
    assert count(db, CheckIn) == 0


def test_a_phone_clock_a_little_ahead_is_taken_as_now(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    outcome = scan(db, event, ticket_token(registration), actor=setup["staff"], nonce="skew",
                   scanned_at=NOW + timedelta(minutes=2))
    assert outcome.body["checked_in_at"] == "2026-11-24T02:00:00+00:00"


# ---------------------------------------------------------------- by hand, undo


def test_a_check_in_by_hand_follows_the_same_rules(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    outcome = checkin.check_in_registration(event, registration.id, nonce="m1", actor=setup["staff"], now=NOW)
    db.session.commit()
    assert outcome.result == "ok"
    assert db.session.scalar(sa.select(CheckIn.source)) == CheckInSource.MANUAL
    assert scan(db, event, ticket_token(registration), actor=setup["staff"], nonce="m2").result == "already_checked_in"
    foreign = sign_up(db, setup["other_event"], phone="13900000009")
    error = error_of(lambda: checkin.check_in_registration(event, foreign.id, actor=setup["staff"], now=NOW))
    assert (error.code, error.status) == ("not_found", 404)


def test_undo_takes_back_the_actors_last_check_in_keeps_the_row_and_allows_a_new_one(db, setup):
    event, staff, staff2 = setup["event"], setup["staff"], setup["staff2"]
    one = sign_up(db, event)
    two = sign_up(db, event, name="黄二妹", phone="13900000002")
    three = sign_up(db, event, name="吴三", phone="13900000003")
    scan(db, event, ticket_token(one), actor=staff, nonce="u1")
    scan(db, event, ticket_token(two), actor=staff, nonce="u2", now=NOW + timedelta(seconds=5))
    scan(db, event, ticket_token(three), actor=staff2, nonce="u3", now=NOW + timedelta(seconds=9))

    undone = checkin.undo_last_check_in(event, actor=staff, now=LATER)
    db.session.commit()

    assert undone.registration_id == two.id  # staff's last, not staff2's later one
    assert (undone.active_key, undone.undone_at, undone.undone_by_id) == (None, LATER, staff.id)
    assert count(db, CheckIn) == 3  # kept
    audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "checkin.undo"))
    assert (audit.object_id, audit.actor_id, audit.details["registration_id"]) == (undone.id, staff.id, two.id)

    again = scan(db, event, ticket_token(two), actor=staff, nonce="u4", now=LATER)
    assert again.result == "ok"
    assert count(db, CheckIn, CheckIn.registration_id == two.id) == 2
    assert count(db, CheckIn, CheckIn.registration_id == two.id, CheckIn.active_key.is_not(None)) == 1

    # The same nonce as the undone check-in still returns its first answer: "ok", and checks nobody in.
    assert scan(db, event, ticket_token(two), actor=staff, nonce="u2", now=LATER).replayed


def test_undo_with_nothing_to_undo_is_refused(db, setup):
    event = setup["event"]
    registration = sign_up(db, event)
    scan(db, event, ticket_token(registration), actor=setup["staff2"], nonce="x")
    error = error_of(lambda: checkin.undo_last_check_in(event, actor=setup["staff"], now=LATER))
    assert (error.code, error.status) == ("nothing_to_undo", 409)
    error = error_of(lambda: checkin.undo_last_check_in(event, actor=setup["staff2"], now=LATER,
                                                        session_id=event.sessions[0].id))
    assert error.code == "nothing_to_undo"  # the event's check-in is not the session's
    assert count(db, CheckIn, CheckIn.active_key.is_not(None)) == 1


def test_the_database_refuses_a_second_standing_check_in(db, setup):
    """The protection is the unique constraint, not only the query before the insert."""
    event = setup["event"]
    registration = sign_up(db, event)
    for _ in range(2):
        db.session.add(CheckIn(event_id=event.id, registration_id=registration.id, session_key=0, active_key=0,
                               checked_in_at=NOW, recorded_at=NOW, source=CheckInSource.SCAN))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    for active_key in (None, None, 0):  # undone rows do not collide
        db.session.add(CheckIn(event_id=event.id, registration_id=registration.id, session_key=0,
                               active_key=active_key, checked_in_at=NOW, recorded_at=NOW,
                               source=CheckInSource.SCAN))
    db.session.flush()
    assert count(db, CheckIn) == 3


# ---------------------------------------------------------------- lists


@pytest.fixture()
def crowd(db, setup):
    event = setup["event"]
    people = {
        "lin": sign_up(db, event, name="林一鸣", phone="13900001234", unit="厦门大学"),
        "huang": sign_up(db, event, name="黄二妹", phone="13900005678", unit="福州大学"),
        "percent": sign_up(db, event, name="百分之百", phone="13900000100", unit="100%科技"),
        "pending": sign_up(db, event, name="林待审", phone="13900009999", unit="厦门大学"),
    }
    people["pending"].status = RegistrationState.PENDING
    db.session.commit()
    return people


def names(entries) -> list[str]:
    return [e.registration.name for e in entries]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("林", ["林一鸣"]),  # approved only: 林待审 is pending
        ("  一鸣 ", ["林一鸣"]),
        ("1234", ["林一鸣"]),  # phone tail
        ("5678", ["黄二妹"]),
        ("厦门", ["林一鸣"]),  # unit
        ("％", ["百分之百"]),  # full-width % is NFKC-normalized, and % is not a wildcard
        ("%", ["百分之百"]),
        ("_", []),
        ("12", []),  # too short for a phone tail, and no name contains it
        ("", []),
    ],
)
def test_search_finds_approved_signups_by_name_unit_and_phone_tail(db, setup, crowd, query, expected):
    assert sorted(names(checkin.search_registrations(setup["event"], query))) == sorted(expected)


def test_search_finds_a_team_by_a_members_name_or_phone_and_shows_check_ins(db, setup):
    event = setup["event"]
    db.session.add(RegistrationSettings(event_id=event.id, kind=RegistrationKind.TEAM))
    db.session.commit()
    team = sign_up(db, event, name="张领队", phone="13700000001", team_name="鹭岛一队",
                   members=[MemberData(MemberRole.MEMBER, "王小明", "13700004321")])
    scan(db, event, ticket_token(team), actor=setup["staff"], nonce="team")

    for query in ("王小明", "4321", "鹭岛", "张领队"):
        found = checkin.search_registrations(event, query)
        assert names(found) == ["鹭岛一队"], query
        assert list(found[0].check_ins) == [0]


def test_the_roster_lists_approved_signups_with_their_check_ins(db, setup, crowd):
    event = setup["event"]
    first = event.sessions[0]
    scan(db, event, ticket_token(crowd["huang"]), actor=setup["staff"], nonce="r1")
    scan(db, event, ticket_token(crowd["huang"]), actor=setup["staff"], nonce="r2", session_id=first.id)

    roster = {e.registration.name: e for e in checkin.list_roster(event)}

    assert set(roster) == {"林一鸣", "黄二妹", "百分之百"}
    assert sorted(roster["黄二妹"].check_ins) == [0, first.id]
    assert roster["林一鸣"].check_ins == {}
