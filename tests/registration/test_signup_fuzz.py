"""Random sign-up forms: whatever is posted (unicode, huge strings, control characters, empty fields), the
sign-up page never answers 500, and a row is saved exactly when the answer is a redirect to a manage link."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.types import utcnow
from registration.models import (
    Registration,
    RegistrationKind,
    RegistrationSettings,
    TeamMember,
)
from tests.conftest import csrf_token

CONTROL = "".join(chr(c) for c in [*range(32), 127])

junk = st.one_of(
    st.just(""),
    st.text(max_size=30),
    st.text(alphabet=CONTROL, max_size=10),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=50, max_size=400),
    st.sampled_from(["王喆", "李堃", "张赟", "陳國華", "  ", "\u200b", "𠀋𠀋", "<script>x</script>", "' OR 1=1 --",
                     "\ufeff王", "A" * 61, "测" * 201, "x" * 5000]),
)
phones = st.one_of(
    st.integers(13_000_000_000, 19_999_999_999).map(str),
    st.integers(0, 99_999_999).map(lambda n: f"+852 9{n % 10_000_000:07d}"),
    st.sampled_from(["", "12", "+", "+886 0912 345 678", "１３８００１３８０００", "138\x000013\x008000"]),
    junk,
)
names = st.one_of(st.sampled_from(["王喆", "李堃", "张赟", "陳國華", "Zhang Wei"]), junk)


def _event(factory, kind: str):
    from extensions import db

    org = factory.organization()
    event = factory.event(org, status="published", starts_at=utcnow().replace(microsecond=0) + timedelta(days=30),
                          capacity=3)
    db.session.add(RegistrationSettings(
        event_id=event.id, kind=RegistrationKind(kind), team_min_members=1, team_max_members=3, team_max_coaches=1,
        groups=["中职组", "高职组"], ask_id_number=True, ask_email=True, ask_job_title=True, allow_session_choice=False,
    ))
    db.session.commit()
    return event


def _count(db, model) -> int:
    db.session.rollback()  # a fresh snapshot on PostgreSQL
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("kind", ["individual", "team"])
def test_random_sign_up_forms_never_break_the_page(app, client, db, factory, monkeypatch, kind):
    monkeypatch.setitem(app.config, "SIGNUP_RATE_LIMIT", "100000 per minute")
    event = _event(factory, kind)
    token = csrf_token(client, "/")
    # Each example starts from a valid form (fresh phone numbers) and spoils some of its fields with random values,
    # so that both outcomes happen: sign-ups saved and sign-ups refused.
    spoilers = {
        "name": names, "phone": phones, "unit": junk, "email": junk, "job_title": junk,
        "id_kind": st.sampled_from(["resident_id", "passport", "taiwan_permit", "", "x" * 40]),
        "id_number": junk, "group_name": junk, "note": junk, "team_name": junk,
        "member_name_0": names, "member_phone_0": phones, "member_name_1": names, "member_phone_1": phones,
        "coach_name_0": names, "coach_phone_0": phones, "website": junk, "unexpected_field": junk,
    }
    serial = iter(range(10**6))

    def valid_form() -> dict[str, str]:
        n = next(serial)
        return {"name": "王喆", "phone": f"1380000{n:04d}", "unit": "厦门城市职业学院", "email": "wz@example.org",
                "job_title": "教师", "id_kind": "passport", "id_number": f"E{n:08d}", "group_name": "高职组",
                "team_name": "鹭岛之星", "member_name_0": "李堃", "member_phone_0": f"1390000{n:04d}",
                "coach_name_0": "陳國華"}

    outcomes: dict[int, int] = {}

    @settings(max_examples=80, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(sorted(spoilers)), max_size=4, unique=True), st.data())
    def post(spoiled, draw):
        data = valid_form()
        for name in spoiled:
            data[name] = draw.draw(spoilers[name], label=name)
        before = (_count(db, Registration), _count(db, TeamMember))
        response = client.post(f"/e/{event.id}/register", data={"csrf_token": token, **data})
        after = (_count(db, Registration), _count(db, TeamMember))
        outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
        assert response.status_code in {302, 400, 409, 413, 422}, (response.status_code, data)
        if response.status_code == 302:
            assert re.fullmatch(r"/r/[A-Za-z0-9_\-]+", response.location)
            assert after[0] == before[0] + 1
            if kind == "team":
                assert after[1] > before[1]
        else:
            assert after == before, (response.status_code, data)

    post()
    assert outcomes.get(302) and sum(n for status, n in outcomes.items() if status != 302), outcomes


@pytest.mark.parametrize("size", [70_000, 600_000])
def test_huge_posts_are_refused_cleanly(client, db, factory, size):
    event = _event(factory, "individual")
    response = client.post(f"/e/{event.id}/register", data={"csrf_token": csrf_token(client, "/"), "name": "王" * size,
                                                           "phone": "13800138000", "unit": "x" * size})
    assert response.status_code in {413, 422}
    assert _count(db, Registration) == 0
