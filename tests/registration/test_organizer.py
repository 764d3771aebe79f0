"""The organizer's sign-up pages: filters, bulk approve / reject / move up, masked list and unmasked detail, and who
may open them (404 without a role in the event's organization)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from registration import services
from registration.models import Registration, RegistrationSettings, RegistrationState
from tests.conftest import NOW, csrf_token
from tests.conftest import login as _login

GOOD_ID = "11010519491231002X"


def login(client, user):
    client.set_cookie("saihui_lang", "en")  # the messages asserted below are the English msgids
    return _login(client, user)


def sign_up(event, name: str, phone: str, **extra) -> Registration:
    registration, _key = services.register_participant(
        event, services.SignupData(name=name, phone=phone, unit=extra.pop("unit", "厦门大学"), **extra),
        now=NOW, ignore_window=True,
    )
    return registration


def states(db, event) -> dict[str, RegistrationState]:
    db.session.expire_all()
    return {r.name: r.status for r in db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id))}


@pytest.fixture()
def org_event(db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=3, requires_approval=True, sessions=2)
    return org, organizer, event


def bulk(client, event, action: str, ids, reason: str = ""):
    token = csrf_token(client, f"/manage/events/{event.id}/registrations")
    return client.post(f"/manage/events/{event.id}/registrations/bulk",
                       data={"csrf_token": token, "action": action, "reason": reason, "ids": [str(i) for i in ids]})


def flashed(client, response) -> str:
    return client.get(response.location).get_data(as_text=True)


# ---------------------------------------------------------------- list and detail


def test_the_list_filters_by_group_session_and_unit(client, db, org_event):
    from registration.models import RegistrationKind

    _org, organizer, event = org_event
    db.session.add(RegistrationSettings(event_id=event.id, kind=RegistrationKind.INDIVIDUAL, groups=["中职组", "高职组"],
                                        allow_session_choice=True))
    db.session.commit()
    first, second = event.sessions
    sign_up(event, "王喆", "13800138000", group_name="中职组", unit="厦门城市职业学院", session_ids=[first.id])
    sign_up(event, "李堃", "13800138001", group_name="高职组", unit="集美大学", session_ids=[second.id])
    sign_up(event, "陈静", "13800138002", group_name="高职组", unit="厦门城市职业学院", session_ids=[first.id, second.id])
    db.session.commit()
    login(client, organizer)
    base = f"/manage/events/{event.id}/registrations"

    def names(query: str) -> list[str]:
        html = client.get(f"{base}?{query}").get_data(as_text=True)
        return [n for n in ("王喆", "李堃", "陈静") if n in html]

    assert names("group=高职组") == ["李堃", "陈静"]
    assert names(f"session={first.id}") == ["王喆", "陈静"]
    assert names("unit=城市职业") == ["王喆", "陈静"]
    assert names(f"group=高职组&unit=厦门&session={second.id}") == ["陈静"]
    assert names("status=pending&group=中职组") == ["王喆"]
    assert names("session=999999&group=") == ["王喆", "李堃", "陈静"]  # an unknown session is ignored, not an error


def test_the_list_masks_phone_numbers_and_the_detail_shows_them_in_full(client, db, org_event):
    _org, organizer, event = org_event
    registration = sign_up(event, "王喆", "13800138000", id_number=GOOD_ID, id_kind="resident_id")
    db.session.commit()
    login(client, organizer)
    listing = client.get(f"/manage/events/{event.id}/registrations").get_data(as_text=True)
    assert "138****8000" in listing and "13800138000" not in listing and GOOD_ID not in listing
    detail = client.get(f"/manage/events/{event.id}/registrations/{registration.id}").get_data(as_text=True)
    assert "13800138000" in detail and GOOD_ID in detail
    assert "Signed up" in detail  # the history


# ---------------------------------------------------------------- bulk actions


def test_bulk_approve_approves_the_ticked_and_says_which_could_not_be(client, db, org_event):
    _org, organizer, event = org_event
    a, b = sign_up(event, "王喆", "13800138000"), sign_up(event, "李堃", "13800138001")
    sign_up(event, "陈静", "13800138002")
    services.approve_registration(b, now=NOW, actor=organizer)
    db.session.commit()
    login(client, organizer)
    response = bulk(client, event, "approve", [a.id, b.id, 999999])
    assert response.status_code == 302
    page = flashed(client, response)
    assert "1 sign-up approved." in page
    assert "Not done for 2" in page and "李堃: Already approved." in page and "#999999: Not a sign-up of this event." in page
    assert states(db, event) == {"王喆": RegistrationState.APPROVED, "李堃": RegistrationState.APPROVED,
                                 "陈静": RegistrationState.PENDING}


def test_bulk_reject_needs_one_reason_and_gives_it_to_all(client, db, org_event):
    _org, organizer, event = org_event
    ids = [sign_up(event, "王喆", "13800138000").id, sign_up(event, "李堃", "13800138001").id]
    db.session.commit()
    login(client, organizer)
    page = flashed(client, bulk(client, event, "reject", ids))
    assert "Give a reason for the rejection." in page
    assert set(states(db, event).values()) == {RegistrationState.PENDING}
    page = flashed(client, bulk(client, event, "reject", ids, reason="名额已满，感谢关注"))
    assert "2 sign-ups rejected." in page
    db.session.expire_all()
    rejected = list(db.session.scalars(sa.select(Registration).where(Registration.event_id == event.id)))
    assert {(r.status, r.reason, r.decided_by_id) for r in rejected} == {
        (RegistrationState.REJECTED, "名额已满，感谢关注", organizer.id)}


def test_bulk_reject_frees_seats_for_the_waiting_list(client, db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=1)
    first = sign_up(event, "王喆", "13800138000")
    sign_up(event, "李堃", "13800138001")
    db.session.commit()
    login(client, organizer)
    page = flashed(client, bulk(client, event, "reject", [first.id], reason="重复报名"))
    assert "1 sign-up moved up from the waiting list into the freed seats." in page
    assert states(db, event) == {"王喆": RegistrationState.REJECTED, "李堃": RegistrationState.APPROVED}


def test_moving_up_from_the_waiting_list_takes_free_seats_and_explains_the_rest(client, db, factory):
    org = factory.organization()
    organizer = factory.user(organization=org, role="organizer")
    event = factory.event(org, status="published", capacity=1)
    seated = sign_up(event, "王喆", "13800138000")
    waiting = [sign_up(event, "李堃", "13800138001"), sign_up(event, "陈静", "13800138002")]
    db.session.commit()
    assert [w.status for w in waiting] == [RegistrationState.WAITLISTED] * 2
    event.capacity = 2  # one more seat; promote_waitlist has not run
    db.session.commit()
    login(client, organizer)
    page = flashed(client, bulk(client, event, "promote", [seated.id] + [w.id for w in waiting]))
    assert "1 sign-up moved up from the waiting list." in page
    assert "王喆: Not on the waiting list." in page
    assert "陈静: No seat is free." in page
    assert states(db, event) == {"王喆": RegistrationState.APPROVED, "李堃": RegistrationState.APPROVED,
                                 "陈静": RegistrationState.WAITLISTED}
    db.session.expire_all()
    assert db.session.get(type(event), event.id).seats_taken == 2


def test_bulk_never_touches_another_events_sign_ups(client, db, org_event, factory):
    org, organizer, event = org_event
    other_event = factory.event(org, title="另一场沙龙", status="published", requires_approval=True)
    foreign = sign_up(other_event, "林一鸣", "13900139000")
    db.session.commit()
    login(client, organizer)
    page = flashed(client, bulk(client, event, "approve", [foreign.id]))
    assert "Not a sign-up of this event." in page
    db.session.expire_all()
    assert db.session.get(Registration, foreign.id).status == RegistrationState.PENDING


def test_bulk_without_ticks_or_with_a_made_up_action_changes_nothing(client, db, org_event):
    _org, organizer, event = org_event
    registration = sign_up(event, "王喆", "13800138000")
    db.session.commit()
    login(client, organizer)
    assert "Tick at least one sign-up." in flashed(client, bulk(client, event, "approve", []))
    response = bulk(client, event, "delete_everything", [registration.id])
    assert response.status_code == 302
    assert states(db, event) == {"王喆": RegistrationState.PENDING}


# ---------------------------------------------------------------- who may open these pages


@pytest.mark.parametrize("who", ["participant", "other_organizer"])
def test_people_without_a_role_in_the_organization_get_404(client, db, factory, org_event, who):
    _org, _organizer, event = org_event
    registration = sign_up(event, "王喆", "13800138000")
    db.session.commit()
    if who == "participant":
        user = factory.user()
    else:
        user = factory.user(organization=factory.organization(), role="organizer")
    login(client, user)
    base = f"/manage/events/{event.id}/registrations"
    for path in (base, f"{base}/{registration.id}", f"{base}.xlsx", f"{base}/import", f"{base}/import-template.xlsx"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/")
    for path in (f"{base}/bulk", f"{base}/import", f"{base}/import/confirm"):
        response = client.post(path, data={"csrf_token": token, "action": "approve", "ids": [str(registration.id)]})
        assert response.status_code == 404, path
    assert states(db, event) == {"王喆": RegistrationState.PENDING}
