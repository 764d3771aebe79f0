"""The JSON API contract (SPEC "JSON API (version 1)"): shapes, personal tokens, JSON errors for bad input."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_token, login
from tests.test_access import isolated_client

EVENT_FIELDS = {"id", "title", "kind", "starts_at", "ends_at", "status"}


@pytest.fixture()
def client(app, db):
    return isolated_client(app)


@pytest.fixture()
def setup(app, db, factory):
    """Org A with a published and a draft event, org B with one; an organizer of org A logged in on ``client``."""
    org_a = factory.organization("甲省信息协会")
    org_b = factory.organization("乙市软件行业协会")
    published = factory.event(org_a, title="海峡两岸信息化论坛", status="published", sessions=3)
    draft = factory.event(org_a, title="云计算技能大赛", kind="competition", status="draft")
    foreign = factory.event(org_b, title="乙协会月度技术沙龙", kind="salon", status="published")
    user = factory.user(login="organizer@a.example.org", organization=org_a, role="organizer")
    return {"org_a": org_a, "published": published, "draft": draft, "foreign": foreign, "user": user}


def create_token_on_profile(client, name: str = "门口扫码枪1") -> str:
    """Create a token as a person would: on the profile page, reading the secret shown once."""
    token = csrf_token(client, "/account")
    response = client.post("/account/tokens", data={"csrf_token": token, "name": name})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    match = re.search(r'<code id="new-token"[^>]*>\s*([^<\s]+)\s*</code>', response.get_data(as_text=True))
    assert match, "the profile page should show the new token once"
    return match.group(1)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json", f"expected JSON, got {response.mimetype}"
    data = response.get_json()
    assert set(data) == {"error"}, data
    error = data["error"]
    assert isinstance(error.get("code"), str) and error["code"], data
    assert isinstance(error.get("message"), str) and error["message"], data
    if code is not None:
        assert error["code"] == code, data
    return error


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no UTC offset"
    return parsed


# ---------------------------------------------------------------- tokens and the event list


def test_event_list_with_a_token_from_the_profile_page(app, client, setup):
    login(client, setup["user"])
    secret = create_token_on_profile(client)
    device = isolated_client(app)  # no cookie: only the token

    response = device.get("/api/v1/events", headers=bearer(secret))

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert isinstance(data["events"], list)
    by_id = {e["id"]: e for e in data["events"]}
    assert set(by_id) == {setup["published"].id, setup["draft"].id}  # org A's events, drafts too; not org B's
    for item in data["events"]:
        assert EVENT_FIELDS <= set(item), f"missing {EVENT_FIELDS - set(item)}"
        assert isinstance(item["id"], int) and isinstance(item["title"], str)
    forum = by_id[setup["published"].id]
    assert forum["title"] == "海峡两岸信息化论坛"
    assert forum["kind"] == "forum"
    assert forum["status"] == "published"
    assert parse_iso(forum["starts_at"]) == setup["published"].starts_at
    assert parse_iso(forum["ends_at"]) == setup["published"].ends_at
    assert by_id[setup["draft"].id]["status"] == "draft"
    assert by_id[setup["draft"].id]["kind"] == "competition"


def test_event_detail_with_a_token(app, client, setup):
    login(client, setup["user"])
    secret = create_token_on_profile(client)
    device = isolated_client(app)
    event = setup["published"]

    data = device.get(f"/api/v1/events/{event.id}", headers=bearer(secret)).get_json()["event"]
    assert EVENT_FIELDS <= set(data)
    assert data["id"] == event.id
    assert [s["id"] for s in data["sessions"]] == [s.id for s in event.sessions]
    assert_json_error(device.get(f"/api/v1/events/{setup['foreign'].id}", headers=bearer(secret)), 404, "not_found")


def test_token_is_stored_hashed_and_records_its_use(app, client, db, setup):
    from accounts.models import ApiToken

    login(client, setup["user"])
    secret = create_token_on_profile(client)
    assert secret.startswith("sh_") and len(secret) >= 40

    stored = db.session.scalars(sa.select(ApiToken)).all()
    assert len(stored) == 1
    assert stored[0].token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored[0].last_used_at is None
    for table in db.metadata.sorted_tables:
        with db.engine.connect() as conn:
            for row in conn.execute(table.select()):
                assert not any(secret in str(value) for value in row), f"the secret is stored in {table.name}"

    # The profile page never shows it again.
    assert secret not in client.get("/account").get_data(as_text=True)

    isolated_client(app).get("/api/v1/events", headers=bearer(secret))
    db.session.expire_all()
    assert db.session.get(ApiToken, stored[0].id).last_used_at is not None


def test_revoked_token_gets_401_json(app, client, db, setup):
    from accounts.models import ApiToken

    login(client, setup["user"])
    secret = create_token_on_profile(client)
    device = isolated_client(app)
    assert device.get("/api/v1/events", headers=bearer(secret)).status_code == 200

    token_id = db.session.scalar(sa.select(ApiToken.id))
    response = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 302

    assert_json_error(device.get("/api/v1/events", headers=bearer(secret)), 401, "unauthorized")
    assert_json_error(device.get(f"/api/v1/events/{setup['published'].id}", headers=bearer(secret)), 401)
    assert "Revoked" in client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_token_of_a_deactivated_user_gets_401(app, client, db, setup):
    login(client, setup["user"])
    secret = create_token_on_profile(client)
    setup["user"].active = False
    db.session.commit()
    assert_json_error(isolated_client(app).get("/api/v1/events", headers=bearer(secret)), 401)


def test_a_token_does_not_open_pages(app, client, setup):
    """Tokens are for /api only: a stolen token cannot drive the organizer pages."""
    login(client, setup["user"])
    secret = create_token_on_profile(client)
    response = isolated_client(app).get("/manage/", headers=bearer(secret))
    assert response.status_code == 302


def test_token_name_is_required(client, setup):
    login(client, setup["user"])
    response = client.post("/account/tokens", data={"csrf_token": csrf_token(client, "/account"), "name": ""})
    assert response.status_code == 422
    assert 'id="new-token"' not in response.get_data(as_text=True)


# ---------------------------------------------------------------- errors are JSON


@pytest.mark.parametrize("path", ["/api/v1/whatever", "/api/v1/events/999999", "/api/v1/events/abc",
                                  "/api/v1/events/1/nothing", "/api/v2/events"])
def test_unknown_api_urls_get_404_json(app, client, setup, path):
    login(client, setup["user"])
    assert_json_error(client.get(path), 404, "not_found")
    assert_json_error(isolated_client(app).get(path), 404 if "999999" not in path else 401)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/events"), ("DELETE", "/api/v1/events"), ("PUT", "/api/v1/events/{id}"),
    ("DELETE", "/api/v1/events/{id}"), ("PATCH", "/api/v1/events/{id}"),
])
def test_wrong_method_gets_405_json(app, client, setup, method, path):
    login(client, setup["user"])
    secret = create_token_on_profile(client)
    path = path.format(id=setup["published"].id)
    device = isolated_client(app)
    assert_json_error(device.open(path, method=method, headers=bearer(secret), json={}), 405, "method_not_allowed")
    assert_json_error(client.open(path, method=method, json={}), 405, "method_not_allowed")


@pytest.mark.parametrize("header", [
    "Bearer garbage",
    "Bearer",
    "Bearer ",
    "Bearer sh_",
    "Bearer sh_" + "A" * 5000,
    "Bearer sh_%00%00",
    "Bearer sh_ä",
    "bearer sh_abcdef",
    "Basic dXNlcjpwYXNzd29yZA==",
    "Token sh_abcdef",
    "Bearer sh_abc sh_def",
    "garbage",
])
def test_garbage_authorization_gets_401_json(client, setup, header):
    assert_json_error(client.get("/api/v1/events", headers={"Authorization": header}), 401, "unauthorized")


def test_garbage_authorization_with_a_valid_session_does_not_500(client, setup):
    login(client, setup["user"])
    response = client.get("/api/v1/events", headers={"Authorization": "Bearer sh_" + "Z" * 60})
    assert response.status_code in (200, 401)
    assert response.mimetype == "application/json"


def test_anonymous_api_gets_401_json_without_redirect(client, setup):
    response = client.get("/api/v1/events")
    assert_json_error(response, 401, "unauthorized")
    assert "Location" not in response.headers
