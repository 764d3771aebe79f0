from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from accounts.forms import ApiTokenCreateForm, LoginForm, PasswordChangeForm
from accounts.services import AccountError, authenticate, change_password as change_password_service
from accounts.services import create_api_token, list_api_tokens, revoke_api_token
from core.i18n import LANGUAGE_COOKIE
from core.types import utcnow
from extensions import db, limiter

bp = Blueprint("accounts", __name__)


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths: never redirect to another host after login."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("events.dashboard")))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        try:
            user = authenticate(
                form.login.data,
                form.password.data,
                remote_addr=request.remote_addr or "unknown",
                now=utcnow(),
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                window=timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"]),
            )
        except AccountError as error:
            db.session.commit()  # keep the failure: it counts towards throttling
            form.password.errors.append(error.message)
            status = error.status if error.code == "throttled" else 200
        else:
            db.session.commit()
            login_user(user)
            return redirect(safe_next(form.next.data, url_for("events.dashboard")))
    elif request.method == "POST":
        status = 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("public_events.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_password_service(
                current_user, current=form.current_password.data, new=form.new_password.data, now=utcnow()
            )
        except AccountError as error:
            db.session.rollback()
            getattr(form, error.field or "current_password").errors.append(error.message)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # new session version: keep this session, end the others
            flash(_("Your password has been changed. Other devices have been logged out."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/password.html", form=form)


@bp.route("/account", methods=["GET"])
@login_required
def profile():
    return render_template(
        "accounts/profile.html", form=ApiTokenCreateForm(), tokens=list_api_tokens(current_user), new_secret=None
    )


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    form = ApiTokenCreateForm()
    secret = None
    if form.validate_on_submit():
        _token, secret = create_api_token(current_user, name=form.name.data, now=utcnow())
        db.session.commit()
        form = ApiTokenCreateForm(formdata=None)
    return render_template(
        "accounts/profile.html", form=form, tokens=list_api_tokens(current_user), new_secret=secret
    ), (200 if secret or not form.errors else 422)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    revoke_api_token(current_user, token_id, now=utcnow())
    db.session.commit()
    flash(_("The token has been revoked; devices using it can no longer connect."), "success")
    return redirect(url_for("accounts.profile"))


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language", "")
    target = safe_next(request.form.get("next"), url_for("public_events.index"))
    response = redirect(target)
    if language in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
        )
        if current_user.is_authenticated:
            current_user.locale = language
            db.session.commit()
    return response
