"""Which language a page speaks: an explicit choice (cookie), the user's saved choice, then the browser's."""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

LANGUAGE_COOKIE = "saihui_lang"
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}
HTML_LANG = {"zh_Hans": "zh-CN", "zh_Hant": "zh-TW", "en": "en"}


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
