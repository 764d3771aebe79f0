"""Template filters and globals: local times, masked personal data, the language menu."""
from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from core.i18n import HTML_LANG, LANGUAGE_NAMES
from core.masking import mask_id_number, mask_phone
from core.timezones import utc_to_local


def format_local(value: datetime | None, tz_name: str, fmt: str = "medium") -> str:
    """A stored UTC time shown in the event's time zone, in the page's language."""
    if value is None:
        return ""
    local = utc_to_local(value, tz_name)
    if fmt == "input":
        return local.strftime("%Y-%m-%dT%H:%M")
    patterns = {
        "date": "yyyy-MM-dd",
        "time": "HH:mm",
        "medium": "yyyy-MM-dd HH:mm",
    }
    return format_datetime(local, patterns.get(fmt, fmt))


def timezone_label(tz_name: str) -> str:
    """北京时间 reads better than Asia/Shanghai; other zones keep their name."""
    labels = {
        "Asia/Shanghai": _("Beijing time"),
        "Asia/Hong_Kong": _("Hong Kong time"),
        "Asia/Macau": _("Macau time"),
        "Asia/Taipei": _("Taipei time"),
    }
    return labels.get(tz_name, tz_name)


def role_names() -> dict[str, str]:
    return {
        "admin": _("Organization admin"),
        "organizer": _("Organizer"),
        "checkin_staff": _("Check-in staff"),
        "judge": _("Judge"),
        "chief_judge": _("Chief judge"),
    }


def kind_names() -> dict[str, str]:
    return {
        "forum": _("Forum"),
        "salon": _("Salon"),
        "seminar": _("Seminar"),
        "training": _("Training"),
        "competition": _("Competition"),
        "ceremony": _("Ceremony"),
    }


def state_names() -> dict[str, str]:
    return {"draft": _("Draft"), "published": _("Published"), "archived": _("Archived")}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.filters["tz_label"] = timezone_label
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number

    @app.context_processor
    def language_context():
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "default_timezone": app.config["SAIHUI_TIMEZONE"],
            "role_names": role_names(),
            "kind_names": kind_names(),
            "state_names": state_names(),
            "current_language": locale,
            "html_lang": HTML_LANG.get(locale, "zh-CN"),
            "language_names": LANGUAGE_NAMES,
        }
