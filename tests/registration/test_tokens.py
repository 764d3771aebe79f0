"""registration.tokens: ticket tokens round-trip, and anything altered, made up or foreign is told apart."""
from __future__ import annotations

import base64
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from registration.tokens import (
    PREFIX,
    TOKEN_LENGTH,
    TicketClaims,
    TokenError,
    derive_ticket_key,
    parse_ticket,
    sign_ticket,
)

SECRET = "test-secret-key-for-tickets"
KEYS = {1: derive_ticket_key(SECRET, 1)}
ALL_KEYS = {key_id: derive_ticket_key(SECRET, key_id) for key_id in range(256)}  # every key id is known
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
MAX_ID = 2**32 - 1

ids = st.integers(1, MAX_ID)
key_ids = st.integers(0, 255)


def code_of(token: str, keys=KEYS) -> str:
    with pytest.raises(TokenError) as caught:
        parse_ticket(token, keys=keys)
    return caught.value.code


def test_a_token_looks_as_documented():
    token = sign_ticket(12, 3456, key_id=1, keys=KEYS)
    assert len(token) == TOKEN_LENGTH == 29
    assert token.startswith(PREFIX)
    assert set(token[1:]) <= set(BASE32)  # QR alphanumeric mode
    raw = base64.b32decode(token[1:] + "====")
    assert raw[:9] == bytes([1]) + (12).to_bytes(4, "big") + (3456).to_bytes(4, "big")


@given(ids, ids, key_ids)
@example(1, 1, 0)
@example(MAX_ID, MAX_ID, 255)
def test_round_trip(event_id, registration_id, key_id):
    keys = {key_id: derive_ticket_key(SECRET, key_id)}
    token = sign_ticket(event_id, registration_id, key_id=key_id, keys=keys)
    assert len(token) == TOKEN_LENGTH
    assert parse_ticket(token, keys=keys) == TicketClaims(key_id, event_id, registration_id)
    # what a scanner may hand over: lower case, surrounding spaces, or the ticket as a URL
    assert parse_ticket(f"  {token.lower()}\n", keys=keys).registration_id == registration_id
    assert parse_ticket(f"https://saihui.example.org/t/{token}", keys=keys).event_id == event_id


@given(ids, ids, st.data())
def test_every_single_character_change_is_rejected(event_id, registration_id, data):
    """With every key id known, an altered token is always forged (or malformed), never another valid ticket."""
    token = sign_ticket(event_id, registration_id, key_id=7, keys=ALL_KEYS)
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    replacement = data.draw(st.sampled_from(BASE32 + "0189=-!é 的T"), label="replacement")
    if replacement.upper() == token[position].upper():
        return
    altered = token[:position] + replacement + token[position + 1:]
    assert code_of(altered, ALL_KEYS) in {"forged", "malformed"}


@pytest.mark.parametrize("key_id", [1, 200])
def test_every_single_character_change_exhaustively(key_id):
    """All 28 x 31 alterations of one token's base32 part, and of its prefix."""
    token = sign_ticket(4242, 987654, key_id=key_id, keys=ALL_KEYS)
    codes = {}
    for position in range(1, len(token)):
        for replacement in BASE32:
            if replacement != token[position]:
                altered = token[:position] + replacement + token[position + 1:]
                codes[altered] = code_of(altered, ALL_KEYS)
    assert len(codes) == 28 * 31
    assert set(codes.values()) == {"forged"}
    for prefix in "SU0x":
        assert code_of(prefix + token[1:], ALL_KEYS) == "malformed"


def test_a_changed_key_id_is_unknown_when_the_server_lacks_that_key():
    token = sign_ticket(5, 6, key_id=1, keys=KEYS)
    altered = token[:1] + ("B" if token[1] != "B" else "C") + token[2:]  # the key id byte changes
    assert code_of(altered, KEYS) == "unknown_key"


def test_unknown_key_id():
    token = sign_ticket(5, 6, key_id=9, keys={9: derive_ticket_key(SECRET, 9)})
    assert code_of(token, KEYS) == "unknown_key"


def test_a_token_of_another_server_is_forged():
    other = {1: derive_ticket_key("another-server-secret", 1)}
    assert code_of(sign_ticket(5, 6, key_id=1, keys=other), KEYS) == "forged"


def test_the_unused_bits_of_the_last_character_are_checked():
    """17 bytes fill 136 of the 140 bits of 28 base32 characters; changing only the spare bits is an alteration."""
    token = sign_ticket(5, 6, key_id=1, keys=KEYS)
    last = BASE32.index(token[-1])
    for spare in range(1, 16):
        altered = token[:-1] + BASE32[last ^ spare]
        assert code_of(altered, KEYS) == "forged"


def test_zero_ids_are_never_valid_even_when_signed():
    """sign_ticket refuses 0; a token carrying 0 with a correct signature (made by hand) is still refused."""
    import hashlib
    import hmac
    import struct

    body = struct.pack(">BII", 1, 0, 6)
    mac = hmac.new(KEYS[1], b"saihui-ticket-v1|" + body, hashlib.sha256).digest()[:8]
    token = PREFIX + base64.b32encode(body + mac).decode().rstrip("=")
    assert code_of(token, KEYS) == "forged"


@pytest.mark.parametrize("garbage", [
    "", "   ", "T", "hello", "T" + "A" * 27, "T" + "A" * 29, "X" + "A" * 28, "T" + "1" * 28, "T" + "A" * 27 + "=",
    "https://example.org/tickets/", "https://example.org/T", "T" + "的" * 28, "\x00" * 29,
])
def test_garbage_is_malformed(garbage):
    assert code_of(garbage) == "malformed"


def test_none_is_malformed():
    assert code_of(None) == "malformed"


@given(st.text(max_size=60))
def test_random_text_never_passes_and_never_crashes(text):
    try:
        parse_ticket(text, keys=KEYS)
    except TokenError as error:
        assert error.code in {"malformed", "forged", "unknown_key"}
    else:  # pragma: no cover - would mean a forged ticket
        pytest.fail(f"{text!r} was accepted")


@pytest.mark.parametrize(("event_id", "registration_id", "key_id"), [
    (0, 1, 1), (1, 0, 1), (2**32, 1, 1), (1, 2**32, 1), (1, 1, 256), (1, 1, -1), (-1, 1, 1),
])
def test_out_of_range_fields_are_refused_when_signing(event_id, registration_id, key_id):
    with pytest.raises(ValueError):
        sign_ticket(event_id, registration_id, key_id=key_id, keys={key_id: b"k"})


# ---------------------------------------------------------------- the QR code


def qr_version(png: bytes, *, box_size: int = 10, border: int = 4) -> int:
    """A version v code has 17 + 4v modules a side; qr_png draws each as box_size pixels, with a border."""
    from PIL import Image

    side = Image.open(io.BytesIO(png)).size[0]
    modules = side // box_size - 2 * border
    assert (modules - 17) % 4 == 0, side
    return (modules - 17) // 4


@pytest.mark.parametrize(("event_id", "registration_id", "key_id"), [
    (1, 1, 0), (MAX_ID, MAX_ID, 255), (MAX_ID, 1, 1), (123456, 7654321, 3),
])
def test_qr_code_stays_small(app, event_id, registration_id, key_id):
    """SPEC: QR version 6 at most, so that a cheap phone camera reads it fast; the token fits version 2."""
    from registration.tickets import qr_png

    token = sign_ticket(event_id, registration_id, key_id=key_id, keys=ALL_KEYS)
    version = qr_version(qr_png(token))
    assert version <= 6
    assert version == 2


def test_qr_version_reader_is_right():
    """The helper above reads a longer text as a bigger code (so the size check can fail)."""
    from registration.tickets import qr_png

    assert qr_version(qr_png("T" * 29)) == 2
    assert qr_version(qr_png("https://saihui.example.org/r/" + "x" * 80)) > 6
