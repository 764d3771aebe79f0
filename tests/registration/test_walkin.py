"""Walk-ins (现场报名) at the door: sign up and check in, in one step, within the capacity, idempotent by nonce
(registration.walkin and POST /api/v1/events/<id>/walkins)."""
from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.services import create_api_token
from events.models import Event
from registration.checkin import CheckinError
from registration.models import CheckIn, CheckInSource, Registration, RegistrationState, ScanRequest
from registration.services import SignupData, register_participant, save_settings
from registration.models import RegistrationKind
from registration.walkin import WalkIn, register_walk_in
from tests.conftest import NOW
from tests.test_access import isolated_client, make_user


@pytest.fixture()
def client(app, db):
    return isolated_client(app)


class Door:
    def __init__(self, db, factory, client, *, capacity=None, sessions=1, requires_approval=False):
        self.db, self.client = db, client
        self.org = factory.organization("海峡信息协会")
        self.other_org = factory.organization("乙市软件行业协会")
        self.event = factory.event(self.org, status="published", capacity=capacity, sessions=sessions,
                                   requires_approval=requires_approval)
        self.staff = make_user(db, "gate@a.example.org", "陈签到", [(self.org, "checkin_staff", self.event)])
        self.judge = make_user(db, "judge@a.example.org", "王评委", [(self.org, "judge", None)])
        self.other = make_user(db, "org@b.example.org", "赵乙方", [(self.other_org, "organizer", None)])
        self.secrets = {name: create_api_token(user, name="门口", now=NOW)[1]
                        for name, user in (("staff", self.staff), ("judge", self.judge), ("other", self.other))}
        db.session.commit()

    def post(self, body, *, role="staff", event_id=None):
        return self.client.post(f"/api/v1/events/{event_id or self.event.id}/walkins", json=body,
                                headers={"Authorization": f"Bearer {self.secrets[role]}"})

    def walk_in(self, name="鄢一鸣", phone="13900001234", unit="厦门大学", **extra):
        return self.post({"name": name, "phone": phone, "unit": unit, "nonce": uuid.uuid4().hex, **extra})

    def seats(self):
        self.db.session.rollback()
        return self.db.session.scalar(sa.select(Event.seats_taken).where(Event.id == self.event.id))

    def count(self, model, *where):
        self.db.session.rollback()
        return self.db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture()
def door(db, factory, client):
    return Door(db, factory, client)


def code_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    return response.get_json()["error"]["code"]


def test_a_walk_in_is_signed_up_approved_and_checked_in(door):
    response = door.walk_in(phone="139 0000 1234", unit="  厦门大学 ")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["result"] == "registered"
    assert body["registration"]["name"] == "鄢一鸣" and body["registration"]["unit"] == "厦门大学"
    assert body["checked_in_at"]
    registration = door.db.session.scalar(sa.select(Registration))
    assert registration.status == RegistrationState.APPROVED
    assert registration.source == "walk_in" and registration.phone == "13900001234"
    check_in = door.db.session.scalar(sa.select(CheckIn))
    assert check_in.registration_id == registration.id and check_in.source == CheckInSource.WALK_IN
    assert check_in.actor_id == door.staff.id
    assert door.seats() == 1


def test_a_walk_in_at_a_session_takes_its_seat_and_checks_in_there(door):
    session = door.event.sessions[0]
    response = door.walk_in(session_id=session.id)
    assert response.status_code == 201
    assert response.get_json()["session"]["id"] == session.id
    check_in = door.db.session.scalar(sa.select(CheckIn))
    assert check_in.session_id == session.id


def test_the_same_nonce_signs_up_once(door):
    body = {"name": "鄢一鸣", "phone": "13900001234", "unit": "厦门大学", "nonce": "door-1-walkin-7"}
    first = door.post(body)
    again = door.post(body)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert door.count(Registration) == 1 and door.count(CheckIn) == 1
    other = door.post({**body, "name": "别人", "phone": "13900009999"})
    assert code_of(other, 409) == "nonce_reused"


def test_a_phone_already_signed_up_is_refused_and_offered_for_check_in(door):
    registration, _ = register_participant(door.event, SignupData(name="林一鸣", phone="13900001234", unit="福州大学"),
                                           now=NOW, ignore_window=True)
    door.db.session.commit()
    response = door.walk_in()
    assert code_of(response, 409) == "duplicate"
    error = response.get_json()["error"]
    assert error["registration"]["id"] == registration.id and error["status"] == "approved"
    assert "林一鸣" in error["message"]
    assert door.count(Registration) == 1 and door.count(CheckIn) == 0


def test_a_full_event_refuses_a_walk_in_and_saves_nothing(db, factory, client):
    door = Door(db, factory, client, capacity=1)
    assert door.walk_in().status_code == 201
    response = door.walk_in(name="第二人", phone="13900005678")
    assert code_of(response, 409) == "full"
    assert door.count(Registration) == 1 and door.count(CheckIn) == 1
    assert door.seats() == 1


def test_a_full_session_refuses_a_walk_in(db, factory, client):
    door = Door(db, factory, client)
    session = door.event.sessions[0]
    session.capacity = 1
    db.session.commit()
    assert door.walk_in(session_id=session.id).status_code == 201
    response = door.walk_in(name="第二人", phone="13900005678", session_id=session.id)
    assert code_of(response, 409) == "session_full"
    assert door.count(Registration) == 1
    assert door.seats() == 1  # the event seat went back with the rollback


def test_an_event_that_needs_approval_gets_the_walk_in_approved_by_the_staff(db, factory, client):
    door = Door(db, factory, client, requires_approval=True)
    assert door.walk_in().status_code == 201
    registration = db.session.scalar(sa.select(Registration))
    assert registration.status == RegistrationState.APPROVED and registration.decided_by_id == door.staff.id


def test_registration_closed_does_not_stop_a_walk_in(db, factory, client):
    door = Door(db, factory, client)
    door.event.registration_closes_at = NOW.replace(year=NOW.year - 1)
    db.session.commit()
    assert door.walk_in().status_code == 201


@pytest.mark.parametrize("status, code", [("archived", "archived"), ("draft", "not_open")])
def test_an_event_not_taking_people_refuses(db, factory, client, status, code):
    from events.models import EventState

    door = Door(db, factory, client)
    door.event.status = EventState(status)
    db.session.commit()
    assert code_of(door.walk_in(), 409) == code


def test_a_team_event_takes_no_walk_ins(db, factory, client):
    door = Door(db, factory, client)
    save_settings(door.event, kind=RegistrationKind.TEAM, team_min_members=1, team_max_members=3,
                  team_max_coaches=1, groups=[], ask_id_number=False, ask_email=False, ask_job_title=False,
                  allow_session_choice=False, actor=door.staff, now=NOW)
    db.session.commit()
    assert code_of(door.walk_in(), 409) == "team_event"
    assert door.count(Registration) == 0


def test_groups_must_be_chosen_when_the_event_has_them(db, factory, client):
    door = Door(db, factory, client)
    save_settings(door.event, kind=RegistrationKind.INDIVIDUAL, team_min_members=1, team_max_members=5,
                  team_max_coaches=2, groups=["中职组", "高职组"], ask_id_number=False, ask_email=False,
                  ask_job_title=False, allow_session_choice=False, actor=door.staff, now=NOW)
    db.session.commit()
    response = door.walk_in()
    assert code_of(response, 422) == "invalid" and response.get_json()["error"]["field"] == "group"
    assert door.walk_in(group="高职组").status_code == 201
    assert db.session.scalar(sa.select(Registration)).group_name == "高职组"


@pytest.mark.parametrize("body, field", [
    ({"name": " ", "phone": "13900001234"}, "name"),
    ({"name": "鄢一鸣", "phone": "12345"}, "phone"),
    ({"name": "鄢一鸣", "phone": ""}, "phone"),
    ({"name": "鄢一鸣", "phone": "13900001234", "email": "not-mail"}, "email"),
    ({"name": "鄢" * 61, "phone": "13900001234"}, "name"),
    ({"name": "鄢一鸣", "phone": "13900001234", "unit": "单" * 201}, "unit"),
    ({"name": 5, "phone": "13900001234"}, "name"),
    ({"name": "鄢一鸣", "phone": "13900001234", "session_id": "x"}, "session_id"),
])
def test_bad_input_names_the_field_and_saves_nothing(door, body, field):
    response = door.post({**body, "nonce": uuid.uuid4().hex})
    assert code_of(response, 422) == "invalid"
    assert response.get_json()["error"]["field"] == field
    assert door.count(Registration) == 0 and door.count(ScanRequest) == 0


def test_an_unknown_session_is_refused(door):
    assert code_of(door.walk_in(session_id=999999), 422) == "unknown_session"


def test_who_may_take_walk_ins(door):
    assert door.walk_in().status_code == 201
    assert code_of(door.post({"name": "甲", "phone": "13900000002", "nonce": "n-judge"}, role="judge"), 403)
    assert code_of(door.post({"name": "乙", "phone": "13900000003", "nonce": "n-other"}, role="other"), 404)
    assert door.count(Registration) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(
    st.sampled_from(["name", "phone", "unit", "email", "group", "session_id", "nonce", "x"]),
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=80), st.lists(st.integers(), max_size=2)),
))
def test_no_input_gets_a_500(door, body):
    response = door.post(body)
    assert response.status_code < 500
    assert response.mimetype == "application/json"
    door.db.session.rollback()


# ---------------------------------------------------------------- two gates at once


def _walk_in_together(app, event_id: int, people: list[tuple[str, str]], gate_id: int) -> list[str]:
    from accounts.models import User
    from api.checkins import _write
    from extensions import db

    answers = [""] * len(people)
    barrier = threading.Barrier(len(people))

    def gate(i: int) -> None:
        with app.app_context():
            actor = db.session.get(User, gate_id)
            db.session.commit()
            barrier.wait()

            def work():
                outcome = register_walk_in(db.session.get(Event, event_id),
                                           WalkIn(name=people[i][0], phone=people[i][1]),
                                           nonce=uuid.uuid4().hex, actor=actor, now=NOW)
                db.session.commit()
                return outcome

            try:
                answers[i] = _write(work).result
            except CheckinError as error:
                db.session.rollback()
                answers[i] = error.code
            except Exception as error:  # noqa: BLE001 - reported by the assertions
                db.session.rollback()
                answers[i] = f"error: {type(error).__name__}: {str(error)[:300]}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=gate, args=(i,)) for i in range(len(people))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return answers


def test_two_gates_signing_up_the_same_phone_at_once_make_one_sign_up(app, db, factory, client):
    door = Door(db, factory, client)
    answers = _walk_in_together(app, door.event.id, [("鄢一鸣", "13900001234")] * 4, door.staff.id)
    assert Counter(answers) == Counter({"registered": 1, "duplicate": 3}), answers
    assert door.count(Registration) == 1 and door.count(CheckIn) == 1


def test_walk_ins_racing_for_the_last_seats_never_overfill(app, db, factory, client):
    door = Door(db, factory, client, capacity=3)
    people = [(f"现场{i}", f"1390000{i:04d}") for i in range(6)]
    answers = _walk_in_together(app, door.event.id, people, door.staff.id)
    assert Counter(answers) == Counter({"registered": 3, "full": 3}), answers
    assert door.count(Registration) == 3 and door.count(CheckIn) == 3
    assert door.seats() == 3
