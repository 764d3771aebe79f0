"""The chief judge's desk (裁判长工作台): ``/judging/desk/…``.

For the competition's chief judge and the event's organizers (``desk_services.can_use_desk``); anyone else with a
role in the event gets 403, anyone without one 404. Entrants appear by their code only.

Pages: the competition's rounds and thresholds; a round's desk (progress matrix per panel, disagreement flags,
outlying judges, open re-score requests; ``static/js/desk.js`` refreshes the matrix from ``progress.json`` every few
seconds); one entrant (every judge's scores, unlock, paper sheet, the change trail). Every action asks for the
password again (``accounts.reauth``); a refused action shows its message with its 4xx status and changes nothing.
"""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import Optional

from accounts.permissions import can_see_event_admin
from accounts.reauth import ReauthError, confirm_password, keep_failure
from competition.models import Competition, Round
from core.http import json_error
from core.types import utcnow
from events.models import Event
from extensions import db
from judging import desk_services as ds
from judging.desk_models import RescoreRequest
from judging.models import Score
from judging.services import JudgingError
from judging.views import _no_store, run

bp = Blueprint("desk", __name__, url_prefix="/judging/desk")
POLL_SECONDS = 5


class ActionForm(FlaskForm):
    """Reason (or note) and the password asked again. Checks are the services'; the form carries CSRF."""

    reason = TextAreaField(_l("Reason"), validators=[Optional()])
    password = PasswordField(_l("Your password (asked again)"), validators=[Optional()])


class SettingsForm(FlaskForm):
    ladder_levels = StringField(_l("Ladder criteria: flag a spread of more than (levels)"))
    spread_percent = StringField(_l("Other criteria: flag a spread of more than (percent of the maximum)"))
    outlier_percent = StringField(_l("Flag a judge whose scores sit further than (percent of the maximum) from the others'"))
    outlier_min_entrants = StringField(_l("… over at least (entrants)"))


# ---------------------------------------------------------------- loading and access


def _event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not can_see_event_admin(current_user, event):
        abort(404)
    return event


def _allowed(competition: Competition) -> None:
    if not ds.can_use_desk(current_user, competition):
        abort(403)


def get_desk_competition(event_id: int, competition_id: int) -> Competition:
    event = _event(event_id)
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    _allowed(competition)
    return competition


def get_desk_round(event_id: int, round_id: int) -> Round:
    event = _event(event_id)
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        abort(404)
    competition = db.session.get(Competition, round_.competition_id)
    if competition.event_id != event.id:
        abort(404)
    _allowed(competition)
    return round_


# ---------------------------------------------------------------- pages


def _settings_form(competition: Competition, formdata=None) -> SettingsForm:
    t = ds.thresholds_for(competition)
    return SettingsForm(formdata=formdata, data={
        "ladder_levels": ds.js.plain(t.ladder_levels), "spread_percent": ds.js.plain(t.spread_share * 100),
        "outlier_percent": ds.js.plain(t.outlier_share * 100), "outlier_min_entrants": str(t.outlier_min_entrants)})


def _competition_page(competition: Competition, form: SettingsForm, status: int = 200):
    rounds = sorted(competition.rounds, key=lambda r: (r.position, r.id))
    return render_template("judging/desk_competition.html", event=competition.event, competition=competition,
                           rounds=rounds, form=form), status


@bp.route("/events/<int:event_id>/competitions/<int:competition_id>", methods=["GET", "POST"])
@login_required
def competition(event_id: int, competition_id: int):
    competition = get_desk_competition(event_id, competition_id)
    if request.method == "GET":
        return _competition_page(competition, _settings_form(competition))
    form = SettingsForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return _competition_page(competition, form, 400)
    try:
        run(lambda: ds.update_settings(db.session.get(Competition, competition.id),
                                       ladder_levels=form.ladder_levels.data, spread_percent=form.spread_percent.data,
                                       outlier_percent=form.outlier_percent.data,
                                       outlier_min_entrants=form.outlier_min_entrants.data, actor=current_user,
                                       now=utcnow()))
    except JudgingError as error:
        db.session.rollback()
        target = getattr(form, error.field or "", None)
        if target is not None:
            target.errors = list(target.errors) + [error.message]
        else:
            flash(error.message, "error")
        return _competition_page(competition, form, error.status)
    flash(_("The thresholds are saved."), "success")
    return redirect(url_for("desk.competition", event_id=event_id, competition_id=competition_id))


def _desk_page(round_: Round, status: int = 200, form: ActionForm | None = None):
    overview = ds.desk_overview(round_)
    competition = overview.competition
    return _no_store((render_template(
        "judging/desk.html", event=competition.event, competition=competition, round=round_, o=overview,
        signature=ds.signature(ds.progress_json(overview, now=utcnow())), plain=ds.js.plain,
        one_place=Decimal("0.1"),
        form=form or ActionForm(formdata=None), poll_seconds=POLL_SECONDS,
        progress_url=url_for("desk.progress", event_id=competition.event_id, round_id=round_.id)), status))


@bp.route("/events/<int:event_id>/rounds/<int:round_id>")
@login_required
def round_desk(event_id: int, round_id: int):
    return _desk_page(get_desk_round(event_id, round_id))


@bp.route("/events/<int:event_id>/rounds/<int:round_id>/progress.json")
def progress(event_id: int, round_id: int):
    if not current_user.is_authenticated:
        return json_error(401, "login_required", _("Please log in."))
    event = db.session.get(Event, event_id)
    round_ = db.session.get(Round, round_id)
    competition = db.session.get(Competition, round_.competition_id) if round_ else None
    if event is None or competition is None or competition.event_id != event.id \
            or not can_see_event_admin(current_user, event):
        return json_error(404, "not_found", _("The page or item was not found."))
    if not ds.can_use_desk(current_user, competition):
        return json_error(403, "forbidden", _("You do not have permission to do this."))
    response = jsonify(ds.progress_json(ds.desk_overview(round_), now=utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _entrant_page(round_: Round, entrant_id: int, status: int = 200, form: ActionForm | None = None,
                  problems: dict | None = None, typed: dict | None = None):
    try:
        sheet = ds.entrant_sheet(round_, entrant_id)
    except JudgingError as error:
        abort(error.status)
    competition = db.session.get(Competition, round_.competition_id)
    return _no_store((render_template(
        "judging/desk_entrant.html", event=competition.event, competition=competition, round=round_, sheet=sheet,
        form=form or ActionForm(formdata=None), problems=problems or {}, typed=typed or {},
        value_text=lambda score, criterion: ds.js.value_text(score.value, criterion, competition),
        plain=ds.js.plain), status))


@bp.route("/events/<int:event_id>/rounds/<int:round_id>/entrants/<int:entrant_id>")
@login_required
def entrant(event_id: int, round_id: int, entrant_id: int):
    return _entrant_page(get_desk_round(event_id, round_id), entrant_id)


# ---------------------------------------------------------------- actions (password asked again)


def _act(action, *, page, success: str, target: str):
    """Check the form, the password and run ``action`` as one unit of work. Refused: the page again with the
    message and the error's status; a wrong password is kept for throttling, nothing else."""
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return page(400, form)

    def work():
        confirm_password(current_user, form.password.data, now=utcnow(), remote_addr=request.remote_addr)
        return action(form)

    try:
        run(work)
    except ReauthError as error:
        keep_failure(error)
        form.password.errors = list(form.password.errors) + [error.message]
        flash(error.message, "error")
        return page(error.status, form)
    except (JudgingError, IntegrityError) as error:
        db.session.rollback()
        message = getattr(error, "message", None) or _("This changed meanwhile; please try again.")
        if getattr(error, "field", None) == "reason" or getattr(error, "field", None) == "note":
            form.reason.errors = list(form.reason.errors) + [message]
        flash(message, "error")
        return page(getattr(error, "status", 409), form, getattr(error, "details", {}).get("problems"))
    flash(success, "success")
    return redirect(target)


@bp.route("/events/<int:event_id>/rounds/<int:round_id>/scores/<int:score_id>/unlock", methods=["POST"])
@login_required
def unlock(event_id: int, round_id: int, score_id: int):
    round_ = get_desk_round(event_id, round_id)
    score = db.session.get(Score, score_id)
    if score is None or score.round_id != round_.id:
        abort(404)
    entrant_id = score.entrant_id
    return _act(lambda form: ds.unlock_score(db.session.get(Score, score_id), actor=current_user,
                                            reason=form.reason.data, now=utcnow()),
                page=lambda status, form, _p=None: _entrant_page(round_, entrant_id, status, form),
                success=_("The score is unlocked: the judge sees the reason on their tablet and corrects it."),
                target=url_for("desk.entrant", event_id=event_id, round_id=round_id, entrant_id=entrant_id))


@bp.route("/events/<int:event_id>/rounds/<int:round_id>/entrants/<int:entrant_id>/judges/<int:judge_id>/paper",
          methods=["POST"])
@login_required
def paper_sheet(event_id: int, round_id: int, entrant_id: int, judge_id: int):
    round_ = get_desk_round(event_id, round_id)
    typed = {int(k[6:]): v.strip()[:20] for k, v in request.form.items() if k.startswith("value-") and k[6:].isdigit()}

    def page(status, form, problems=None):
        return _entrant_page(round_, entrant_id, status, form,
                             problems={(judge_id, int(k)): v for k, v in (problems or {}).items()},
                             typed={(judge_id, k): v for k, v in typed.items()})

    return _act(lambda form: ds.enter_paper_sheet(db.session.get(Round, round_id), judge_id, entrant_id, typed,
                                                  actor=current_user, now=utcnow()),
                page=page, success=_("The paper score sheet is entered and submitted for the judge."),
                target=url_for("desk.entrant", event_id=event_id, round_id=round_id, entrant_id=entrant_id))


@bp.route("/events/<int:event_id>/rounds/<int:round_id>/entrants/<int:entrant_id>/criteria/<int:criterion_id>/rescore",
          methods=["POST"])
@login_required
def rescore(event_id: int, round_id: int, entrant_id: int, criterion_id: int):
    round_ = get_desk_round(event_id, round_id)
    return _act(lambda form: ds.ask_rescore(db.session.get(Round, round_id), entrant_id, criterion_id,
                                            reason=form.reason.data, actor=current_user, now=utcnow()),
                page=lambda status, form, _p=None: _desk_page(round_, status, form),
                success=_("The panel is asked to re-score: their tablets show the request."),
                target=url_for("desk.round_desk", event_id=event_id, round_id=round_id))


@bp.route("/events/<int:event_id>/rounds/<int:round_id>/entrants/<int:entrant_id>/criteria/<int:criterion_id>/keep",
          methods=["POST"])
@login_required
def keep(event_id: int, round_id: int, entrant_id: int, criterion_id: int):
    round_ = get_desk_round(event_id, round_id)
    return _act(lambda form: ds.keep_flag(db.session.get(Round, round_id), entrant_id, criterion_id,
                                          note=form.reason.data, actor=current_user, now=utcnow()),
                page=lambda status, form, _p=None: _desk_page(round_, status, form),
                success=_("The scores stay as they are; your note is recorded."),
                target=url_for("desk.round_desk", event_id=event_id, round_id=round_id))


@bp.route("/events/<int:event_id>/rounds/<int:round_id>/rescores/<int:request_id>/close", methods=["POST"])
@login_required
def close_rescore(event_id: int, round_id: int, request_id: int):
    round_ = get_desk_round(event_id, round_id)
    found = db.session.get(RescoreRequest, request_id)
    if found is None or found.round_id != round_.id:
        abort(404)
    return _act(lambda form: ds.close_rescore(db.session.get(RescoreRequest, request_id), note=form.reason.data,
                                              actor=current_user, now=utcnow()),
                page=lambda status, form, _p=None: _desk_page(round_, status, form),
                success=_("The re-score request is closed; your note is recorded."),
                target=url_for("desk.round_desk", event_id=event_id, round_id=round_id))


@bp.app_template_global("desk_links")
def desk_links(user) -> list[Competition]:
    """Competitions whose desk ``user`` opens as chief judge (links on the judge's start page)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return ds.desk_competitions(user)
