"""Personal data shown masked everywhere except to the event's organizers who open the record (SPEC)."""
from __future__ import annotations


def mask_phone(value: str | None) -> str:
    """138****5678; +852 9***4567."""
    if not value:
        return ""
    if len(value) <= 7:
        return value[:1] + "*" * max(len(value) - 2, 0) + value[-1:] if len(value) > 2 else "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_id_number(value: str | None) -> str:
    """3502**********1234: the first four and last four characters."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
