"""Error responses: JSON under /api/, friendly pages elsewhere. Never a stack trace to a user."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.errors import DomainError
from extensions import db


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": str(message)}})
    response.status_code = status
    return response


def _message_for(status: int) -> str:
    return {
        400: _("The request could not be understood."),
        401: _("Please log in."),
        403: _("You do not have permission to do this."),
        404: _("The page or item was not found."),
        405: _("This action is not allowed here."),
        409: _("This conflicts with the current state."),
        413: _("The upload is too large."),
        422: _("Some input is not valid."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. It has been logged; please try again."),
    }.get(status, _("The request could not be completed."))


_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
    500: "server_error",
}


def register_error_handlers(app: Flask) -> None:
    def render(status: int, code: str | None = None, message: str | None = None):
        message = message or _message_for(status)
        code = code or _CODES.get(status, "error")
        if wants_json():
            return json_error(status, code, message)
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
        return render_template(template, status=status, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render(400, "csrf_failed", _("The form has expired or was sent from elsewhere. Please reload the page and try again."))

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render(error.status, error.code, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if status == 429:
            return render(429)
        return render(status)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render(500)
