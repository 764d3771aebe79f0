"""The live leaderboard over the JSON API (SPEC "JSON API (version 1)"), for big screens and other systems:

- ``GET /api/v1/competitions/<id>/leaderboard?group=<group id>`` → ``{"competition": {"id", "title"},
  "group": {"id", "name", "key"}, "published", "final", "frozen", "frozen_at", "version",
  "entries": [{"rank", "code", "name", "unit", "total", "award"}], "incomplete": [{"code", "name", "unit"}]}``.
  Organizers and admins of the event get the live board with names and units. Everyone else gets what the public
  may see (``competition.results.public_view``): nothing before publishing (or ranks, codes and totals without
  ``name`` and ``unit``, as the organizer chose), names and units after publishing, the board as it was at freeze
  time while frozen. ``total`` is a decimal string with the competition's precision. Without ``group``: the first
  group's board; ``group=overall`` the overall list (when the organizer keeps one).
- ``GET /api/v1/competitions/<id>/leaderboard/version`` → ``{"version": "…"}``: changes whenever what the public
  sees may have changed; screens poll it (one small query) and fetch the board again when it moves.

A competition of an event that is not public is unknown (404) to anyone without a role in its organization.
"""
from __future__ import annotations

import json

from flask import Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from accounts.permissions import can_manage_event, can_see_event_admin
from api.views import bp
from competition import results
from competition.models import Competition
from core.http import json_error
from extensions import db


def _competition(competition_id: int) -> tuple[Competition | None, bool]:
    """The competition and whether the caller manages its event; None when the caller may not know it."""
    competition = db.session.get(Competition, competition_id)
    if competition is None:
        return None, False
    event = competition.event
    organizer = bool(current_user.is_authenticated and can_manage_event(current_user, event))
    if not event.is_public and not (current_user.is_authenticated and can_see_event_admin(current_user, event)):
        return None, False
    return competition, organizer


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/competitions/<int:competition_id>/leaderboard")
def leaderboard(competition_id: int):
    competition, organizer = _competition(competition_id)
    if competition is None:
        return json_error(404, "not_found", _("The page or item was not found."))
    try:
        key = results.board_key_for_group(request.args.get("group"))
    except results.ResultsError as error:
        return json_error(error.status, error.code, error.message)
    data = results.leaderboard_json(competition, key, organizer=organizer, record=True)
    if data is None:
        return json_error(404, "unknown_group", _("This competition has no such group."))
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))  # thousands of entries: no key sorting
    return _no_store(Response(body, mimetype="application/json"))


@bp.get("/competitions/<int:competition_id>/leaderboard/version")
def leaderboard_version(competition_id: int):
    competition, _organizer = _competition(competition_id)
    if competition is None:
        return json_error(404, "not_found", _("The page or item was not found."))
    return _no_store(jsonify({"version": results.public_token(results.get_state(competition.id))}))
