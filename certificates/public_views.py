"""Public certificate pages: the verification page the QR code opens, the form where someone types a certificate's
number, the JSON API, and downloads for holders (from their sign-up page, or the link in "certificate ready").

They show only what is printed on the certificate (holder, award, event, issuer, date, number) and whether it is
valid or revoked; never the unit's contacts, the phone, the reason for a revocation or anything else.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _

from certificates import forms, numbering, render, services
from certificates.models import Certificate
from core.http import json_error
from extensions import csrf, limiter

bp = Blueprint("certificates_public", __name__)
api_bp = Blueprint("certificates_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # read-only JSON


def _verify_rate_limit() -> str:
    return current_app.config.get("VERIFY_RATE_LIMIT") or current_app.config.get("FIND_RATE_LIMIT", "10 per minute")


def _public(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/verify/<code>")
def verify(code: str):
    certificate = services.find_by_code(code)
    if certificate is None:
        page = render_template("certificates/verify_unknown.html", code=services.normalize_code(code)[:16],
                               form=forms.VerifyForm(formdata=None))
        return _public(make_response(page, 404))
    return _public(make_response(render_template(
        "certificates/verify.html", certificate=certificate,
        kind_label=services.KIND_LABELS[certificate.kind], facts=services.verification_json(certificate))))


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_rate_limit, methods=["POST"])
def verify_form():
    """Type the number printed on a certificate (or its verification code) and the holder's name: both must
    match, so that numbers tried one after another reveal nobody (and the form is rate-limited)."""
    form = forms.VerifyForm()
    found: list[Certificate] | None = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            found = services.find_by_number(form.number.data, form.name.data)
            if not found:
                status = 404
        else:
            status = 422
    return _public(make_response(render_template(
        "certificates/verify_form.html", form=form, found=found,
        facts=[services.verification_json(c) for c in found or []],
        kind_labels={c.id: services.KIND_LABELS[c.kind] for c in found or []}), status))


def _pdf_response(certificate: Certificate):
    try:
        pdf = services.certificate_pdf(certificate)
    except render.FontError as error:
        current_app.logger.error("certificates: font %s is %s", error.path, error.reason)
        message = _("The certificate cannot be made right now: the server lacks the Chinese font it needs. Please "
                    "try again later.")
        return render_template("errors/generic.html", status=503, message=message), 503
    except render.MissingGlyphs:
        current_app.logger.error("certificate %s has characters the font lacks", certificate.id)
        message = _("This certificate cannot be printed yet: the organizer has to correct it first.")
        return render_template("errors/generic.html", status=409, message=message), 409
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    name = numbering.safe_file_name(certificate.number, certificate.holder_name)
    response.headers["Content-Disposition"] = (f'attachment; filename="certificate-{certificate.id}.pdf"; '
                                               f"filename*=UTF-8''{quote(name)}")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/r/<key>/certificates/<int:certificate_id>.pdf")
def registration_certificate(key: str, certificate_id: int):
    """A participant's own certificate, from their sign-up page (the secret manage link is the key)."""
    from registration.services import find_by_manage_key

    registration = find_by_manage_key(key)
    certificate = services.registration_certificates(registration.id) if registration is not None else []
    wanted = next((c for c in certificate if c.id == certificate_id), None)
    if wanted is None:
        abort(404)
    return _pdf_response(wanted)


@bp.route("/certificates/<token>.pdf")
def download(token: str):
    """The link in the “certificate ready” message: signed, so that it cannot be guessed or altered."""
    certificate = services.certificate_from_token(token)
    if certificate is None:
        abort(404)
    if not certificate.is_valid:
        message = _("This certificate has been revoked by its issuer.")
        return render_template("errors/generic.html", status=410, message=message), 410
    return _pdf_response(certificate)


@api_bp.get("/certificates/<verify_code>")
def api_verify(verify_code: str):
    """Public: ``{"number", "holder", "award", "event", "issued_at", "valid"}`` (and ``kind``, ``issuer``)."""
    certificate = services.find_by_code(verify_code)
    if certificate is None:
        return json_error(404, "not_found", _("No certificate has this verification code."))
    response = jsonify(services.verification_json(certificate))
    response.headers["Cache-Control"] = "no-store"
    return response
