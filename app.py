"""Saihui (赛会): the application factory and CLI wiring. No models and no business logic here."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_login import AnonymousUserMixin

from config import INSTANCE_DIR, Config, config_from_environment
from extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config_class: type[Config] | None = None) -> Flask:
    config_class = config_class or config_from_environment()
    config_class.validate()

    app = Flask(__name__, instance_path=str(INSTANCE_DIR), static_folder="static", template_folder="templates")
    app.config.from_object(config_class)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    _import_models()
    db.init_app(app)
    with app.app_context():
        from core.database import configure_engine_events

        configure_engine_events(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)

    from core.i18n import init_wtforms_translations, select_locale

    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "UTC")
    init_wtforms_translations(app)
    _init_login(app)

    from core.http import register_error_handlers
    from core.security import apply_security_headers, strip_nul_characters
    from core import templating

    register_error_handlers(app)
    app.after_request(apply_security_headers)
    app.before_request(strip_nul_characters)
    templating.init_app(app)
    _register_blueprints(app)
    _register_cli(app)
    from tasks.scheduler import init_app as init_scheduler

    init_scheduler(app)  # development only: SCHEDULER_IN_PROCESS
    import gc

    # The app's long-lived objects (modules, classes, the URL map: ~170,000) leave the cyclic garbage collector's
    # scans, so a full collection walks only what requests create: one took ~90 ms on a 2-core machine, in the
    # middle of whatever request happened to allocate at that moment (bench/ranking.py's leaderboard reads).
    gc.freeze()
    return app


def _import_models() -> None:
    """Import every models module so that metadata (and migrations) know all tables."""
    import accounts.models  # noqa: F401
    import core.models  # noqa: F401
    import events.models  # noqa: F401
    import registration.models  # noqa: F401
    import tasks.models  # noqa: F401
    import notifications.models  # noqa: F401
    import competition.models  # noqa: F401
    import competition.work_models  # noqa: F401
    import judging.models  # noqa: F401
    import judging.desk_models  # noqa: F401
    import judging.process_models  # noqa: F401
    import certificates.models  # noqa: F401
    import competition.result_models  # noqa: F401
    import appeals.models  # noqa: F401


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from accounts.models import User

    class Anonymous(AnonymousUserMixin):
        locale = None
        is_superuser = False
        memberships: list = []

    login_manager.init_app(app)
    login_manager.anonymous_user = Anonymous
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "warning"

    @login_manager.user_loader
    def load_user(user_id: str):
        raw_id, _sep, version = user_id.partition(":")
        if not raw_id.isdigit():
            return None
        user = db.session.get(User, int(raw_id))
        if user is None or str(user.session_version) != version or not user.active:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
            return None
        from accounts.services import find_user_by_api_token
        from core.types import utcnow

        user = find_user_by_api_token(header[7:].strip(), now=utcnow())
        if user is not None:
            g.api_token_auth = True
            if db.session.dirty:  # last_used_at touched (at most once a minute); else no commit, nothing expires
                db.session.commit()  # keep last_used_at
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import flash, redirect, url_for
        from flask_babel import gettext as _

        from core.http import json_error

        if request.path.startswith("/api/"):
            return json_error(401, "unauthorized", _("Log in or send an API token."))
        flash(_("Please log in to open this page."), "warning")
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def _register_blueprints(app: Flask) -> None:
    from accounts.views import bp as accounts_bp
    from api.views import bp as api_bp
    from events.views import bp as events_bp
    from events.views import public_bp as public_events_bp
    from registration.views import bp as registration_bp

    app.register_blueprint(public_events_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(events_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(registration_bp)
    from tasks.views import api_bp as tasks_api_bp
    from tasks.views import bp as tasks_bp

    app.register_blueprint(tasks_bp)
    app.register_blueprint(tasks_api_bp)
    from certificates.public_views import api_bp as certificates_api_bp
    from certificates.public_views import bp as certificates_public_bp
    from certificates.views import bp as certificates_bp

    app.register_blueprint(certificates_bp)
    app.register_blueprint(certificates_public_bp)
    app.register_blueprint(certificates_api_bp)
    from notifications.views import bp as notifications_bp

    app.register_blueprint(notifications_bp)
    from competition.views import bp as competition_bp

    app.register_blueprint(competition_bp)
    from competition.public_views import bp as results_public_bp
    from competition.result_views import bp as results_bp

    app.register_blueprint(results_bp)
    app.register_blueprint(results_public_bp)
    from judging.views import bp as judging_bp

    app.register_blueprint(judging_bp)
    from competition.work_views import bp as works_bp

    app.register_blueprint(works_bp)
    from appeals.views import bp as appeals_bp

    app.register_blueprint(appeals_bp)
    from judging.report_views import bp as judging_reports_bp

    app.register_blueprint(judging_reports_bp)
    from judging.desk_views import bp as desk_bp

    app.register_blueprint(desk_bp)
    from judging.process_views import bp as process_bp

    app.register_blueprint(process_bp)
    from stats.views import bp as stats_bp

    app.register_blueprint(stats_bp)


def _register_cli(app: Flask) -> None:
    from cli import register

    register(app)

