"""Security headers on every response: a strict Content-Security-Policy and friends.

Scripts and styles come only from this server's ``static/`` (no inline ``<script>``, no ``onclick=``, no
``style=`` attributes), so that an injected snippet cannot run.
"""
from __future__ import annotations

from flask import request
from werkzeug.datastructures import ImmutableMultiDict

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # data: for Bootstrap's inline SVG icons, blob: for QR images made in the browser
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def apply_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    return response


def strip_nul_characters() -> None:
    """Remove NUL characters from submitted form fields before any form reads them.

    Nobody types one on purpose, and PostgreSQL refuses them in text columns: without this, a pasted NUL would
    end in a 500 instead of a saved form.
    """
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    form = request.form
    if any("\x00" in value for _key, value in form.items(multi=True)):
        request.form = ImmutableMultiDict([(k, v.replace("\x00", "")) for k, v in form.items(multi=True)])
