"""The check-in API (SPEC "JSON API (version 1)": POST /api/v1/events/<id>/checkins) and its companions: the JSON
contract, idempotency by nonce, failed scans kept, who may scan, and no 500 for any input (hypothesis)."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.services import create_api_token, revoke_api_token
from core.types import utcnow
from registration.models import CheckIn, RegistrationState, ScanFailure
from registration.services import SignupData, register_participant
from registration.tickets import ticket_keys, ticket_token
from registration.tokens import derive_ticket_key, sign_ticket
from tests.conftest import NOW
from tests.test_access import fresh_csrf_token, isolated_client, make_user

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
RESULT_FIELDS = {"result", "registration", "checked_in_at"}
HYPOTHESIS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture()
def client(app, db):
    return isolated_client(app)


class Api:
    """Org A: event A (two sessions) and event A2; org B: event B. Users with Bearer tokens."""

    def __init__(self, db, factory, client):
        self.db, self.client = db, client
        self.org_a = factory.organization("甲省信息协会")
        self.org_b = factory.organization("乙市软件行业协会")
        self.event = factory.event(self.org_a, status="published", sessions=2)
        self.event_a2 = factory.event(self.org_a, title="甲协会月度沙龙", kind="salon", status="published")
        self.event_b = factory.event(self.org_b, title="乙协会技能大赛", kind="competition", status="published")
        self.users = {  # one shared password hash (test_access.make_user): hashing is slow by design
            "staff": make_user(db, "gate@a.example.org", "陈签到", [(self.org_a, "checkin_staff", self.event)]),
            "staff_a2": make_user(db, "gate@a2.example.org", "郑签到",
                                  [(self.org_a, "checkin_staff", self.event_a2)]),
            "judge": make_user(db, "judge@a.example.org", "王评委", [(self.org_a, "judge", None)]),
            "organizer": make_user(db, "org@a.example.org", "李组织", [(self.org_a, "organizer", None)]),
            "other": make_user(db, "org@b.example.org", "赵乙方", [(self.org_b, "organizer", None)]),
            "participant": make_user(db, "13800000001", "林小雨"),
        }
        self.secrets = {role: create_api_token(user, name="扫码枪", now=NOW)[1] for role, user in self.users.items()}
        self.approved = self.sign_up(self.event, "林一鸣", "13900001234", "厦门大学")
        self.pending = self.sign_up(self.event, "黄二妹", "13900005678", "福州大学")
        self.pending.status = RegistrationState.PENDING
        self.foreign = self.sign_up(self.event_b, "吴三", "13900000003", "泉州学院")
        db.session.commit()
        self.token = ticket_token(self.approved)

    def sign_up(self, event, name, phone, unit):
        registration, _key = register_participant(event, SignupData(name=name, phone=phone, unit=unit), now=NOW,
                                                  ignore_window=True)
        return registration

    def url(self, event=None, suffix=""):
        return f"/api/v1/events/{(event or self.event).id}/checkins{suffix}"

    def post(self, body=None, *, role="staff", event=None, suffix="", raw=None, headers=None):
        headers = {"Authorization": f"Bearer {self.secrets[role]}", **(headers or {})}
        if raw is not None:
            return self.client.post(self.url(event, suffix), data=raw, headers=headers,
                                    content_type="application/json")
        return self.client.post(self.url(event, suffix), json=body, headers=headers)

    def scan(self, token=None, *, nonce=None, session_id=None, scanned_at=None, **kwargs):
        body = {"token": self.token if token is None else token, "session_id": session_id,
                "nonce": nonce or uuid.uuid4().hex, "scanned_at": scanned_at}
        return self.post(body, **kwargs)

    def get(self, suffix, *, role="staff", event=None):
        return self.client.get(self.url(event, suffix), headers={"Authorization": f"Bearer {self.secrets[role]}"})

    def count(self, model, *where):
        self.db.session.rollback()
        return self.db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture()
def api(db, factory, client):
    return Api(db, factory, client)


def error_code(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert set(data) == {"error"}
    assert isinstance(data["error"]["code"], str) and data["error"]["message"]
    return data["error"]["code"]


# ---------------------------------------------------------------- the contract


def test_a_scan_answers_ok_then_already_checked_in(api):
    first = api.scan()
    assert first.status_code == 200, first.get_data(as_text=True)
    data = first.get_json()
    assert RESULT_FIELDS <= set(data)
    assert data["result"] == "ok"
    assert {"id", "name", "unit"} <= set(data["registration"])
    assert (data["registration"]["id"], data["registration"]["name"], data["registration"]["unit"]) == (
        api.approved.id, "林一鸣", "厦门大学")
    checked_in_at = data["checked_in_at"]
    assert abs(utcnow() - datetime.fromisoformat(checked_in_at)) < timedelta(minutes=1)

    second = api.scan(role="organizer")
    assert second.status_code == 200
    assert second.get_json()["result"] == "already_checked_in"
    assert second.get_json()["checked_in_at"] == checked_in_at
    assert second.get_json()["checked_in_by"] == "陈签到"
    assert api.count(CheckIn) == 1


def test_the_same_nonce_returns_the_first_answer_exactly(api):
    first = api.scan(nonce="phone-1-scan-42")
    again = api.scan(nonce="phone-1-scan-42")
    assert again.status_code == 200
    assert again.get_data() == first.get_data()  # byte for byte: "ok" again, not "already_checked_in"
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert api.count(CheckIn) == 1
    other = api.scan(api.token.lower(), nonce="phone-1-scan-42")  # same nonce, another question
    assert error_code(other, 409) == "nonce_reused"


def test_a_queued_offline_scan_is_checked_in_at_its_scan_time(api):
    scanned = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    local = scanned.astimezone(timezone(timedelta(hours=8)))
    response = api.scan(scanned_at=local.isoformat())
    assert response.status_code == 200
    assert response.get_json()["checked_in_at"] == scanned.isoformat()
    api.db.session.rollback()
    row = api.db.session.scalar(sa.select(CheckIn))
    assert row.checked_in_at == scanned and row.recorded_at > scanned


@pytest.mark.parametrize(
    "scanned_at, code",
    [("2999-01-01T00:00:00+08:00", "invalid_scanned_at"), ("2026-11-24T10:00:00", "invalid_scanned_at"),
     ("yesterday", "invalid"), (1700000000, "invalid")],
)
def test_bad_scan_times_are_422(api, scanned_at, code):
    assert error_code(api.scan(scanned_at=scanned_at), 422) == code
    assert api.count(CheckIn) == 0


def test_session_check_ins_are_separate(api):
    first, second = api.event.sessions
    answers = [api.scan(session_id=s).get_json()["result"] for s in (first.id, second.id, first.id, None)]
    assert answers == ["ok", "ok", "already_checked_in", "ok"]
    assert api.count(CheckIn) == 3
    assert error_code(api.scan(session_id=api.event_b.id + 1000), 422) == "unknown_session"


# ---------------------------------------------------------------- refused scans, kept as data


def test_a_forged_token_is_invalid_token_and_the_failure_is_kept(api):
    forged = api.token[:12] + ("A" if api.token[12] != "A" else "B") + api.token[13:]
    assert error_code(api.scan(forged, nonce="f-1"), 400) == "invalid_token"
    assert api.count(CheckIn) == 0
    failure = api.db.session.scalar(sa.select(ScanFailure))
    assert (failure.reason, failure.token, failure.nonce, failure.actor_id) == (
        "forged", forged, "f-1", api.users["staff"].id)
    again = api.scan(forged, nonce="f-1")  # a retry of the same request: the same error, not kept twice
    assert again.status_code == 400 and again.headers.get("Idempotent-Replayed") == "true"
    assert api.count(ScanFailure) == 1


def test_a_token_signed_with_an_unknown_key_is_invalid_token_with_its_own_reason_logged(api, caplog):
    token = sign_ticket(api.event.id, api.approved.id, key_id=77, keys={77: derive_ticket_key("old", 77)})
    with caplog.at_level(logging.WARNING, logger="registration.checkin"):
        assert error_code(api.scan(token), 400) == "invalid_token"
    assert api.db.session.scalar(sa.select(ScanFailure.reason)) == "unknown_key"
    assert any("unknown" in r.getMessage() or "does not have" in r.getMessage() for r in caplog.records)


def test_a_ticket_of_another_event_is_wrong_event(api):
    response = api.scan(ticket_token(api.foreign))
    assert error_code(response, 409) == "wrong_event"
    assert "吴三" not in response.get_data(as_text=True)  # nothing about the other event's attendee
    assert api.db.session.scalar(sa.select(ScanFailure.reason)) == "wrong_event"


def test_a_pending_signup_is_not_approved(api):
    response = api.scan(ticket_token(api.pending))
    assert error_code(response, 409) == "not_approved"
    assert response.get_json()["error"]["status"] == "pending"
    assert api.count(CheckIn) == 0
    assert api.db.session.scalar(sa.select(ScanFailure.code)) == "not_approved"


def test_a_genuine_ticket_without_its_signup_is_not_found(api):
    token = sign_ticket(api.event.id, 4_000_000, key_id=1, keys=ticket_keys())
    assert error_code(api.scan(token), 404) == "not_found"


# ---------------------------------------------------------------- bad requests: 400/413/422 JSON, never 500


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({}, 422, "invalid"),
        ({"token": None, "nonce": "n"}, 422, "invalid"),
        ({"token": 12345, "nonce": "n"}, 422, "invalid"),
        ({"token": ["T"], "nonce": "n"}, 422, "invalid"),
        ({"token": "T", "registration_id": 1, "nonce": "n"}, 422, "invalid"),
        ({"token": "T"}, 422, "invalid"),
        ({"token": "T", "nonce": ""}, 422, "invalid"),
        ({"token": "T", "nonce": "with space"}, 422, "invalid"),
        ({"token": "T", "nonce": "x" * 65}, 422, "invalid"),
        ({"token": "T", "nonce": 7}, 422, "invalid"),
        ({"token": "T", "nonce": "n", "session_id": "1"}, 422, "invalid"),
        ({"token": "T", "nonce": "n", "session_id": True}, 422, "invalid"),
        ({"token": "T", "nonce": "n", "session_id": -1}, 422, "invalid"),
        ({"token": "T", "nonce": "n", "session_id": 2**40}, 422, "invalid"),
        ({"registration_id": 2**40, "nonce": "n"}, 422, "invalid"),
        ({"registration_id": 1.5, "nonce": "n"}, 422, "invalid"),
    ],
)
def test_missing_fields_and_wrong_types_are_422(api, body, status, code):
    response = api.post(body)
    assert error_code(response, status) == code
    assert response.get_json()["error"].get("field")


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"token"', b"null", b"\xff\xfe", b"[" * 5000 + b"]" * 5000,
                                 b'{"token": NaN'])
def test_bodies_that_are_not_a_json_object_are_400(api, raw):
    assert error_code(api.post(raw=raw), 400) == "bad_request"


def test_an_oversized_body_is_413_json(api):
    response = api.post({"token": "T" * 40_000, "nonce": "big"})
    assert error_code(response, 413)
    assert api.count(ScanFailure) == 0


def test_a_long_token_under_the_size_limit_is_invalid_token(api):
    assert error_code(api.scan("T" * 10_000 + "\x00"), 400) == "invalid_token"
    assert len(api.db.session.scalar(sa.select(ScanFailure.token))) == 200


@HYPOTHESIS
@given(token=st.text(max_size=60))
def test_random_strings_are_invalid_token(api, token):
    response = api.scan(token)
    assert error_code(response, 400) == "invalid_token"


@HYPOTHESIS
@given(position=st.integers(0, 28), char=st.sampled_from(BASE32 + "abcxyz0189=-/+. 中\x00"))
def test_a_valid_token_with_one_character_changed_is_invalid_token(api, position, char):
    mutated = api.token[:position] + char + api.token[position + 1:]
    nonce = uuid.uuid4().hex
    response = api.scan(mutated, nonce=nonce)
    if mutated.strip().upper() == api.token:  # the same ticket (lower case, or the same character)
        assert response.status_code == 200
        assert response.get_json()["result"] in {"ok", "already_checked_in"}
        return
    assert error_code(response, 400) == "invalid_token"
    api.db.session.rollback()
    reason = api.db.session.scalar(sa.select(ScanFailure.reason).where(ScanFailure.nonce == nonce))
    assert reason in {"malformed", "forged", "unknown_key"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@HYPOTHESIS
@given(field=st.sampled_from(["token", "session_id", "nonce", "scanned_at", "registration_id"]), value=json_values)
def test_any_value_in_any_field_is_answered_without_a_500(api, field, value):
    body = {"token": api.token, "session_id": None, "nonce": uuid.uuid4().hex, "scanned_at": None, field: value}
    response = api.post(body)
    assert response.status_code in {200, 400, 404, 409, 422}, response.get_data(as_text=True)[:300]
    data = response.get_json()
    assert isinstance(data, dict) and (("result" in data) != ("error" in data))
    wrong_type = {
        "token": not isinstance(value, str) and value is not None,
        "session_id": not (value is None or (type(value) is int and value > 0)),
        "nonce": not isinstance(value, str),
        "scanned_at": not (value is None or isinstance(value, str)),
        "registration_id": not (value is None or (type(value) is int and value > 0)),
    }[field]
    if wrong_type or (field == "registration_id" and value is not None):  # token and registration_id both given
        assert error_code(response, 422) == "invalid"


@HYPOTHESIS
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_body_is_answered_with_json_and_never_500(api, raw):
    response = api.post(raw=raw)
    assert response.status_code in {400, 422}, response.get_data(as_text=True)[:300]
    assert error_code(response, response.status_code) in {"bad_request", "invalid"}


# ---------------------------------------------------------------- authentication, access


def test_anonymous_gets_401_and_a_revoked_token_too(api, client):
    # Without a session the CSRF guard of api.views still comes first (400 csrf_failed, tested in test_security).
    response = client.post(api.url(), json={"token": api.token, "nonce": "a"},
                           headers={"X-CSRFToken": fresh_csrf_token(client)})
    assert error_code(response, 401) == "unauthorized"
    response = client.post(api.url(), json={"token": api.token, "nonce": "a"}, headers={"Authorization": "Bearer no"})
    assert error_code(response, 401) == "unauthorized"
    staff = api.users["staff"]
    from accounts.models import ApiToken

    token_row = api.db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == staff.id))
    revoke_api_token(staff, token_row.id, now=NOW)
    api.db.session.commit()
    assert error_code(api.scan(), 401) == "unauthorized"
    assert api.count(CheckIn) == 0


def test_a_browser_session_needs_the_csrf_header(api, client):
    with client.session_transaction() as session:
        session["_user_id"] = api.users["staff"].get_id()
        session["_fresh"] = True
    body = {"token": api.token, "session_id": None, "nonce": "cookie-1", "scanned_at": None}
    assert error_code(client.post(api.url(), json=body), 400) == "csrf_failed"
    assert api.count(CheckIn) == 0
    response = client.post(api.url(), json=body, headers={"X-CSRFToken": fresh_csrf_token(client)})
    assert response.status_code == 200 and response.get_json()["result"] == "ok"


@pytest.mark.parametrize(
    "role, event, status",
    [
        ("staff", "event", 200),
        ("organizer", "event", 200),
        ("judge", "event", 403),  # a role in org A, but not check-in
        ("staff_a2", "event", 404),  # check-in staff of another event of the same organization
        ("other", "event", 404),  # organizer of another organization
        ("participant", "event", 404),
        ("staff", "event_a2", 404),
        ("staff", "event_b", 404),
    ],
)
def test_who_may_scan(api, role, event, status):
    response = api.scan(role=role, event=getattr(api, event))
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status != 200:
        error_code(response, status)
    assert api.count(CheckIn) == (1 if status == 200 else 0)
    assert api.count(ScanFailure) == 0  # refused callers leave no trace as scans


def test_an_organizer_of_another_org_scanning_at_their_own_event_gets_wrong_event(api):
    assert error_code(api.scan(role="other", event=api.event_b), 409) == "wrong_event"


# ---------------------------------------------------------------- roster, search, undo


def test_the_roster_lists_approved_signups_with_check_ins_for_offline_use(api):
    first = api.event.sessions[0]
    api.scan()
    api.scan(session_id=first.id)

    response = api.get("/roster")

    assert response.status_code == 200
    data = response.get_json()
    assert data["event"]["id"] == api.event.id
    assert [s["id"] for s in data["sessions"]] == [s.id for s in api.event.sessions]
    assert [r["id"] for r in data["registrations"]] == [api.approved.id]  # not the pending one
    entry = data["registrations"][0]
    assert (entry["token_id"], entry["name"], entry["unit"], entry["phone"]) == (
        api.approved.id, "林一鸣", "厦门大学", "139****1234")
    assert set(entry["checked_in"]) == {"0", str(first.id)}
    assert "13900001234" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("organizer", 200), ("judge", 403), ("staff_a2", 404), ("other", 404)])
def test_roster_and_search_are_for_check_in_staff(api, role, status):
    assert api.get("/roster", role=role).status_code == status
    assert api.get("/search?q=林", role=role).status_code == status


def test_search_by_phone_tail_shows_the_check_in_state(api):
    api.scan()
    data = api.get("/search?q=1234").get_json()
    assert [r["name"] for r in data["registrations"]] == ["林一鸣"]
    assert list(data["registrations"][0]["checked_in"]) == ["0"]
    assert api.get("/search?q=黄二妹").get_json() == {"registrations": []}  # pending: not on the list


def test_a_check_in_by_hand_and_its_undo(api):
    response = api.post({"registration_id": api.approved.id, "session_id": None, "nonce": "hand-1"})
    assert response.status_code == 200 and response.get_json()["result"] == "ok"
    assert error_code(api.post({}, role="organizer", suffix="/undo"), 409) == "nothing_to_undo"  # not theirs

    undo = api.post({}, suffix="/undo")

    assert undo.status_code == 200
    assert undo.get_json()["undone"]["registration"]["id"] == api.approved.id
    assert api.count(CheckIn, CheckIn.active_key.is_not(None)) == 0
    assert api.count(CheckIn) == 1  # kept, marked undone
    assert api.scan().get_json()["result"] == "ok"  # may check in again
    assert error_code(api.post({"session_id": "x"}, suffix="/undo"), 422) == "invalid"
    assert error_code(api.post({}, suffix="/undo", role="judge"), 403) == "forbidden"
