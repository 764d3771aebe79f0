"""Parsing and checking what people type about themselves: phone numbers, ID numbers, e-mail.

Pure functions. Each ``parse_*`` returns the normalized value or raises ``ValueError`` with a short code
(``invalid_phone``, ``id_checksum`` …) that the form turns into a message in the user's language.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

from core.masking import mask_id_number, mask_phone  # noqa: F401  (re-exported)

_SPACES = re.compile(r"[\s\-()（）]+")


def _compact(raw: str) -> str:
    """NFKC (full-width digits and letters, typed with a Chinese input method, become ASCII), no spaces or dashes."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", (raw or "").strip()))


# Mainland mobile: 1[3-9]x xxxx xxxx. Hong Kong +852 (8 digits), Macau +853 (8), Taiwan +886 (9, mobile 9xxxxxxxx).
_MAINLAND = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_REGIONS = {
    "852": re.compile(r"^[2-9]\d{7}$", re.ASCII),
    "853": re.compile(r"^[2-8]\d{7}$", re.ASCII),
    "886": re.compile(r"^9\d{8}$", re.ASCII),
}


def parse_phone(raw: str) -> str:
    """Normalize a phone number: mainland mobiles as 11 digits; others as +<country><number>.

    >>> parse_phone("138 0013 8000")
    '13800138000'
    >>> parse_phone("+86 138-0013-8000")
    '13800138000'
    >>> parse_phone("+852 9123 4567")
    '+85291234567'
    >>> parse_phone("+886 0912 345 678")
    '+886912345678'
    """
    text = _compact(raw)
    if not text:
        raise ValueError("phone_required")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+86"):
        text = text[3:]
    if not text.startswith("+"):
        if _MAINLAND.match(text):
            return text
        raise ValueError("invalid_phone")
    digits = text[1:]
    if not (digits.isascii() and digits.isdigit()) or not 7 <= len(digits) <= 15:
        raise ValueError("invalid_phone")
    for code, pattern in _REGIONS.items():
        if digits.startswith(code):
            local = digits[len(code):]
            if code == "886" and local.startswith("0"):
                local = local[1:]  # people write +886 0912…
            if not pattern.match(local):
                raise ValueError("invalid_phone")
            return "+" + code + local
    return "+" + digits  # other international numbers: E.164 length checked above


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def parse_resident_id(raw: str) -> str:
    """An 18-character mainland resident ID number (身份证号): digits, a valid birth date, the check digit.

    >>> parse_resident_id("11010519491231002x")
    '11010519491231002X'
    """
    text = _compact(raw).upper()
    if not text:
        raise ValueError("id_required")
    if not re.fullmatch(r"\d{17}[\dX]", text, re.ASCII):
        raise ValueError("id_format")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValueError("id_birth_date") from None
    if born.year < 1900:
        raise ValueError("id_birth_date")
    if id_check_digit(text[:17]) != text[17]:
        raise ValueError("id_checksum")
    return text


def parse_passport(raw: str) -> str:
    text = _compact(raw).upper()
    if not re.fullmatch(r"[A-Z0-9]{5,20}", text):
        raise ValueError("passport_format")
    return text


def parse_taiwan_permit(raw: str) -> str:
    """台湾居民来往大陆通行证 (Mainland Travel Permit for Taiwan residents): 8 digits (older: 10 with letters)."""
    text = _compact(raw).upper()
    if not re.fullmatch(r"\d{8}|[A-Z0-9]{10}", text, re.ASCII):
        raise ValueError("permit_format")
    return text


ID_KINDS = {
    "resident_id": parse_resident_id,
    "passport": parse_passport,
    "taiwan_permit": parse_taiwan_permit,
}


def parse_id_document(kind: str, raw: str) -> str:
    try:
        parser = ID_KINDS[kind]
    except KeyError:
        raise ValueError("id_kind") from None
    return parser(raw)


_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def parse_email(raw: str) -> str:
    text = (raw or "").strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValueError("invalid_email")
    local, _, domain = text.partition("@")
    return local + "@" + domain.lower()
