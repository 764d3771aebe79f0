"""JSON API v1. Authentication: the session cookie (then the CSRF header is required on writes) or a personal
API token in ``Authorization: Bearer …``. Errors are ``{"error": {"code", "message"}}`` (see core.http)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user, login_required

from accounts.permissions import can_see_event_admin, organization_ids_visible_to
from events import services as event_services
from events.models import Event
from extensions import csrf, db

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def protect_cookie_writes():
    """A browser calling with its session cookie must send the CSRF token; a Bearer token needs none."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return None
    csrf.protect()  # raises CSRFError, answered as JSON by core.http
    return None


def iso(value):
    return value.isoformat() if value else None


def event_json(event: Event) -> dict:
    return {
        "id": event.id,
        "title": event.title,
        "kind": event.kind.value,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "status": event.status.value,
        "timezone": event.timezone,
        "venue": event.venue,
        "organization": {"id": event.organization_id, "name": event.organization.name},
    }


@bp.get("/events")
@login_required
def list_events():
    events = event_services.list_events_for_organizations(organization_ids_visible_to(current_user))
    return jsonify({"events": [event_json(e) for e in events if can_see_event_admin(current_user, e)]})


@bp.get("/events/<int:event_id>")
@login_required
def get_event(event_id: int):
    event = db.session.get(Event, event_id)
    if event is None or not can_see_event_admin(current_user, event):
        abort(404)
    data = event_json(event)
    data["capacity"] = event.capacity
    data["sessions"] = [
        {"id": s.id, "title": s.title, "starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at), "room": s.room,
         "capacity": s.capacity}
        for s in event.sessions
    ]
    return jsonify({"event": data})


# Check-in routes register on this blueprint.
from api import checkins, walkins  # noqa: E402,F401
from api import scores  # noqa: E402,F401  (judges' tablets: PUT /scores, sheets, submit)
from api import leaderboard  # noqa: E402,F401  (live leaderboards: public and organizers)
