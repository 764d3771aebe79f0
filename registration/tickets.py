"""Tickets of registrations: the signed token (registration.tokens) with this server's keys, and its QR image."""
from __future__ import annotations

import io

import qrcode
from flask import current_app
from qrcode.image.pil import PilImage

from registration.tokens import derive_ticket_key, sign_ticket


def ticket_keys() -> dict[int, bytes]:
    """Key id → signing key. Old key ids stay listed after a rotation so printed tickets keep working."""
    secret = current_app.config["SECRET_KEY"]
    ids = set(current_app.config.get("TICKET_KEY_IDS", (1,))) | {current_app.config.get("TICKET_KEY_ID", 1)}
    return {key_id: derive_ticket_key(secret, key_id) for key_id in ids}


def ticket_token(registration) -> str:
    return sign_ticket(
        registration.event_id, registration.id, key_id=current_app.config.get("TICKET_KEY_ID", 1), keys=ticket_keys()
    )


def qr_png(data: str, *, box_size: int = 10) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(image_factory=PilImage).save(buffer, format="PNG")
    return buffer.getvalue()
