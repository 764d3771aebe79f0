"""The built-in text of each kind of message, and the placeholders a template may use.

The default texts live here and go through gettext, so that each participant reads them in their own language
(call them inside ``flask_babel.force_locale``). An event's edited template (``MessageTemplate``) overrides them.
Placeholders are written in braces and are never translated: a translation must keep ``{name}`` as it is.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from notifications.models import MessageKind

# Placeholder -> what it stands for (shown next to the template editor).
PLACEHOLDERS = {
    "name": _l("the participant's name (a team: the leader's name)"),
    "team": _l("the team's name (empty for an individual sign-up)"),
    "event": _l("the event's title"),
    "starts_at": _l("when the event starts, in the event's time zone"),
    "place": _l("the venue"),
    "organization": _l("the organizing association"),
    "status": _l("the sign-up's status"),
    "link": _l("the page where the participant finds their sign-up and ticket"),
    "reason": _l("the reason for the rejection"),
}
COMMON_PLACEHOLDERS = frozenset(PLACEHOLDERS) - {"reason"}


def placeholders_for(kind: MessageKind) -> frozenset[str]:
    """The placeholders a template of ``kind`` may use ({reason} only where there is one)."""
    if kind == MessageKind.REJECTED:
        return COMMON_PLACEHOLDERS | {"reason"}
    return COMMON_PLACEHOLDERS


def kind_names() -> dict[MessageKind, str]:
    return {
        MessageKind.SIGNUP_RECEIVED: _("Sign-up received"),
        MessageKind.APPROVED: _("Approved"),
        MessageKind.REJECTED: _("Rejected"),
        MessageKind.PROMOTED: _("Moved up from the waiting list"),
        MessageKind.REMINDER: _("Reminder"),
        MessageKind.CERTIFICATE_READY: _("Certificate ready"),
        MessageKind.BULK: _("Message to many"),
    }


def state_names() -> dict[str, str]:
    return {
        "queued": _("Queued"),
        "sending": _("Sending"),
        "sent": _("Sent"),
        "failed": _("Failed"),
        "kept": _("Kept (no mail server)"),
        "no_address": _("No e-mail address"),
    }


def status_text(status: str, position: int | None = None) -> str:
    """The {status} placeholder: a sign-up's state in the words a participant understands."""
    if status == "waitlisted":
        if position:
            return _("on the waiting list (number %(n)d)", n=position)
        return _("on the waiting list")
    return {
        "pending": _("received, waiting for the organizer's approval"),
        "approved": _("confirmed"),
        "rejected": _("not accepted"),
        "cancelled": _("cancelled"),
    }.get(status, status)


def default_text(kind: MessageKind) -> tuple[str, str]:
    """(subject, body) of the built-in template of ``kind``, in the current locale."""
    if kind == MessageKind.SIGNUP_RECEIVED:
        return (
            _("Sign-up received: {event}"),
            _("Dear {name},\n\nwe have received your sign-up for {event}.\n\nStatus: {status}\nTime: {starts_at}\n"
              "Venue: {place}\n\nTo see or change your sign-up and get your ticket, open {link}\n\n{organization}"),
        )
    if kind == MessageKind.APPROVED:
        return (
            _("Your sign-up is confirmed: {event}"),
            _("Dear {name},\n\nyour sign-up for {event} has been approved. We look forward to seeing you.\n\n"
              "Time: {starts_at}\nVenue: {place}\n\nYour sign-up and ticket: {link}\n\n{organization}"),
        )
    if kind == MessageKind.REJECTED:
        return (
            _("Your sign-up was not accepted: {event}"),
            _("Dear {name},\n\nwe are sorry: your sign-up for {event} was not accepted.\n\nReason: {reason}\n\n"
              "{organization}"),
        )
    if kind == MessageKind.PROMOTED:
        return (
            _("A place has become free for you: {event}"),
            _("Dear {name},\n\na place has become free and your sign-up for {event} has moved up from the waiting "
              "list.\n\nStatus: {status}\nTime: {starts_at}\nVenue: {place}\n\nYour sign-up and ticket: {link}\n\n"
              "{organization}"),
        )
    if kind == MessageKind.REMINDER:
        return (
            _("Reminder: {event} starts at {starts_at}"),
            _("Dear {name},\n\na reminder: {event} starts at {starts_at}.\n\nVenue: {place}\n\nPlease bring your QR "
              "ticket for check-in: {link}\n\n{organization}"),
        )
    if kind == MessageKind.CERTIFICATE_READY:
        return (
            _("Your certificate is ready: {event}"),
            _("Dear {name},\n\nyour certificate for {event} is ready. Download it here: {link}\n\n{organization}"),
        )
    raise ValueError(f"no built-in template for {kind}")
