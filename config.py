"""Configuration classes, read from environment variables with safe development defaults.

Pick one with ``SAIHUI_CONFIG`` (development, testing, production) or pass a class to ``create_app``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# Used only by development and tests. ProductionConfig refuses to start with it (tested).
DEVELOPMENT_SECRET_KEY = "saihui-development-only-not-secret"


def normalize_database_url(url: str) -> str:
    """Accept the usual PostgreSQL spellings and route them through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'saihui.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    SAIHUI_TIMEZONE = os.environ.get("SAIHUI_TIMEZONE", "Asia/Shanghai")

    LANGUAGES = ("zh_Hans", "zh_Hant", "en")
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # bigger uploads get 413
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    WTF_CSRF_TIME_LIMIT = None  # a form left open all morning at the venue still posts

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = True

    # Failed logins: at most this many per account or per address within the window.
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_FAILURE_WINDOW_MINUTES = int(os.environ.get("LOGIN_FAILURE_WINDOW_MINUTES", "15"))

    # Sign-ups: limits per client address (a venue or a WeChat crowd may share one address: keep them generous).
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "60 per minute")
    FIND_RATE_LIMIT = os.environ.get("FIND_RATE_LIMIT", "10 per minute")
    # Ticket signing keys are derived from SECRET_KEY per key id. To rotate: set TICKET_KEY_ID to a new number
    # and keep the old ids in TICKET_KEY_IDS, so that printed tickets still verify.
    TICKET_KEY_ID = int(os.environ.get("TICKET_KEY_ID", "1"))
    TICKET_KEY_IDS = tuple(int(k) for k in os.environ.get("TICKET_KEY_IDS", "1").split(",") if k.strip())
    # A TrueType CJK font embedded (as a subset) in PDF tickets: Debian's fonts-lxgw-wenkai by default.
    TICKET_PDF_FONT = os.environ.get("TICKET_PDF_FONT", "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")
    # Certificates: a TrueType CJK font (empty: TICKET_PDF_FONT, LXGW WenKai). See docs/certificates.md.
    CERTIFICATE_FONT = os.environ.get("CERTIFICATE_FONT", "")
    REGISTRATION_IMPORT_DIR = os.environ.get("REGISTRATION_IMPORT_DIR", "")

    # Scheduler (issue 5). Production runs `flask --app app scheduler` as its own service; development may run it
    # inside the web server (started on the first request); tests never start it.
    SCHEDULER_IN_PROCESS = _bool("SCHEDULER_IN_PROCESS", False)
    # Files that background tasks produce (exports): kept this many hours after the task finished, then deleted.
    TASK_FILES_DIR = os.environ.get("TASK_FILES_DIR", str(INSTANCE_DIR / "task-files"))
    TASK_FILE_RETENTION_HOURS = int(os.environ.get("TASK_FILE_RETENTION_HOURS", "24"))
    # Sign-up lists longer than this are exported as a background task with a progress bar.
    EXPORT_IN_BACKGROUND_FROM = int(os.environ.get("EXPORT_IN_BACKGROUND_FROM", "500"))

    # Outgoing e-mail (SMTP). Without MAIL_SERVER nothing is sent: messages are kept in the outbox (organizers read
    # them on the event's Messages page) and a log line says so. MAIL_PORT 0: 465 with MAIL_USE_SSL, else 25.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT") or 0)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)  # STARTTLS (usually port 587)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)  # TLS from the start (usually port 465)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "")  # e.g. "赛会 <noreply@example.org>"
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT") or 10)  # seconds per SMTP connection or command
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS") or 8)  # then the message is marked failed

    TESTING = False
    DEBUG = False

    @classmethod
    def validate(cls) -> None:
        """Raise RuntimeError when the configuration is unsafe for this environment."""


class DevelopmentConfig(Config):
    DEBUG = False
    SCHEDULER_IN_PROCESS = _bool("SCHEDULER_IN_PROCESS", True)


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = normalize_database_url(
        os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    )
    RATELIMIT_STORAGE_URI = "memory://"
    BASE_URL = "http://testserver"
    SCHEDULER_IN_PROCESS = False
    TASK_FILES_DIR = os.environ.get("TASK_FILES_DIR", str(Path(tempfile.gettempdir()) / "saihui-test-task-files"))
    MAIL_SERVER = ""  # tests that send start their own SMTP server


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls) -> None:
        key = os.environ.get("SECRET_KEY", "")
        if not key or key == DEVELOPMENT_SECRET_KEY or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        if "DATABASE_URL" not in os.environ:
            raise RuntimeError("DATABASE_URL must be set in production (PostgreSQL recommended).")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    name = os.environ.get("SAIHUI_CONFIG", "development").strip().lower()
    if name not in CONFIGS:
        raise RuntimeError(f"SAIHUI_CONFIG must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
