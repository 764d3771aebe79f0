"""Public results pages: the results list of a competition (``/results/<id>``) and the big screen for a projector
(``/screen/<id>``), with the JSON they refresh from. Everything here reads ``competition.results.public_view`` only,
whoever is logged in (an organizer's laptop runs the projector too): nothing before publishing (or codes only, as
the organizer chose), names and units after, and while the board is frozen the board as it was at freeze time.

A competition of an event that is not public answers 404, like the event's own public page.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _

from competition import results
from competition.models import Competition
from competition.result_views import board_name
from core.templating import format_local
from extensions import db

bp = Blueprint("results_public", __name__)

SCREEN_POLL_MS = 2000  # the big screen asks for the version this often: a change shows within 5 s
PAGE_POLL_MS = 5000


def _public_competition(competition_id: int) -> Competition:
    competition = db.session.get(Competition, competition_id)
    if competition is None or not competition.event.is_public:
        abort(404)
    return competition


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def _labelled(view: results.PublicView) -> list[dict]:
    return [{**board, "name": board_name(board["key"], board["group_name"])} for board in view.boards]


def _status(view: results.PublicView, competition: Competition) -> dict:
    frozen = format_local(view.frozen_at, competition.event.timezone, "time") if view.frozen_at else ""
    return {
        "published": view.published, "final": view.final, "frozen": view.frozen_at is not None,
        "frozen_text": _("Board frozen at %(time)s: it shows the standings of that moment.", time=frozen)
        if view.frozen_at else "",
        "state_text": (_("Final results") if view.final else _("Provisional results (公示)")) if view.published
        else (_("Live standings by code; names are shown once the results are published.")
              if view.mode == "codes" else _("The results have not been published yet.")),
    }


@bp.route("/results/<int:competition_id>")
def page(competition_id: int):
    competition = _public_competition(competition_id)
    view = results.public_view(competition, record=True)
    key = request.args.get("board") or None
    board = view.board(key) if view.visible else None
    if view.visible and key is not None and board is None:
        abort(404)
    boards = [(b["key"], board_name(b["key"], b["group_name"])) for b in view.boards] if view.visible else []
    from judging import process  # the lock chain: provisional results (公示) count down to the appeal deadline

    deadline = process.appeal_deadline(competition)
    return render_template(
        "results/public.html", competition=competition, event=competition.event, view=view, board=board,
        appeal_deadline=deadline, appeal_deadline_text=format_local(deadline, competition.event.timezone)
        if deadline else "",
        boards=boards, status=_status(view, competition), tiers=results.award_tiers(competition),
        board_label=board_name(board["key"], board["group_name"]) if board else "",
        fragment_url=url_for("results_public.fragment", competition_id=competition.id,
                             **({"board": board["key"]} if board else {})),
        version_url=url_for("api.leaderboard_version", competition_id=competition.id), poll_ms=PAGE_POLL_MS)


@bp.route("/results/<int:competition_id>/fragment")
def fragment(competition_id: int):
    competition = _public_competition(competition_id)
    view = results.public_view(competition, record=True)
    board = view.board(request.args.get("board") or None) if view.visible else None
    return _no_store(render_template("results/_public_board.html", competition=competition, view=view, board=board,
                                     status=_status(view, competition), tiers=results.award_tiers(competition)))


@bp.route("/results/<int:competition_id>/board.json")
def board_json(competition_id: int):
    """Every public board at once, for the big screen: {"version", "state", "boards": [{"key", "name", "entries",
    "incomplete"}]} (``name`` and ``unit`` only after publishing)."""
    competition = _public_competition(competition_id)
    view = results.public_view(competition, record=True)
    return _no_store(jsonify({
        "competition": {"id": competition.id, "title": competition.title, "event": competition.event.title},
        "version": view.token, "mode": view.mode, "status": _status(view, competition),
        "tiers": results.award_tiers(competition),
        "boards": _labelled(view) if view.visible else [],
    }))


@bp.route("/screen/<int:competition_id>")
def screen(competition_id: int):
    competition = _public_competition(competition_id)
    view = results.public_view(competition, record=True)
    boards = _labelled(view) if view.visible else []
    return render_template(
        "results/screen.html", competition=competition, event=competition.event, view=view, boards=boards,
        status=_status(view, competition), pinned=request.args.get("board") or "",
        tiers=results.award_tiers(competition),
        board_url=url_for("results_public.board_json", competition_id=competition.id),
        version_url=url_for("api.leaderboard_version", competition_id=competition.id), poll_ms=SCREEN_POLL_MS)
