"""The translation catalogs stay complete, and pages speak the language that was asked for.

A developer who adds a user-facing string without translating it breaks ``test_every_extracted_message_is_in_catalogs``;
the fix is ``make i18n-extract`` and then translating the new entries in translations/zh_Hans and zh_Hant.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.conftest import Factory, csrf_token, login

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
CHINESE = ("zh_Hans", "zh_Hant")
ALL_LOCALES = (*CHINESE, "en")


# ------------------------------------------------------------------ helpers


def extract_messages(source_dir: Path, mapping_file: Path, output: Path) -> Catalog:
    """Run Babel's extraction exactly as ``make i18n-extract`` does and return the template catalog."""
    CommandLineInterface().run([
        "pybabel", "--quiet", "extract", "-F", str(mapping_file), "-k", "_l", "-o", str(output),
        "--no-location", "--sort-output", "--project", "Saihui", str(source_dir),
    ])
    with output.open("rb") as f:
        return read_po(f)


def load_catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def key(message) -> tuple[str | None, str]:
    singular = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, singular


def missing_messages(template: Catalog, catalog: Catalog) -> list[str]:
    """msgids of ``template`` that ``catalog`` lacks or leaves untranslated or fuzzy."""
    have = {key(m): m for m in catalog if m.id}
    missing = []
    for message in template:
        if not message.id:
            continue
        found = have.get(key(message))
        strings = () if found is None else (found.string if isinstance(found.string, tuple) else (found.string,))
        if found is None or found.fuzzy or not strings or not all(strings):
            missing.append(key(message)[1])
    return sorted(missing)


# "{time}": filled in by static/js from data-msg-* attributes, so it must survive translation too.
BRACE_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def placeholders(text: str) -> Counter:
    """%(name)s / %d (Python and Jinja) and {name} (JavaScript) placeholders, with how often each occurs."""
    return Counter(m.group(0) for pattern in (PYTHON_FORMAT, BRACE_PLACEHOLDER) for m in pattern.finditer(text))


def placeholder_problems(catalog: Catalog) -> list[str]:
    """Entries whose translation lacks a placeholder of the msgid, or adds one the code never passes."""
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        if len(ids) == 1:
            expected = placeholders(ids[0])
            for string in strings:
                if string and placeholders(string) != expected:
                    problems.append(f"{ids[0]!r} → {string!r}")
        else:  # plural forms: each translated form uses the variables of the English forms
            expected_names = set().union(*(placeholders(i) for i in ids))
            for string in strings:
                if string and set(placeholders(string)) != expected_names:
                    problems.append(f"{ids!r} → {string!r}")
    return problems


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def compiled_catalogs(app):
    """Compile translations/*.po to .mo when they are missing or older than the .po (a fresh clone has none)."""
    stale = []
    for locale in ALL_LOCALES:
        po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append((po, mo))
    for po, mo in stale:
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        tmp.replace(mo)  # atomic: a test running at the same time never reads half a file
    if stale:
        from flask_babel import get_domain

        with app.test_request_context():
            get_domain().cache.clear()  # forget catalogs loaded before they were compiled
    return TRANSLATIONS


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    return extract_messages(ROOT, ROOT / "babel.cfg", tmp_path_factory.mktemp("i18n") / "messages.pot")


# ------------------------------------------------------------------ catalogs


def test_extraction_covers_the_source_tree(extracted):
    ids = {key(m)[1] for m in extracted if m.id}
    assert len(ids) > 100
    assert {"Log in", "Please log in to open this page.", "This field is required."} <= ids


def test_extraction_finds_every_way_of_marking_a_string(tmp_path):
    """babel.cfg: Python _(), _l(), gettext(), lazy_gettext(), ngettext(); Jinja _(), ngettext(), {% trans %};
    placeholders kept; tests, migrations, bench and .venv ignored."""
    (tmp_path / "module.py").write_text(
        "from flask_babel import gettext, lazy_gettext, ngettext, gettext as _, lazy_gettext as _l\n"
        "A = _('Underscore %(name)s', name='x')\nB = _l('Lazy alias')\nC = gettext('Plain gettext')\n"
        "D = lazy_gettext('Lazy gettext')\nE = ngettext('%(num)d seat', '%(num)d seats', 2)\n"
    )
    (tmp_path / "templates" / "events").mkdir(parents=True)
    (tmp_path / "templates" / "events" / "page.html").write_text(
        '{{ _("Template %(title)s", title=t) }} {{ ngettext("%(num)d team", "%(num)d teams", n) }}\n'
        "{% trans n=3 %}Trans block {{ n }}{% endtrans %}\n"
    )
    for ignored in ("tests", "migrations", "bench", ".venv/lib"):
        (tmp_path / ignored).mkdir(parents=True)
        (tmp_path / ignored / "module.py").write_text(f"_('Only in {ignored}')\n")
    template = extract_messages(tmp_path, ROOT / "babel.cfg", tmp_path / "messages.pot")
    assert sorted(key(m)[1] for m in template if m.id) == [
        "%(num)d seat", "%(num)d team", "Lazy alias", "Lazy gettext", "Plain gettext", "Template %(title)s",
        "Trans block %(n)s", "Underscore %(name)s",
    ]
    assert template.get("%(num)d seat").id == ("%(num)d seat", "%(num)d seats")


@pytest.mark.parametrize("locale", CHINESE)
def test_every_extracted_message_is_in_catalogs(extracted, locale):
    missing = missing_messages(extracted, load_catalog(locale))
    assert not missing, (
        f"{len(missing)} user-facing string(s) have no {locale} translation:\n  "
        + "\n  ".join(repr(m) for m in missing)
        + "\nRun `make i18n-extract`, then translate these entries in "
        f"translations/zh_Hans/LC_MESSAGES/messages.po and translations/zh_Hant/LC_MESSAGES/messages.po."
    )


@pytest.mark.parametrize("locale", CHINESE)
def test_every_entry_is_translated_and_not_fuzzy(locale):
    catalog = load_catalog(locale)
    assert not catalog.fuzzy, f"the header of {locale}/messages.po is fuzzy: pybabel compile would skip the catalog"
    untranslated = missing_messages(catalog, catalog)
    assert not untranslated, f"{locale}: empty or fuzzy translations: {untranslated}"
    assert len([m for m in catalog if m.id]) > 100


@pytest.mark.parametrize("locale", CHINESE)
def test_placeholders_match_between_msgid_and_msgstr(locale):
    catalog = load_catalog(locale)
    problems = placeholder_problems(catalog)
    assert not problems, f"{locale}: placeholders differ:\n  " + "\n  ".join(problems)
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check()]
    assert not errors, errors


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_catalog_exists_for_every_supported_language(app, locale):
    assert locale in app.config["LANGUAGES"]
    assert (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").is_file()


def test_checks_catch_an_untranslated_string_and_a_lost_placeholder(tmp_path):
    """The catalog checks can fail: a new string that nobody translated, a fuzzy guess, a dropped %(n)d."""
    (tmp_path / "module.py").write_text("from flask_babel import gettext as _\nA = _('Known')\nB = _('Brand new %(n)d')\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text('{{ _("New in a template") }}')
    template = extract_messages(tmp_path, ROOT / "babel.cfg", tmp_path / "messages.pot")

    catalog = Catalog(locale="zh_Hans")
    catalog.add("Known", "已知")
    catalog.add("Brand new %(n)d", "全新")
    assert missing_messages(template, catalog) == ["New in a template"]
    assert placeholder_problems(catalog) == ["'Brand new %(n)d' → '全新'"]

    catalog.add("New in a template", "模板中的新字符串", flags=("fuzzy",))
    assert missing_messages(template, catalog) == ["New in a template"]
    catalog.add("Checked in at {time}", "已签到")
    assert placeholder_problems(catalog)[-1] == "'Checked in at {time}' → '已签到'"
    catalog.delete("Checked in at {time}")
    catalog.get("New in a template").flags.discard("fuzzy")
    catalog.get("Brand new %(n)d").string = "全新 %(n)d %(n)d"
    assert missing_messages(template, catalog) == []
    assert placeholder_problems(catalog) == ["'Brand new %(n)d' → '全新 %(n)d %(n)d'"]


# ------------------------------------------------------------------ pages


def _html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


@pytest.mark.parametrize(
    ("cookie", "accept_language", "expected_text", "absent_text", "html_lang"),
    [
        (None, None, "登录", "Log in", "zh-CN"),
        ("zh_Hans", "en", "登录", "Log in", "zh-CN"),
        ("zh_Hant", None, "登入", "登录", "zh-TW"),
        (None, "en", "Log in", "登录", "en"),
        (None, "en-US,en;q=0.8", "Log in", "登录", "en"),
        (None, "zh-TW,zh;q=0.9", "登入", "登录", "zh-TW"),
        (None, "zh-HK", "登入", "登录", "zh-TW"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "登录", "Log in", "zh-CN"),
        ("xx", "en", "Log in", "登录", "en"),  # an unknown cookie value is ignored
    ],
)
def test_login_page_speaks_the_chosen_language(compiled_catalogs, client, cookie, accept_language, expected_text,
                                               absent_text, html_lang):
    if cookie:
        client.set_cookie("saihui_lang", cookie)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    response = client.get("/login", headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert expected_text in html
    assert absent_text not in html
    assert _html_lang(html) == html_lang


def test_language_switch_sets_cookie_and_redirects_to_the_page(compiled_catalogs, client):
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"language": "zh_Hant", "next": "/login?next=%2Fmanage",
                                              "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fmanage"
    cookie = client.get_cookie("saihui_lang")
    assert cookie is not None and cookie.value == "zh_Hant"
    assert cookie.http_only
    assert "登入" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["//evil.example", "//evil.example/login", "https://evil.example/", "/\\evil.example", "evil.example",
               "javascript:alert(1)"],
)
def test_language_switch_never_redirects_off_site(compiled_catalogs, client, target):
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"language": "en", "next": target, "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.netloc in ("", "localhost") and parts.scheme in ("", "http")
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location
    assert client.get_cookie("saihui_lang").value == "en"


def test_language_switch_ignores_unknown_language(compiled_catalogs, client):
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"language": "fr", "next": "/login", "csrf_token": token})
    assert response.status_code == 302
    assert client.get_cookie("saihui_lang") is None


def test_language_switch_needs_csrf_token(compiled_catalogs, client):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.status_code == 400
    assert client.get_cookie("saihui_lang") is None


def test_language_switch_is_saved_on_the_account(compiled_catalogs, client, factory, db):
    user = factory.user(login="lang@example.org")
    login(client, user)
    token = csrf_token(client, "/account")
    client.post("/language", data={"language": "en", "next": "/account", "csrf_token": token})
    db.session.refresh(user)
    assert user.locale == "en"
    client.delete_cookie("saihui_lang")  # another browser: the saved choice still applies
    html = client.get("/account").get_data(as_text=True)
    assert _html_lang(html) == "en" and "Log out" in html


# ------------------------------------------------------------------ messages that our code does not wrap


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh_Hans", "表单已过期"), ("zh_Hant", "表單已過期"), ("en", "The form has expired")],
)
def test_csrf_failure_page_is_translated(compiled_catalogs, client, locale, expected):
    client.set_cookie("saihui_lang", locale)
    response = client.post("/login", data={"login": "a@example.org", "password": "x"})
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "expected", "absent"),
    [
        ("zh_Hans", "字段长度不能超过 120 个字符", "Field cannot be longer"),
        ("zh_Hant", "欄位長度不能超過 120 個字元", "字段长度"),  # zh_Hant must find WTForms' zh_TW, not zh
        ("en", "Field cannot be longer than 120 characters", "字段长度"),
    ],
)
def test_wtforms_builtin_messages_follow_the_page_language(compiled_catalogs, client, locale, expected, absent):
    client.set_cookie("saihui_lang", locale)
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"login": "x" * 121, "password": Factory.PASSWORD, "csrf_token": token})
    html = response.get_data(as_text=True)
    assert expected in html
    assert absent not in html


@pytest.mark.parametrize(
    ("locale", "expected"), [("zh_Hans", "不是有效的选择。"), ("zh_Hant", "不是有效的選擇。"), ("en", "Not a valid choice.")],
)
def test_wtforms_choice_error_follows_the_page_language(app, db, locale, expected):
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict
    from wtforms import SelectField
    from wtforms.fields.choices import SelectChoice

    class ChoiceForm(FlaskForm):
        class Meta:
            csrf = False

        kind = SelectField(choices=[SelectChoice("forum", "Forum")])

    with app.test_request_context("/", headers={"Cookie": f"saihui_lang={locale}"}):
        app.preprocess_request()
        form = ChoiceForm(formdata=MultiDict({"kind": "nonsense"}))
        assert not form.validate()
        assert form.errors == {"kind": [expected]}


def test_two_browsers_in_one_test_keep_their_own_language(compiled_catalogs, app, client):
    """Each request chooses its language afresh (nothing cached from the previous request or client)."""
    client.set_cookie("saihui_lang", "zh_Hant")
    other = app.test_client()
    other.set_cookie("saihui_lang", "en")
    assert _html_lang(client.get("/login").get_data(as_text=True)) == "zh-TW"
    assert _html_lang(other.get("/login").get_data(as_text=True)) == "en"
    assert _html_lang(client.get("/login").get_data(as_text=True)) == "zh-TW"
