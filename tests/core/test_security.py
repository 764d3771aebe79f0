"""Security rules that hold for the whole app: CSP and templates that need no inline code, CSRF on every form,
production configuration, upload limits, login throttling, safe redirects after login, sessions ending on a
password change."""
from __future__ import annotations

import importlib.util
import re
import secrets
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from config import DEVELOPMENT_SECRET_KEY
from core.security import CONTENT_SECURITY_POLICY
from tests.conftest import ROOT, Factory, build_once, csrf_token, login
from tests.test_access import (
    IGNORED_ENDPOINTS,
    build_path,
    build_world,
    isolated_client,
    log_in_as,
    url_values,
)

TEMPLATES = ROOT / "templates"
CJK = re.compile(r"[\u4e00-\u9fff]")

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"(?<![\w-])on[a-z]+\s*=\s*[\"'{\w]", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"(?<![\w-])style\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
POST_FORM = re.compile(r"<form\b[^>]*\bmethod\s*=\s*[\"']?post\b[^>]*>", re.IGNORECASE)


@pytest.fixture()
def client(app, db):
    return isolated_client(app)


@pytest.fixture()
def world(db, factory):
    return build_once(db, "access world", lambda: build_world(db, factory))  # the access table's world, copied


def template_files() -> list[Path]:
    files = sorted(TEMPLATES.rglob("*.html"))
    assert files, f"no templates under {TEMPLATES}"
    return files


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def csp_directives(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _sep, value = part.strip().partition(" ")
        directives[name] = value.strip()
    return directives


def inline_code_problems(html: str, where: str) -> list[str]:
    problems = []
    for label, pattern in (("inline <script>", INLINE_SCRIPT), ("on*= handler", EVENT_HANDLER),
                           ("style= attribute", STYLE_ATTRIBUTE), ("<style> element", STYLE_ELEMENT)):
        for match in pattern.finditer(html):
            problems.append(f"{where}:{line_of(html, match.start())}: {label}: {match.group(0)[:80]}")
    return problems


# ---------------------------------------------------------------- Content-Security-Policy


def test_policy_allows_scripts_and_styles_only_from_this_server():
    directives = csp_directives(CONTENT_SECURITY_POLICY)
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


def collect_html_responses(app, world) -> list[tuple[str, object]]:
    """Every GET page of the URL map as an anonymous visitor and as an organizer, plus the error pages."""
    responses = []
    for role in ("anonymous", "organizer", "staff"):
        client = isolated_client(app)
        log_in_as(client, world, role)
        for rule in app.url_map.iter_rules():
            if rule.endpoint in IGNORED_ENDPOINTS or "GET" not in rule.methods:
                continue
            path = build_path(rule, url_values(world, role))
            responses.append((f"GET {path} as {role}", client.get(path)))
        responses.append((f"404 as {role}", client.get("/no-such-page")))
        responses.append((f"405 as {role}", client.get("/logout")))
        responses.append((f"400 (no CSRF token) as {role}", client.post("/language", data={"language": "en"})))
    client = isolated_client(app)
    log_in_as(client, world, "staff")
    responses.append(("403 as staff", client.get(f"/manage/events/{world.event_a.id}/edit")))
    return responses


def test_every_html_response_carries_the_csp(app, world):
    responses = collect_html_responses(app, world)
    html = [(label, r) for label, r in responses if r.mimetype == "text/html"]
    statuses = {r.status_code for _label, r in html}
    assert {200, 400, 403, 404, 405} <= statuses, statuses
    missing = [label for label, r in html if r.headers.get("Content-Security-Policy") != CONTENT_SECURITY_POLICY]
    assert not missing, "no or another Content-Security-Policy on:\n" + "\n".join(missing)
    for label, r in responses:
        assert r.headers.get("X-Content-Type-Options") == "nosniff", label
        assert r.headers.get("X-Frame-Options") == "DENY", label


def test_rendered_pages_have_no_inline_code(app, world):
    """What the browser receives (templates, macros and form widgets together) needs no 'unsafe-inline'."""
    problems = []
    for label, response in collect_html_responses(app, world):
        if response.mimetype == "text/html":
            problems += inline_code_problems(response.get_data(as_text=True), label)
    assert not problems, "\n".join(problems)


def test_templates_have_no_inline_scripts_handlers_or_styles():
    problems = []
    for path in template_files():
        problems += inline_code_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not problems, "move these to static/js/app.js or static/css/app.css:\n" + "\n".join(problems)


def test_inline_code_scanner_finds_what_it_should():
    bad = '<div>\n<script>alert(1)</script>\n<a href="#" onclick="x()">\n<p style="color:red">\n{{ f(onchange="y") }}'
    found = inline_code_problems(bad, "t.html")
    assert sorted(p.split(":")[1] for p in found) == ["2", "3", "4", "5"]
    good = ('<script src="/static/js/app.js"></script><button data-bs-toggle="x" class="btn">on=</button>'
            '<input data-style="a" aria-label="Monday"> {{ _("Log on") }} <div data-onclick="x">')
    assert inline_code_problems(good, "t.html") == []


def test_every_post_form_in_templates_carries_a_csrf_token():
    problems = []
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        for match in POST_FORM.finditer(text):
            end = text.find("</form>", match.end())
            body = text[match.end(): end if end != -1 else len(text)]
            if "hidden_tag()" not in body and "csrf_token()" not in body:
                problems.append(f"{path.relative_to(ROOT)}:{line_of(text, match.start())}: {match.group(0)}")
    assert not problems, "POST forms without {{ form.hidden_tag() }} or csrf_token():\n" + "\n".join(problems)


# ---------------------------------------------------------------- CSRF


def test_post_without_csrf_token_is_refused_with_a_page(client, db):
    response = client.post("/login", data={"login": "a@example.org", "password": "x"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The form has expired or was sent from elsewhere" in response.get_data(as_text=True)


def test_post_with_a_forged_csrf_token_is_refused_and_changes_nothing(client, world):
    log_in_as(client, world, "organizer")
    response = client.post("/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert client.get("/manage/").status_code == 200  # still logged in


def api_write_rules(app):
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in sorted(set(rule.methods) & {"POST", "PUT", "PATCH", "DELETE"})
    ]


def test_api_write_with_session_cookie_and_no_csrf_header_is_a_json_error(app, client, world):
    """Every API write route refuses a cookie-authenticated call without X-CSRFToken, in JSON."""
    log_in_as(client, world, "organizer")
    for rule, method in api_write_rules(app):
        path = build_path(rule, url_values(world, "organizer"))
        response = client.open(path, method=method, json={})
        assert response.status_code == 400, f"{method} {path}: {response.status_code}"
        assert response.get_json()["error"]["code"] == "csrf_failed", f"{method} {path}"

    # The guard itself, also while the API has no write route yet.
    from flask_wtf.csrf import CSRFError

    from api.views import protect_cookie_writes

    with app.test_request_context("/api/v1/events", method="POST", json={}):
        with pytest.raises(CSRFError) as raised:
            protect_cookie_writes()
        response = app.make_response(app.handle_user_exception(raised.value))
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "csrf_failed" and error["message"]
    with app.test_request_context("/api/v1/events", method="POST", json={}, headers={"Authorization": "Bearer sh_x"}):
        assert protect_cookie_writes() is None  # a Bearer token is not sent by browsers on their own


# ---------------------------------------------------------------- production configuration


def test_production_refuses_a_missing_or_development_secret_key(monkeypatch):
    from config import ProductionConfig

    monkeypatch.setenv("DATABASE_URL", "postgresql://saihui@db/saihui")
    for bad in (None, "", DEVELOPMENT_SECRET_KEY, "too-short-" + "x" * 20):
        if bad is None:
            monkeypatch.delenv("SECRET_KEY", raising=False)
        else:
            monkeypatch.setenv("SECRET_KEY", bad)
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            ProductionConfig.validate()

    good = secrets.token_urlsafe(36)
    assert len(good) == 48
    monkeypatch.setenv("SECRET_KEY", good)
    ProductionConfig.validate()  # no error

    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        ProductionConfig.validate()


def test_create_app_refuses_an_unsafe_production_config(monkeypatch):
    from app import create_app
    from config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    monkeypatch.setenv("DATABASE_URL", "postgresql://saihui@db/saihui")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_cookies_are_secure_by_default(monkeypatch):
    """Load config.py afresh with no cookie setting in the environment, as a production server would."""
    for name in ("SESSION_COOKIE_SECURE", "SAIHUI_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("saihui_config_fresh", ROOT / "config.py")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    production = fresh.ProductionConfig
    assert production.SESSION_COOKIE_SECURE is True
    assert production.REMEMBER_COOKIE_SECURE is True
    assert production.SESSION_COOKIE_HTTPONLY is True
    assert production.SESSION_COOKIE_SAMESITE == "Lax"
    assert production.PREFERRED_URL_SCHEME == "https"


# ---------------------------------------------------------------- oversized requests


def test_body_over_max_content_length_gets_413_not_500(app, client, db):
    limit = app.config["MAX_CONTENT_LENGTH"]
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "login": "x" * (limit + 1024), "password": "x"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"


def test_oversized_upload_gets_413_not_500(app, client, world):
    import io

    log_in_as(client, world, "organizer")
    token = csrf_token(client, "/account")
    big = io.BytesIO(b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    response = client.post("/account/tokens", data={"csrf_token": token, "name": "x", "file": (big, "big.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 413


def test_multipart_text_field_over_form_memory_limit_gets_413_not_500(app, client, db):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "login": "x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1),
                                           "password": "x"}, content_type="multipart/form-data")
    assert response.status_code == 413


# ---------------------------------------------------------------- login throttling


def post_login(client, login_name: str, password: str, **extra):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"login": login_name, "password": password, "csrf_token": token, **extra})


def error_messages(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<div class="invalid-feedback[^"]*">(.*?)</div>', html, re.DOTALL)]


def test_login_is_throttled_after_too_many_wrong_passwords(app, client, factory):
    user = factory.user(login="13912345678")
    bystander = factory.user(login="bystander@example.org")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        response = post_login(client, user.login, "wrong-password")
        assert response.status_code == 200
        assert "账号或密码错误" in " ".join(error_messages(response.get_data(as_text=True)))

    response = post_login(client, user.login, Factory.PASSWORD)
    assert response.status_code == 429
    messages = error_messages(response.get_data(as_text=True))
    minutes = str(app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    assert any(CJK.search(m) and minutes in m for m in messages), messages
    assert client.get("/manage/").status_code == 302  # not logged in

    # The same account typed differently is the same account.
    assert post_login(client, " 13912345678 ", Factory.PASSWORD).status_code == 429

    # Someone else behind the same address is not locked out by one person's typos.
    other = isolated_client(app)
    assert post_login(other, bystander.login, Factory.PASSWORD).status_code == 302


# ---------------------------------------------------------------- redirects after login

UNSAFE_NEXT = ["https://evil.example", "//evil.example", "/\\evil.example", "///evil.example", "\\\\evil.example",
               "javascript:alert(1)", "http:evil.example", " //evil.example"]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_unsafe_next_after_login_goes_to_the_dashboard(client, factory, target):
    user = factory.user()
    response = post_login(client, user.login, Factory.PASSWORD, next=target)
    assert response.status_code == 302
    assert response.location == "/manage/"
    # Already logged in, opening /login?next=… again.
    response = client.get("/login?next=" + quote(target, safe=""))
    assert response.status_code == 302
    assert response.location == "/manage/"


def test_safe_next_after_login_is_kept(client, factory):
    user = factory.user()
    response = post_login(client, user.login, Factory.PASSWORD, next="/manage/events/1")
    assert response.status_code == 302
    assert response.location == "/manage/events/1"


def test_login_redirect_carries_next_and_returns_there(client, factory):
    org = factory.organization()
    user = factory.user(organization=org, role="organizer")
    event = factory.event(org)
    first = client.get(f"/manage/events/{event.id}")
    assert first.status_code == 302
    login_page = urlsplit(first.location)
    token = csrf_token(client, first.location)
    html = client.get(first.location).get_data(as_text=True)
    assert f'value="/manage/events/{event.id}"' in html, "the login form should carry next"
    response = client.post(login_page.path + "?" + login_page.query,
                           data={"login": user.login, "password": Factory.PASSWORD, "csrf_token": token,
                                 "next": f"/manage/events/{event.id}"})
    assert response.location == f"/manage/events/{event.id}"
    assert client.get(response.location).status_code == 200


# ---------------------------------------------------------------- password change


def test_password_change_ends_other_sessions(app, factory):
    user = factory.user()
    laptop, phone = isolated_client(app), isolated_client(app)
    login(laptop, user)
    login(phone, user)
    assert phone.get("/manage/").status_code == 200

    token = csrf_token(laptop, "/account/password")
    response = laptop.post("/account/password", data={
        "csrf_token": token, "current_password": Factory.PASSWORD, "new_password": "new-horse-battery-7",
        "confirm": "new-horse-battery-7",
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:500]

    assert laptop.get("/manage/").status_code == 200  # the session that changed it stays
    response = phone.get("/manage/")
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"

    assert post_login(phone, user.login, Factory.PASSWORD).status_code == 200  # old password: refused
    assert post_login(phone, user.login, "new-horse-battery-7").status_code == 302


def test_wrong_current_password_changes_nothing(app, client, factory):
    user = factory.user()
    other = isolated_client(app)
    login(client, user)
    login(other, user)
    token = csrf_token(client, "/account/password")
    response = client.post("/account/password", data={
        "csrf_token": token, "current_password": "not-my-password", "new_password": "new-horse-battery-7",
        "confirm": "new-horse-battery-7",
    })
    assert response.status_code in (200, 422)
    assert other.get("/manage/").status_code == 200
