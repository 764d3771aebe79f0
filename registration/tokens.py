"""Ticket tokens: what a ticket's QR code carries (SPEC: compact, signed, unforgeable, QR version ≤ 6).

Layout, 17 bytes before encoding::

    key id (1) | event id (4) | registration id (4) | HMAC-SHA256 truncated to 8 bytes

encoded as ``T`` + unpadded RFC 4648 base32 (28 characters: upper-case letters and digits, so the QR code uses
the dense alphanumeric mode; 29 characters fit a version 2 code). The key id lets the server rotate its key
without invalidating tickets already printed: old key ids stay verifiable while new tickets use the new one.

A scanner can tell apart, before touching the database: ``malformed`` (not a Saihui ticket at all),
``unknown_key`` (signed with a key this server does not have) and ``forged`` (signature does not match: altered
or made up). Pure module: keys come in as a parameter.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

PREFIX = "T"
_BODY = struct.Struct(">BII")
MAC_BYTES = 8
TOKEN_LENGTH = 1 + 28
_DOMAIN = b"saihui-ticket-v1|"


class TokenError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class TicketClaims:
    key_id: int
    event_id: int
    registration_id: int


def derive_ticket_key(secret_key: str, key_id: int) -> bytes:
    """A per-key-id signing key derived from the application secret (so tickets need no extra secret)."""
    return hmac.new(secret_key.encode("utf-8"), b"ticket-key|%d" % key_id, hashlib.sha256).digest()


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + body, hashlib.sha256).digest()[:MAC_BYTES]


def sign_ticket(event_id: int, registration_id: int, *, key_id: int, keys: dict[int, bytes]) -> str:
    if not (0 <= key_id <= 255 and 0 < event_id < 2**32 and 0 < registration_id < 2**32):
        raise ValueError("ticket fields out of range")
    body = _BODY.pack(key_id, event_id, registration_id)
    raw = body + _mac(keys[key_id], body)
    return PREFIX + base64.b32encode(raw).decode("ascii").rstrip("=")


def parse_ticket(token: str, *, keys: dict[int, bytes]) -> TicketClaims:
    """Check a scanned token; raise TokenError('malformed' | 'unknown_key' | 'forged')."""
    text = (token or "").strip().upper()
    if text.startswith("HTTP") and "/T" in text:  # a URL form of the ticket: take its last part
        text = text.rsplit("/", 1)[-1]
    if len(text) != TOKEN_LENGTH or not text.startswith(PREFIX):
        raise TokenError("malformed")
    try:
        raw = base64.b32decode(text[1:] + "====")
    except (binascii.Error, ValueError):
        raise TokenError("malformed") from None
    if len(raw) != _BODY.size + MAC_BYTES:
        raise TokenError("malformed")
    if base64.b32encode(raw).decode("ascii").rstrip("=") != text[1:]:
        raise TokenError("forged")  # the unused low bits of the last character were altered
    body, mac = raw[: _BODY.size], raw[_BODY.size:]
    key_id, event_id, registration_id = _BODY.unpack(body)
    key = keys.get(key_id)
    if key is None:
        raise TokenError("unknown_key")
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise TokenError("forged")
    if event_id == 0 or registration_id == 0:
        raise TokenError("forged")
    return TicketClaims(key_id=key_id, event_id=event_id, registration_id=registration_id)
