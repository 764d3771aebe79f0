"""The scores API (SPEC: ``PUT /api/v1/scores``; the judge's sheet; submitting an entrant): the contract, every
error status, nonce idempotency, cookie + CSRF, and a property-based test: whatever is sent, never a 500 and never a
score saved where it should not be."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competition.models import Round, RoundState
from judging.models import Assignment, Score, ScoreState
from judging.services import criterion_spec, entrant_identity, judge_identity
from judging.assignment import conflict_reasons
from judging.values import validate_value
from tests.conftest import NOW, csrf_token, login
from tests.judging.conftest import full_marks


@pytest.fixture()
def api(app, db, contest):
    from accounts.services import create_api_token

    tokens = {name: create_api_token(user, name="评分平板", now=NOW)[1] for name, user in contest.judges.items()}
    tokens["organizer"] = create_api_token(contest.organizer, name="x", now=NOW)[1]
    db.session.commit()
    client = app.test_client()

    def call(method: str, path: str, body=None, *, who: str = "李评委", raw: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if who is not None:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        if raw is not None:
            return client.open(path, method=method, data=raw, headers=headers, content_type="application/json")
        return client.open(path, method=method, json=body, headers=headers)

    return call


def body(contest, entrant="星火队", code="A1", value="7.5", nonce="n-1", **extra):
    data = {"entrant_id": contest.entrants[entrant].id, "criterion_id": contest.criteria[code].id,
            "round_id": contest.round.id, "value": value, "nonce": nonce}
    data.update(extra)
    return data


def error_code(response) -> str:
    data = response.get_json()
    assert isinstance(data, dict) and isinstance(data.get("error"), dict), response.get_data(as_text=True)[:300]
    assert data["error"]["message"]
    return data["error"]["code"]


# ---------------------------------------------------------------- the contract


def test_put_score_contract(api, contest):
    response = api("PUT", "/api/v1/scores", body(contest, value=7.5))
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "draft"
    assert data["score"] == {
        "entrant_id": contest.entrants["星火队"].id, "criterion_id": contest.criteria["A1"].id,
        "round_id": contest.round.id, "value": "7.50", "note": "", "state": "draft",
        "updated_at": data["score"]["updated_at"], "submitted_at": None,
    }
    assert data["entrant"]["code"] == contest.code("星火队")
    assert "name" not in json.dumps(data["entrant"])
    # the same value as typed text, full-width digits, and a blank
    assert api("PUT", "/api/v1/scores", body(contest, value="７.５", nonce="n-2")).get_json()["score"]["value"] == "7.50"
    blank = api("PUT", "/api/v1/scores", body(contest, value=None, nonce="n-3", note="待复核")).get_json()
    assert (blank["score"]["value"], blank["score"]["note"]) == (None, "待复核")


def test_same_nonce_returns_the_first_answer(api, contest, db):
    first = api("PUT", "/api/v1/scores", body(contest, value="7", nonce="tablet-7"))
    api("PUT", "/api/v1/scores", body(contest, value="9", nonce="tablet-8"))
    again = api("PUT", "/api/v1/scores", body(contest, value="7", nonce="tablet-7"))
    assert again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    db.session.expire_all()
    assert db.session.scalar(sa.select(Score.value)) == Decimal(9)
    other = api("PUT", "/api/v1/scores", body(contest, value="8", nonce="tablet-7"))
    assert (other.status_code, error_code(other)) == (409, "nonce_reused")


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"value": "10.5"}, 422, "above_maximum"),
    ({"value": "7.25"}, 422, "off_step"),
    ({"value": -1}, 422, "negative"),
    ({"value": "8,5"}, 422, "decimal_comma"),
    ({"value": True}, 422, "not_a_number"),
    ({"value": {"v": 1}}, 422, "not_a_number"),
    ({"value": "9" * 50}, 422, "not_a_number"),
    ({"code": "A2", "value": "3"}, 422, "not_allowed"),
    ({"code": "B2", "value": "2.5"}, 422, "not_a_level"),
    ({"entrant": "云帆队", "who": "王评委"}, 403, "not_assigned"),  # 回避: own unit
    ({"entrant": "星火队", "who": "陈明"}, 403, "not_assigned"),  # named as its coach
    ({"who": "organizer"}, 403, "not_a_judge"),
    ({"nonce": ""}, 422, "invalid"),
    ({"nonce": "has space"}, 422, "invalid"),
    ({"nonce": "x" * 65}, 422, "invalid"),
    ({"note": "长" * 1001}, 422, "too_long"),
    ({"note": 5}, 422, "invalid"),
])
def test_refusals(api, contest, db, changes, status, code):
    changes = dict(changes)
    who = changes.pop("who", "李评委")
    data = body(contest, entrant=changes.pop("entrant", "星火队"), code=changes.pop("code", "A1"), **changes)
    response = api("PUT", "/api/v1/scores", data, who=who)
    assert (response.status_code, error_code(response)) == (status, code)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Score.id))) == 0


@pytest.mark.parametrize(("raw", "status"), [
    (b"not json", 400), (b"[1, 2]", 400), (b"{}", 422), (b'{"round_id": "1"}', 422),
    (b'{"round_id": true, "entrant_id": 1, "criterion_id": 1}', 422), (b"{" * 5000, 400),
    (b'{"a": "' + b"x" * 20000 + b'"}', 413),
])
def test_bad_bodies(api, raw, status):
    response = api("PUT", "/api/v1/scores", raw=raw)
    assert response.status_code == status
    error_code(response)


def test_unknown_or_foreign_ids(api, contest, db, factory):
    response = api("PUT", "/api/v1/scores", {**body(contest), "round_id": 999999})
    assert (response.status_code, error_code(response)) == (404, "not_found")
    response = api("PUT", "/api/v1/scores", {**body(contest), "criterion_id": 999999})
    assert (response.status_code, error_code(response)) == (422, "unknown_criterion")
    response = api("PUT", "/api/v1/scores", {**body(contest), "entrant_id": 999999})
    assert (response.status_code, error_code(response)) == (403, "not_assigned")


def test_submitted_and_locked(api, contest, db):
    for i, (code, value) in enumerate(full_marks().items()):
        assert api("PUT", "/api/v1/scores", body(contest, code=code, value=value, nonce=f"s-{i}")).status_code == 200
    url = f"/api/v1/judging/rounds/{contest.round.id}/entrants/{contest.entrants['星火队'].id}/submit"
    submitted = api("POST", url, {"nonce": "submit-1"})
    assert submitted.status_code == 200
    assert submitted.get_json()["status"] == "submitted"
    assert submitted.get_json()["entrant"]["state"] == "submitted"
    again = api("POST", url, {"nonce": "submit-1"})
    assert again.get_json() == submitted.get_json() and again.headers.get("Idempotent-Replayed") == "true"
    response = api("POST", url, {"nonce": "submit-2"})
    assert (response.status_code, error_code(response)) == (409, "submitted")
    response = api("PUT", "/api/v1/scores", body(contest, value="6", nonce="late"))
    assert (response.status_code, error_code(response)) == (409, "submitted")
    db.session.execute(sa.update(Round).where(Round.id == contest.round.id).values(state=RoundState.LOCKED))
    db.session.commit()
    response = api("PUT", "/api/v1/scores", body(contest, entrant="海燕队", value="6", nonce="locked"))
    assert (response.status_code, error_code(response)) == (409, "locked")


def test_submit_incomplete_lists_what_is_missing(api, contest):
    api("PUT", "/api/v1/scores", body(contest, code="A1", value="5", nonce="a"))
    url = f"/api/v1/judging/rounds/{contest.round.id}/entrants/{contest.entrants['星火队'].id}/submit"
    response = api("POST", url, {"nonce": "submit-x"})
    assert (response.status_code, error_code(response)) == (422, "incomplete")
    assert response.get_json()["error"]["missing"] == ["A2", "B1", "B2"]
    response = api("POST", url, {})
    assert (response.status_code, error_code(response)) == (422, "invalid")


def test_sheet_access(api, contest, app, db, factory):
    url = f"/api/v1/judging/rounds/{contest.round.id}/sheet"
    response = api("GET", url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert {e["code"] for e in response.get_json()["entrants"]} == {contest.code(n) for n in
                                                                    ("云帆队", "星火队", "海燕队", "晨光队", "青松队")}
    assert (api("GET", url, who="organizer").status_code) == 403
    assert app.test_client().get(url).status_code == 401
    stranger = factory.user("judge@other.example.org", "钱评委", organization=factory.organization("乙协会"), role="judge")
    client = app.test_client()
    login(client, stranger)
    response = client.get(url)
    assert (response.status_code, error_code(response)) == (404, "not_found")


def test_cookie_session_needs_the_csrf_header(app, contest, db):
    client = app.test_client()
    login(client, contest.judges["李评委"], password="judge-pass-1")
    response = client.put("/api/v1/scores", json=body(contest))
    assert (response.status_code, error_code(response)) == (400, "csrf_failed")
    token = csrf_token(client, "/judging/")
    response = client.put("/api/v1/scores", json=body(contest), headers={"X-CSRFToken": token})
    assert response.status_code == 200


# ---------------------------------------------------------------- property: no 500, nothing saved where it should not


JUDGES = ["李评委", "王评委", "张评委", "陈明", "organizer"]
ENTRANTS = ["云帆队", "星火队", "海燕队", "晨光队", "青松队", None]
CODES = ["A1", "A2", "B1", "B2", None]
values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 30), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=-1, max_value=25, places=3).map(str),
    st.sampled_from(["", " ", "7.5", "７.５", "8,5", "1e1", "NaN", "0", "5", "3", "2", "20", "20.5", "abc"]),
    st.text(max_size=12), st.lists(st.integers(), max_size=2),
)
likely_valid = st.sampled_from(["0", "5", "2", "3", "7.5", "10", "17.5", "1", None])
requests = st.fixed_dictionaries({
    # "fill": a valid value for each criterion of the entrant first (so that submissions can succeed)
    "kind": st.sampled_from(["put", "put", "put", "fill", "submit", "submit", "sheet"]),
    "who": st.sampled_from(JUDGES),
    "entrant": st.sampled_from(ENTRANTS),
    "code": st.sampled_from(CODES),
    "value": st.one_of(likely_valid, likely_valid, values),
    "nonce": st.one_of(st.uuids().map(str), st.uuids().map(str), st.sampled_from(["a", "b", "c"]),
                       st.text(max_size=70)),
    "note": st.one_of(st.none(), st.none(), st.text(max_size=20), st.integers()),
    "round": st.sampled_from(["ok", "ok", "ok", "ok", "missing", "string"]),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(requests, min_size=1, max_size=8))
def test_no_500_and_no_score_where_it_should_not_be(api, contest, db, batch):
    judges = {name: user.id for name, user in contest.judges.items()}
    for item in batch:
        entrant = contest.entrants[item["entrant"]].id if item["entrant"] else 987654
        round_id = {"ok": contest.round.id, "missing": 987654, "string": str(contest.round.id)}[item["round"]]
        if item["kind"] == "sheet":
            response = api("GET", f"/api/v1/judging/rounds/{contest.round.id}/sheet", who=item["who"])
        elif item["kind"] == "fill":
            for code, value in full_marks().items():
                response = api("PUT", "/api/v1/scores", {
                    "entrant_id": entrant, "round_id": round_id, "criterion_id": contest.criteria[code].id,
                    "value": value, "nonce": f"{item['nonce']}-{code}"[:64] or code}, who=item["who"])
                assert response.status_code in (200, 400, 403, 404, 409, 413, 422), response.get_data(as_text=True)
        elif item["kind"] == "submit":
            response = api("POST", f"/api/v1/judging/rounds/{contest.round.id}/entrants/{entrant}/submit",
                           {"nonce": item["nonce"]}, who=item["who"])
        else:
            data = {"entrant_id": entrant, "round_id": round_id, "value": item["value"], "nonce": item["nonce"],
                    "criterion_id": contest.criteria[item["code"]].id if item["code"] else 987654}
            if item["note"] is not None:
                data["note"] = item["note"]
            response = api("PUT", "/api/v1/scores", data, who=item["who"])
        assert response.status_code in (200, 400, 403, 404, 409, 413, 422), response.get_data(as_text=True)[:300]
        assert response.is_json
        if response.status_code >= 400:
            error_code(response)
    # Every score in the database is allowed: an assigned, unconflicted entrant of a judge of the competition, a
    # criterion of the round, a valid value (or a blank draft); submitted scores have values.
    db.session.expire_all()
    profiles = {p.user_id: p for p in contest.profiles.values()}
    assigned = set(db.session.execute(sa.select(Assignment.judge_id, Assignment.entrant_id)).all())
    criteria = {c.id: c for c in contest.criteria.values()}
    from competition.models import Entrant

    for score in db.session.scalars(sa.select(Score)):
        assert score.judge_id in judges.values()
        assert (score.judge_id, score.entrant_id) in assigned
        entrant = db.session.get(Entrant, score.entrant_id)
        assert not conflict_reasons(judge_identity(profiles[score.judge_id]), entrant_identity(entrant))
        assert score.criterion_id in criteria and score.round_id == contest.round.id
        if score.value is not None:
            spec = criterion_spec(criteria[score.criterion_id], contest.competition)
            assert validate_value(spec, score.value) == score.value
        else:
            assert score.state == ScoreState.DRAFT
