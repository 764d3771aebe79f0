"""Organizer pages of a competition's results (issue 8): the live board (codes, names, units, criteria, modules,
each judge's total, ranks, awards; refreshing itself), the results state (publish, freeze, final), ranking
settings, tie decisions (lots, the chief judge's decision), award overrides, completion times, the Excel export,
the printable 成绩公示 and the ranking history.

Organizers and admins of the event only (check-in staff and judges: 403; no role in the organization: 404); the
ranking history also opens for the competition's chief judges. Views are thin: one service call per change, in one
unit of work, committed here.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, send_file, \
    url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from io import BytesIO
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from accounts.permissions import can_manage_event
from competition import results
from competition.models import Competition, Entrant, Round
from competition.result_models import BeforePublish, ChainEnd
from competition.views import get_competition
from core.database import run_write
from core.types import utcnow
from events.forms import ConfirmForm
from events.views import get_event_for_staff
from extensions import db
from registration.spreadsheets import XLSX_MIME

bp = Blueprint("results", __name__, url_prefix="/manage/events/<int:event_id>/competitions/<int:competition_id>/results")

TIEBREAK_FIELDS = 5
JUDGE_COLUMNS_UP_TO = 300  # boards with more entrants show each judge's totals only when asked


# ---------------------------------------------------------------- forms


def _max(n: int):
    return Length(max=n, message=_l("At most %(max)d characters."))


def chain_end_choices():
    return [(ChainEnd.SHARED.value, _l("Tied entrants share the rank (并列)")),
            (ChainEnd.LOTS.value, _l("Drawing lots (recorded)")),
            (ChainEnd.CHIEF.value, _l("The chief judge's decision (recorded with the reason)"))]


def before_publish_choices():
    return [(BeforePublish.NOTHING.value, _l("Nothing")),
            (BeforePublish.CODES.value, _l("Ranks, codes and totals, without names or units"))]


class SettingsForm(FlaskForm):
    tiebreak_1 = SelectField(_l("1st tie-break"), choices=[], validate_choice=False)
    tiebreak_2 = SelectField(_l("2nd tie-break"), choices=[], validate_choice=False)
    tiebreak_3 = SelectField(_l("3rd tie-break"), choices=[], validate_choice=False)
    tiebreak_4 = SelectField(_l("4th tie-break"), choices=[], validate_choice=False)
    tiebreak_5 = SelectField(_l("5th tie-break"), choices=[], validate_choice=False)
    chain_end = SelectField(_l("When the tie-breaks still leave a tie"), choices=chain_end_choices)
    lift_ties = BooleanField(_l("A tie across an award boundary gives every tied entrant the higher award"))
    rest_tier = StringField(_l("Award for every other ranked entrant"), validators=[Optional(), _max(30)],
                            description=_l("E.g. 优秀奖; leave empty for none."))
    points = StringField(_l("Medal-table points per award"), validators=[Optional(), _max(60)],
                         description=_l("From the best award down, e.g. 4/3/2/1 (the last number for the award "
                                        "above, if any)."))
    overall = BooleanField(_l("Also rank everyone together (an overall list beside the groups)"))
    before_publish = SelectField(_l("What the public sees before the results are published"),
                                 choices=before_publish_choices)

    def tiebreak_fields(self):
        return [getattr(self, f"tiebreak_{i}") for i in range(1, TIEBREAK_FIELDS + 1)]


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), _max(1000)])


class OverrideForm(FlaskForm):
    tier = SelectField(_l("Award"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Give the reason.")), _max(1000)])


# ---------------------------------------------------------------- helpers


def _competition(event_id: int, competition_id: int) -> Competition:
    return get_competition(event_id, competition_id)  # 404 without a role, 403 for staff and judges


def _run(action):
    def work():
        outcome = action()
        db.session.commit()
        return outcome

    try:
        return run_write(db.session, work)
    except IntegrityError:  # a concurrent request won (e.g. the same tie decided twice): run again on fresh data
        db.session.rollback()
        return run_write(db.session, work)


def _perform(action, success: str | None = None) -> bool:
    try:
        _run(action)
    except results.ResultsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    if success:
        flash(success, "success")
    return True


def _board_url(competition: Competition, board: str | None = None, **extra) -> str:
    return url_for("results.board", event_id=competition.event_id, competition_id=competition.id,
                   **({"board": board} if board else {}), **extra)


def board_name(board_key: str, group_name: str | None) -> str:
    if group_name:
        return group_name
    return {"all": _("All entrants"), "ungrouped": _("Without a group"), "overall": _("Overall")}.get(board_key,
                                                                                                   board_key)


def problem_text(code: str, params: dict) -> str:
    if code == "round_weights":
        return _("The weights of the rounds that count (%(rounds)s) must add up to 100%%: no totals until they do.",
                 rounds=params.get("rounds", ""))
    if code == "module_weights":
        return _("Round %(round)s: give every module a weight adding up to 100%%, or none.",
                 round=params.get("round", ""))
    if code == "no_criteria":
        return _("Round %(round)s has no rubric yet.", round=params.get("round", ""))
    if code == "no_rounds":
        return _("The competition has no rounds yet.")
    if code == "award_scheme":
        return _("The award settings of the competition cannot be used (%(code)s): fix them under Settings.",
                 code=params.get("code", ""))
    return code


def _columns(computed: results.Standings):
    """(criteria columns, module columns): [(key, label)] over the counted rounds."""
    several = len(computed.inputs.counted) > 1
    criteria, modules = [], []
    for round_ in computed.inputs.counted:
        prefix = f"{round_.name} " if several else ""
        for criterion in round_.criteria:
            criteria.append((criterion.id, prefix + criterion.code, criterion.name))
        for code in dict.fromkeys(c.module for c in round_.criteria):
            modules.append(((round_.id, code), prefix + code))
    return criteria, modules


def _judge_names(ids) -> dict[int, str]:
    from accounts.models import User

    if not ids:
        return {}
    return {u.id: u.name for u in db.session.scalars(db.select(User).where(User.id.in_(list(ids))))}


def _board_context(competition: Competition, computed: results.Standings, board_key: str | None):
    board = computed.board(board_key)
    if board is None:
        abort(404)
    show_judges = len(board.lines) <= JUDGE_COLUMNS_UP_TO or request.args.get("judges") == "1"
    judge_ids, judge_totals = results.judge_totals(computed, [line.entrant.id for line in board.lines]) \
        if show_judges else ([], {})
    names = _judge_names(judge_ids)
    criteria, modules = _columns(computed)
    missing_names = _judge_names({j for line in board.unranked for _c, j in line.result.missing if j is not None})
    return dict(
        event=competition.event, competition=competition, computed=computed, board=board,
        board_name=board_name(board.key, board.group.name if board.group else None),
        criteria_columns=criteria, module_columns=modules, judge_columns=[(j, names.get(j, str(j))) for j in judge_ids],
        judge_totals=judge_totals, show_judges=show_judges, missing_names=missing_names,
        criterion_codes={c.id: c.code for c in computed.inputs.criteria.values()},
        places=computed.inputs.places, state=results.get_state(competition.id),
        completion_time=lambda entrant_id: results.completion_time(computed.inputs, entrant_id),
        format_time=results.format_time, uses_time="time" in computed.inputs.rank.settings.tiebreaks,
        decisions={d.id: d for d in computed.inputs.rank.decisions},
        entrant_names={e.id: e for e in computed.inputs.entrants.values()},
        confirm_form=ConfirmForm(), reason_form=ReasonForm(),
        tiebreak_label=results.tiebreak_label, problem_text=problem_text,
    )


# ---------------------------------------------------------------- the board


@bp.route("")
@login_required
def board(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    computed = results.read_standings(competition)
    key = request.args.get("board") or None
    context = _board_context(competition, computed, key)
    boards = [(b.key, board_name(b.key, b.group.name if b.group else None), len(b.ranked), len(b.lines))
              for b in computed.boards]
    rounds = list(db.session.scalars(db.select(Round).where(Round.competition_id == competition.id)
                                     .order_by(Round.position, Round.id)))
    from registration.ticket_pdf import DEFAULT_FONT_PATH

    missing_glyphs = results.pdf_missing_glyphs(computed, current_app.config.get("TICKET_PDF_FONT")
                                                or DEFAULT_FONT_PATH)
    return render_template("results/manage.html", boards=boards, rounds=rounds, missing_glyphs=missing_glyphs,
                           fragment_url=url_for("results.board_fragment", event_id=event_id,
                                                competition_id=competition_id, board=context["board"].key,
                                                **({"judges": "1"} if request.args.get("judges") == "1" else {})),
                           version_url=url_for("results.version", event_id=event_id, competition_id=competition_id),
                           **context)


@bp.route("/fragment")
@login_required
def board_fragment(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    computed = results.read_standings(competition)
    context = _board_context(competition, computed, request.args.get("board") or None)
    response = current_app.make_response(render_template("results/_board.html", **context))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/version.json")
@login_required
def version(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    state = results.get_state(competition.id)
    response = jsonify({"version": str(state.version if state else 0)})
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- state


def _state_action(event_id: int, competition_id: int, service, success: str):
    competition = _competition(event_id, competition_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        _perform(lambda: service(competition, actor=current_user, now=utcnow()), success)
    return redirect(_board_url(competition, request.form.get("board") or None))


@bp.route("/publish", methods=["POST"])
@login_required
def publish(event_id: int, competition_id: int):
    return _state_action(event_id, competition_id, results.publish,
                         _("The results are published: the public board shows names, units and awards."))


@bp.route("/unpublish", methods=["POST"])
@login_required
def unpublish(event_id: int, competition_id: int):
    return _state_action(event_id, competition_id, results.unpublish, _("The results are no longer published."))


@bp.route("/freeze", methods=["POST"])
@login_required
def freeze(event_id: int, competition_id: int):
    return _state_action(event_id, competition_id, results.freeze,
                         _("The board is frozen: the public sees it as it is now while scoring goes on."))


@bp.route("/unfreeze", methods=["POST"])
@login_required
def unfreeze(event_id: int, competition_id: int):
    return _state_action(event_id, competition_id, results.unfreeze,
                         _("The board is unfrozen: the public sees the live board again."))


@bp.route("/final", methods=["POST"])
@login_required
def mark_final(event_id: int, competition_id: int):
    return _state_action(event_id, competition_id, results.mark_final, _("The results are marked final."))


@bp.route("/provisional", methods=["POST"])
@login_required
def mark_provisional(event_id: int, competition_id: int):
    return _state_action(event_id, competition_id, results.mark_provisional,
                         _("The results are provisional again."))


# ---------------------------------------------------------------- settings


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    state = results.get_state(competition.id)
    form = SettingsForm()
    choices = [("", _("—"))] + results.tiebreak_choices(competition)
    for field in form.tiebreak_fields():
        field.choices = choices
    status = 200
    if request.method == "GET":
        chain = list(state.tiebreaks or []) if state else []
        for i, field in enumerate(form.tiebreak_fields()):
            field.data = chain[i] if i < len(chain) else ""
        form.chain_end.data = (state.chain_end if state else ChainEnd.SHARED).value
        form.lift_ties.data = state.lift_ties if state else True
        form.rest_tier.data = state.rest_tier if state else ""
        form.points.data = "/".join(state.points or []) if state else "4/3/2/1"
        form.overall.data = state.overall if state else False
        form.before_publish.data = (state.before_publish if state else BeforePublish.NOTHING).value
    elif form.validate_on_submit():
        try:
            data = results.SettingsData(
                tiebreaks=[f.data for f in form.tiebreak_fields()], chain_end=ChainEnd(form.chain_end.data),
                overall=form.overall.data, lift_ties=form.lift_ties.data, rest_tier=form.rest_tier.data or "",
                points=results.parse_points(form.points.data), before_publish=BeforePublish(form.before_publish.data))
            _run(lambda: results.update_settings(competition, data, actor=current_user, now=utcnow()))
        except results.ResultsError as error:
            db.session.rollback()
            target = {"tiebreaks": form.tiebreak_1}.get(error.field) or getattr(form, error.field or "", None)
            if target is not None and hasattr(target, "errors"):
                target.errors = list(target.errors) + [error.message]
            else:
                flash(error.message, "error")
            status = error.status
        else:
            flash(_("The ranking settings are saved."), "success")
            return redirect(_board_url(competition))
    else:
        status = 422
    return render_template("results/settings.html", event=competition.event, competition=competition, form=form,
                           award_rules=competition.award_rules or {}), status


# ---------------------------------------------------------------- ties


@bp.route("/ties/lots", methods=["POST"])
@login_required
def draw_lots(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    board_key, tie = request.form.get("board", ""), request.form.get("tie", "")
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
    else:
        _perform(lambda: results.draw_lots(competition, board_key, tie, actor=current_user, now=utcnow()),
                 _("Lots drawn; the order and the seed are recorded."))
    return redirect(_board_url(competition, board_key or None))


@bp.route("/ties/decide", methods=["GET", "POST"])
@login_required
def decide_tie(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    board_key = request.values.get("board", "")
    key = request.values.get("tie", "")
    computed = results.standings(competition)
    try:
        tie = results.find_tie(computed, board_key, key)
    except results.ResultsError as error:
        flash(error.message, "error")
        return redirect(_board_url(competition, board_key or None))
    entrants = [computed.inputs.entrants[e] for e in tie.entrant_ids]
    form = ReasonForm()
    status = 200
    places = {e.id: request.form.get(f"place-{e.id}", "") for e in entrants}
    errors: list[str] = []
    if request.method == "POST":
        if form.validate_on_submit():
            order = _order_from_places(places, len(entrants))
            if order is None:
                errors.append(_("Give each tied entrant a different place from 1 to %(n)d.", n=len(entrants)))
                status = 422
            else:
                try:
                    _run(lambda: results.decide_tie(competition, board_key, key, order, form.reason.data,
                                                    actor=current_user, now=utcnow()))
                except results.ResultsError as error:
                    db.session.rollback()
                    errors.append(error.message)
                    status = error.status
                else:
                    flash(_("The chief judge's decision is recorded."), "success")
                    return redirect(_board_url(competition, board_key))
        else:
            status = 422
    return render_template("results/decide.html", event=competition.event, competition=competition, form=form,
                           tie=tie, entrants=entrants, places=places, errors=errors, board_key=board_key,
                           board_label=_board_label(computed, board_key), places_count=len(entrants)), status


def _order_from_places(places: dict[int, str], count: int) -> list[int] | None:
    chosen = {}
    for entrant_id, text in places.items():
        text = (text or "").strip()
        if not text.isdigit() or not 1 <= int(text) <= count:
            return None
        chosen[entrant_id] = int(text)
    if sorted(chosen.values()) != list(range(1, count + 1)):
        return None
    return [e for e, _place in sorted(chosen.items(), key=lambda item: item[1])]


def _board_label(computed: results.Standings, key: str) -> str:
    board = computed.board(key)
    return board_name(key, board.group.name if board is not None and board.group else None)


@bp.route("/ties/revoke", methods=["POST"])
@login_required
def revoke_decision(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    form = ReasonForm()
    decision_id = request.form.get("decision_id", "")
    if not form.validate_on_submit() or not decision_id.isdigit():
        flash(_("Give the reason for withdrawing the decision."), "error")
    else:
        _perform(lambda: results.revoke_decision(competition, int(decision_id), form.reason.data,
                                                 actor=current_user, now=utcnow()),
                 _("The decision is withdrawn."))
    return redirect(_board_url(competition, request.form.get("board") or None))


# ---------------------------------------------------------------- award overrides


@bp.route("/awards/<int:entrant_id>", methods=["GET", "POST"])
@login_required
def override_award(event_id: int, competition_id: int, entrant_id: int):
    competition = _competition(event_id, competition_id)
    entrant = db.session.get(Entrant, entrant_id)
    if entrant is None or entrant.competition_id != competition.id:
        abort(404)
    computed = results.standings(competition)
    line = computed.lines_by_entrant.get(entrant.id)
    form = OverrideForm()
    tiers = results.award_tiers(competition)
    form.tier.choices = [(t, t) for t in tiers] + [("", _("No award"))]
    status = 200
    if request.method == "GET":
        form.tier.data = (line.award or "") if line else ""
    elif request.form.get("clear"):
        if form.reason.validate(form) and form.validate_on_submit():
            if _perform(lambda: results.clear_override(competition, entrant, form.reason.data, actor=current_user,
                                                       now=utcnow()),
                        _("The award follows the ranking again.")):
                return redirect(_board_url(competition, _board_of(computed, entrant.id)))
            status = 409
        else:
            status = 422
    elif form.validate_on_submit():
        if form.tier.data not in tiers + [""]:
            form.tier.errors = [_("Choose one of the award tiers.")]
            status = 422
        else:
            try:
                _run(lambda: results.set_override(competition, entrant, form.tier.data, form.reason.data,
                                                  actor=current_user, now=utcnow()))
            except results.ResultsError as error:
                db.session.rollback()
                flash(error.message, "error")
                status = error.status
            else:
                flash(_("The award is set by hand; the reason is in the log."), "success")
                return redirect(_board_url(competition, _board_of(computed, entrant.id)))
    else:
        status = 422
    return render_template("results/override.html", event=competition.event, competition=competition, form=form,
                           entrant=entrant, line=line, places=computed.inputs.places,
                           board_key=_board_of(computed, entrant.id)), status


def _board_of(computed: results.Standings, entrant_id: int) -> str | None:
    for board in computed.boards:
        if board.key != "overall" and any(line.entrant.id == entrant_id for line in board.lines):
            return board.key
    return None


# ---------------------------------------------------------------- completion times


@bp.route("/times/<int:round_id>", methods=["GET", "POST"])
@login_required
def times(event_id: int, competition_id: int, round_id: int):
    competition = _competition(event_id, competition_id)
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.competition_id != competition.id:
        abort(404)
    form = FlaskForm()
    entrants = list(db.session.scalars(db.select(Entrant).where(Entrant.competition_id == competition.id)
                                       .order_by(Entrant.group_id, Entrant.position, Entrant.id)))
    from competition.draw import codes_by_entrant

    codes = codes_by_entrant(competition)
    stored = results.times_of(round_)
    values = {e.id: results.format_time(stored.get(e.id)) for e in entrants}
    status, error_field, error = 200, None, None
    if request.method == "POST":
        values = {e.id: request.form.get(f"time-{e.id}", "") for e in entrants}
        if not form.validate_on_submit():
            error, status = _("The form expired; please try again."), 400
        else:
            try:
                changed = _run(lambda: results.set_times(competition, round_, values, actor=current_user,
                                                         now=utcnow()))
            except results.ResultsError as failure:
                db.session.rollback()
                error, error_field, status = failure.message, failure.field, failure.status
            else:
                flash(_("Completion times saved (%(n)d changed).", n=changed), "success")
                return redirect(url_for("results.times", event_id=event_id, competition_id=competition_id,
                                        round_id=round_id))
    groups = {g.id: g.name for g in competition.groups}
    return render_template("results/times.html", event=competition.event, competition=competition, round=round_,
                           form=form, entrants=entrants, codes=codes, values=values, groups=groups, error=error,
                           error_field=error_field), status


# ---------------------------------------------------------------- exports


@bp.route("/export.xlsx")
@login_required
def export(event_id: int, competition_id: int):
    competition = _competition(event_id, competition_id)
    computed = results.read_standings(competition)
    content = results.results_workbook(computed, competition, board_name=board_name, problem_text=problem_text)
    _run(lambda: results.log_download(competition, "results.export", actor=current_user, now=utcnow()))
    return send_file(BytesIO(content), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=f"{competition.title}-成绩.xlsx")


@bp.route("/results.pdf")
@login_required
def pdf(event_id: int, competition_id: int):
    from competition.results_pdf import ResultsFontError, render_results_pdf
    from registration.ticket_pdf import DEFAULT_FONT_PATH

    competition = _competition(event_id, competition_id)
    computed = results.read_standings(competition)
    font_path = current_app.config.get("TICKET_PDF_FONT") or DEFAULT_FONT_PATH
    try:
        content = render_results_pdf(results.gongshi_content(computed, competition, board_name=board_name,
                                                             final=results.results_final(competition)),
                                     font_path=font_path)
    except ResultsFontError:
        flash(_("The Chinese font for PDFs is not installed on the server (package fonts-lxgw-wenkai)."), "error")
        return redirect(_board_url(competition))
    _run(lambda: results.log_download(competition, "results.pdf", actor=current_user, now=utcnow()))
    return send_file(BytesIO(content), mimetype="application/pdf", as_attachment=False,
                     download_name=f"{competition.title}-成绩公示.pdf")


# ---------------------------------------------------------------- ranking history


@bp.route("/history")
@login_required
def history(event_id: int, competition_id: int):
    event = get_event_for_staff(event_id)  # 404 without any role in the event
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    if not (can_manage_event(current_user, event) or _is_chief_judge(competition)):
        abort(403)
    computed = results.read_standings(competition)
    steps = results.history(competition)
    entrants = {e.id: e for e in computed.inputs.entrants.values()}
    actors = _judge_names({c.actor_id for step in steps for c in step.causes if c.actor_id})
    boards = {b.key: board_name(b.key, b.group.name if b.group else None) for b in computed.boards}
    from judging.models import Score

    score_ids = {c.details.get("score_id") for step in steps for c in step.causes if c.details.get("score_id")}
    codes = {c.id: c.code for c in computed.inputs.criteria.values()}
    score_codes = {s: codes.get(c, "") for s, c in db.session.execute(
        db.select(Score.id, Score.criterion_id).where(Score.id.in_(sorted(score_ids) or [0])))}
    return render_template("results/history.html", event=event, competition=competition, steps=steps,
                           score_codes=score_codes,
                           entrants=entrants, actors=actors, boards=boards,
                           criterion_codes={c.id: c.code for c in computed.inputs.criteria.values()},
                           manage=can_manage_event(current_user, event), cause_text=cause_text)


def _is_chief_judge(competition: Competition) -> bool:
    from judging.models import JudgeProfile, JudgeRole

    profile = db.session.scalar(db.select(JudgeProfile).where(JudgeProfile.competition_id == competition.id,
                                                              JudgeProfile.user_id == current_user.id))
    return profile is not None and profile.role == JudgeRole.CHIEF


def cause_text(change) -> str:
    """A change of the log in words (the history page)."""
    names = {
        "judging.submit": _("scores submitted"),
        "judging.score_change": _("a submitted score corrected"),
        "judging.reopen": _("scores reopened for correction"),
        "results.settings": _("ranking settings changed"),
        "results.lots": _("lots drawn"),
        "results.decision": _("the chief judge's decision"),
        "results.decision_revoke": _("a tie decision withdrawn"),
        "results.award_override": _("an award set by hand"),
        "results.award_override_clear": _("an award set by hand withdrawn"),
        "results.times": _("completion times recorded"),
        "competition.update": _("competition settings changed"),
        "competition.entrant_add": _("an entrant added"),
        "competition.entrant_update": _("an entrant changed"),
        "competition.entrant_delete": _("an entrant removed"),
        "judging.assign": _("judges assigned"),
    }
    return names.get(change.action, change.action)


# ---------------------------------------------------------------- certificates read published awards from here


def _install_certificates_provider() -> None:
    try:
        from certificates.sources import set_results_provider
    except ImportError:  # pragma: no cover - the certificates package is part of the app
        return
    set_results_provider(results.published_awards)


_install_certificates_provider()
