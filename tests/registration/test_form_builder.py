from tests.conftest import csrf_token, login
from registration.models import Registration
import sqlalchemy as sa

def test_organizer_builds_a_form_with_a_conditional_question_and_option_capacity(client, factory, db):
    org = factory.organization(); org_user = factory.user(organization=org, role="organizer")
    ev = factory.event(org, status="published", capacity=10)
    login(client, org_user)
    tok = csrf_token(client, f"/manage/events/{ev.id}/form")
    r = client.post(f"/manage/events/{ev.id}/form", data={"csrf_token": tok, "kind": "choice", "label": "参加哪个工作坊", "options": "上午工作坊 | 1\n下午参观", "required": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    html = client.get(f"/manage/events/{ev.id}/form").get_data(as_text=True)
    assert "参加哪个工作坊" in html and "0/1" in html
    from registration.services import list_fields
    key = list_fields(ev.id)[0].key
    r = client.post(f"/manage/events/{ev.id}/form", data={"csrf_token": tok, "kind": "text", "label": "午餐忌口", "condition_key": key, "condition_value": "上午工作坊", "required": "y"})
    assert r.status_code == 302
    db.session.rollback()  # a new unit of work, as a next request would be: sees the question just added
    key2 = list_fields(ev.id)[1].key
    client.post("/logout", data={"csrf_token": tok})
    t = csrf_token(client, f"/e/{ev.id}/register")
    base = {"csrf_token": t, "name": "王喆", "phone": "13800138000", "unit": "厦门城市职业学院"}
    r = client.post(f"/e/{ev.id}/register", data=base)
    assert r.status_code == 422  # the required choice is missing
    assert db.session.scalar(sa.select(sa.func.count(Registration.id)).where(Registration.event_id == ev.id)) == 0
    r = client.post(f"/e/{ev.id}/register", data={**base, f"f_{key}": "上午工作坊"})
    assert r.status_code == 422  # conditional required now visible
    r = client.post(f"/e/{ev.id}/register", data={**base, f"f_{key}": "上午工作坊", f"f_{key2}": "不吃辣"})
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    r = client.post(f"/e/{ev.id}/register", data={**base, "phone": "13900139000", f"f_{key}": "上午工作坊", f"f_{key2}": "无"})
    assert r.status_code == 409, r.status_code
    r = client.post(f"/e/{ev.id}/register", data={**base, "phone": "13900139000", f"f_{key}": "下午参观", f"f_{key2}": "ignored"})
    assert r.status_code == 302
    regs = list(db.session.scalars(sa.select(Registration).where(Registration.event_id == ev.id).order_by(Registration.id)))
    assert regs[0].answers == {key: "上午工作坊", key2: "不吃辣"}
    assert regs[1].answers == {key: "下午参观"}


def test_cancelling_releases_the_option_seat_and_deleting_a_used_question_is_refused(client, factory, db):
    from datetime import datetime, timezone

    from registration import services
    from registration.fields import FieldKind, Option
    from registration.models import OptionCounter

    org = factory.organization()
    actor = factory.user(organization=org, role="organizer")
    ev = factory.event(org, status="published", capacity=10)
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    row = services.add_field(ev, services.FieldData(kind=FieldKind.CHOICE, label="工作坊", required=True,
                                                    options=[Option("A", "A", 1), Option("B", "B")]), actor=actor, now=now)
    db.session.commit()
    reg, _ = services.register_participant(ev, services.SignupData(name="李堃", phone="13800138000", unit="x",
                                                                   answers={row.key: "A"}), now=now)
    db.session.commit()
    counter = db.session.scalar(sa.select(OptionCounter).where(OptionCounter.option_value == "A"))
    assert counter.seats_taken == 1
    try:
        services.delete_field(row, actor=actor, now=now)
        raise AssertionError("deleting a question whose option seats are held must be refused")
    except services.RegistrationError as error:
        assert error.code == "option_in_use"
    db.session.rollback()
    services.cancel_registration(db.session.get(Registration, reg.id), now=now)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(OptionCounter, counter.id).seats_taken == 0
    reg2, _ = services.register_participant(ev, services.SignupData(name="张赟", phone="13900139000", unit="x",
                                                                    answers={row.key: "A"}), now=now)
    db.session.commit()
    assert reg2.answers == {row.key: "A"}


def test_a_capacity_below_the_seats_taken_is_refused(factory, db):
    from datetime import datetime, timezone

    from registration import services
    from registration.fields import FieldKind, Option

    org = factory.organization()
    actor = factory.user(organization=org, role="organizer")
    ev = factory.event(org, status="published")
    now = datetime(2026, 11, 24, tzinfo=timezone.utc)
    row = services.add_field(ev, services.FieldData(kind=FieldKind.CHOICE, label="工作坊",
                                                    options=[Option("A", "A", 2)]), actor=actor, now=now)
    for i in range(2):
        services.register_participant(ev, services.SignupData(name=f"人{i}", phone=f"1380013800{i}", unit="x",
                                                              answers={row.key: "A"}), now=now)
    db.session.commit()
    try:
        services.update_field(row, services.FieldData(kind=FieldKind.CHOICE, label="工作坊",
                                                      options=[Option("A", "A", 1)]), actor=actor, now=now)
        raise AssertionError("must refuse")
    except services.RegistrationError as error:
        assert error.code == "capacity_below_taken"
