"""Which language a page speaks: an explicit choice (cookie), the user's saved choice, then the browser's."""
from __future__ import annotations

from babel.support import Translations
from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_login import current_user
from wtforms.i18n import messages_path

LANGUAGE_COOKIE = "saihui_lang"
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}
HTML_LANG = {"zh_Hans": "zh-CN", "zh_Hant": "zh-TW", "en": "en"}
# WTForms ships its own messages ("Not a valid choice." …) as zh and zh_TW. Flask-WTF looks up the page's
# locale as is, and gettext would turn zh_Hant into zh: Traditional pages would show Simplified messages.
WTFORMS_LOCALES = {"zh_Hans": "zh", "zh_Hant": "zh_TW", "en": "en"}


def locale_from_accept_language(header_values) -> str | None:
    """Map a browser's Accept-Language list onto our three catalogs."""
    for value, _quality in header_values:
        tag = value.lower().replace("_", "-")
        if tag.startswith("zh"):
            if any(part in tag for part in ("hant", "-tw", "-hk", "-mo")):
                return "zh_Hant"
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return None


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if request:
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        if chosen in supported:
            return chosen
    if getattr(current_user, "is_authenticated", False) and getattr(current_user, "locale", None) in supported:
        return current_user.locale
    if request:
        found = locale_from_accept_language(request.accept_languages)
        if found in supported:
            return found
    return current_app.config["BABEL_DEFAULT_LOCALE"]


class WTFormsTranslations:
    """WTForms' built-in messages in the page's language, loaded on first use in a request."""

    def __init__(self) -> None:
        self._translations = None

    def _load(self):
        if self._translations is None:
            locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
            self._translations = Translations.load(
                messages_path(), [WTFORMS_LOCALES.get(locale, locale)], domain="wtforms"
            )
        return self._translations

    def ugettext(self, string: str) -> str:
        return self._load().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._load().ungettext(singular, plural, n)


def init_wtforms_translations(app: Flask) -> None:
    """Flask-WTF (with WTF_I18N_ENABLED) uses ``request.wtforms_translations`` when it is set."""

    @app.before_request
    def _wtforms_translations() -> None:
        request.wtforms_translations = WTFormsTranslations()
