"""Pages of the lock chain (``judging.process``): the chain with each step's state, who and when; round locks;
the review (复核) for supervisors, at tablet size; the two-person decryption; the provisional results' countdown;
the final snapshot and its revisions.

Who sees them: the event's organizers and the competition's chief judge, encryption judge, supervisors and
arbitrators. A judge without one of those roles gets 403, anyone without a role in the event 404. Each button runs
one service, which checks the role again (a wrong role is 403 with the message). Before decryption the pages show
codes only — never an entrant's name or unit (the encryption judge's sealed draw is the one exception, for them).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from competition.models import Competition, Criterion, Entrant, Round, RoundState
from competition.permissions import can_see_draw
from core.database import run_write
from core.errors import DomainError
from core.types import utcnow
from events.forms import ConfirmForm
from events.views import get_event_for_staff
from extensions import db
from judging import process
from judging.models import Score, ScoreState
from judging.process_models import Decryption, ProcessStage, ResultSnapshot, ReviewItem, ReviewState

bp = Blueprint("process", __name__, url_prefix="/judging/events/<int:event_id>/competitions/<int:competition_id>/process")

PAGE_ROLES = {"organizer", "chief", "encryptor", "supervisor", "arbitrator"}


def get_competition(event_id: int, competition_id: int) -> Competition:
    event = get_event_for_staff(event_id)  # 404 without any role in the event
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    if not process.actor_roles(current_user, competition) & PAGE_ROLES:
        abort(403)
    return competition


def _back(competition: Competition, anchor: str = ""):
    return redirect(url_for("process.chain_page", event_id=competition.event_id, competition_id=competition.id)
                    + (f"#{anchor}" if anchor else ""))


def perform(action, *, success: str | None = None) -> tuple[object | None, int]:
    """Run one service as a unit of work; flash the outcome. (result, status): status is the error's on refusal."""
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return None, 400

    def work():
        result = action()
        db.session.commit()
        return result

    try:
        result = run_write(db.session, work)
    except DomainError as error:
        if getattr(error, "code", "") in ("wrong_password", "throttled") and hasattr(error, "_failure"):
            from accounts.reauth import keep_failure

            keep_failure(error)  # the wrong password counts; nothing else is kept
        else:
            db.session.rollback()
        flash(error.message, "error")
        return None, error.status
    except IntegrityError:
        db.session.rollback()
        flash(_("This changed meanwhile; please try again."), "error")
        return None, 409
    if success:
        flash(success, "success")
    return (result if result is not None else True), 200


def reauthenticated(competition: Competition, step: str, action):
    """``action`` as a re-authenticated step (the password asked again, ``accounts.reauth``): the role is checked
    first (a wrong role is 403 without asking for a password), then the password, then the service runs. A wrong
    password is kept for throttling by :func:`perform`; nothing else changes."""
    def work():
        from accounts.reauth import confirm_password

        process.require(current_user, competition, step)
        confirm_password(current_user, request.form.get("password"), now=utcnow(), remote_addr=request.remote_addr)
        return action()

    return work


def _answer(competition: Competition, status: int, anchor: str = ""):
    """After a POST: back to the page; a refusal shows the page with its message and status (403, 409, 422 …)."""
    if status == 200:
        return _back(competition, anchor)
    return _chain(competition, status)


def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.name for u in db.session.scalars(db.select(User).where(User.id.in_(sorted(ids))))}


def _codes(competition: Competition) -> dict[int, str]:
    from competition.draw import codes_by_entrant

    found = {}
    for stage in (1, 2):
        for entrant_id, code in codes_by_entrant(competition, stage).items():
            found[entrant_id] = code  # the result code when drawn, else the station number
    return found


def _revision_choices(competition: Competition, roles: set[str]) -> dict:
    """The revision form's picker: entrant → judge → criterion, built from the competition's submitted scores.
    Entrants by code; an organizer also sees the name once identities are released (``is_identity_released``)."""
    from competition.results import is_identity_released
    from judging.services import natural_key, plain

    rounds = {r.id: r for r in competition.rounds}
    rows = db.session.execute(
        db.select(Score.id, Score.entrant_id, Score.judge_id, Score.criterion_id, Score.round_id, Score.value)
        .where(Score.round_id.in_(sorted(rounds) or [0]), Score.state == ScoreState.SUBMITTED)).all()
    codes = _codes(competition)
    names = {}
    if "organizer" in roles and is_identity_released(competition):
        names = dict(db.session.execute(db.select(Entrant.id, Entrant.name).where(
            Entrant.competition_id == competition.id)).all())
    judges = _names({r.judge_id for r in rows})
    criteria = {c.id: c for c in db.session.scalars(db.select(Criterion).where(
        Criterion.id.in_({r.criterion_id for r in rows} or [0])))}
    several_rounds = len({r.round_id for r in rows}) > 1
    entrants, scores = {}, []
    for row in rows:
        code = codes.get(row.entrant_id, "—")
        entrants[row.entrant_id] = f"{code} · {names[row.entrant_id]}" if names.get(row.entrant_id) else code
        criterion = criteria[row.criterion_id]
        label = f"{criterion.code} {criterion.name}".strip()
        if several_rounds:
            label = f"{rounds[row.round_id].name} · {label}"
        scores.append({"id": row.id, "entrant": row.entrant_id, "judge": row.judge_id,
                       "criterion": label, "value": plain(row.value) or "0",
                       "order": (natural_key(code), judges.get(row.judge_id, ""), rounds[row.round_id].position,
                                 criterion.position, criterion.id)})
    scores.sort(key=lambda s: s["order"])
    ordered = sorted(entrants, key=lambda e: natural_key(codes.get(e, "")))
    return {"entrants": [(e, entrants[e]) for e in ordered], "entrant_labels": entrants, "judges": judges,
            "scores": scores}


def _chain(competition: Competition, status: int = 200):
    roles = process.actor_roles(current_user, competition)
    state = process.get_process(competition)
    rounds = list(db.session.scalars(db.select(Round).where(Round.competition_id == competition.id)
                                     .order_by(Round.position, Round.id)))
    steps = process.chain(competition)
    locks = process.lock_events(competition)
    decrypts = process.decryptions(competition)
    snaps = process.snapshots(competition)
    people = _names([p for s in steps for p in s.who] + [u for s in steps for u, _n in s.reviewers]
                    + [e.actor_id for e in locks]
                    + [d.started_by_id for d in decrypts] + [d.confirmed_by_id for d in decrypts]
                    + [s.created_by_id for s in snaps])
    from judging.desk_services import can_use_desk

    flags = {r.id: process.open_flags(r) for r in rounds if r.state == RoundState.SCORING}
    return render_template(
        "judging/process.html", event=competition.event, competition=competition, roles=roles, state=state,
        open_flags={k: v for k, v in flags.items() if v}, desk=can_use_desk(current_user, competition),
        picker=(_revision_choices(competition, roles) if process.is_final(competition) and process.is_strict(competition)
                and process.may(current_user, competition, "revise") else None),
        strict=process.is_strict(competition), rounds=rounds, steps=steps, locks=locks, decryptions=decrypts,
        pending=process.pending_decryption(competition), snapshots=snaps, people=people,
        counts=process.review_counts(competition), may=lambda step: process.may(current_user, competition, step),
        deadline=process.appeal_deadline(competition), final=process.is_final(competition),
        local_text=process.local_text, form=ConfirmForm(), Stage=ProcessStage,
        sealed=can_see_draw(current_user, competition) and "encryptor" in roles,
    ), status


@bp.route("")
@login_required
def chain_page(event_id: int, competition_id: int):
    return _chain(get_competition(event_id, competition_id))


@bp.route("/settings", methods=["POST"])
@login_required
def settings(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    status = 200
    if "strict" in request.form:
        _done, status = perform(lambda: process.set_strict(competition, request.form.get("strict") == "1",
                                                       actor=current_user, now=utcnow()),
                            success=_("The process setting is saved."))
    if status == 200 and "appeal_hours" in request.form:
        _done, status = perform(lambda: process.set_appeal_hours(competition, request.form.get("appeal_hours"),
                                                             actor=current_user, now=utcnow()),
                            success=_("The appeal period is saved."))
    return _answer(competition, status)


def _round(competition: Competition, round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.competition_id != competition.id:
        abort(404)
    return round_


@bp.route("/rounds/<int:round_id>/lock", methods=["POST"])
@login_required
def lock(event_id: int, competition_id: int, round_id: int):
    competition = get_competition(event_id, competition_id)
    round_ = _round(competition, round_id)
    _done, status = perform(lambda: process.lock_round(round_, actor=current_user, now=utcnow()),
                        success=_("The round is locked: its scores no longer change."))
    return _answer(competition, status, "locks")


@bp.route("/rounds/<int:round_id>/unlock", methods=["POST"])
@login_required
def unlock(event_id: int, competition_id: int, round_id: int):
    competition = get_competition(event_id, competition_id)
    round_ = _round(competition, round_id)
    _done, status = perform(reauthenticated(competition, "unlock", lambda: process.unlock_round(
                                round_, request.form.get("reason"), actor=current_user, now=utcnow())),
                            success=_("The round is unlocked; the reason is recorded."))
    return _answer(competition, status, "locks")


@bp.route("/review/start", methods=["POST"])
@login_required
def start_review(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    _done, status = perform(lambda: process.start_review(competition, actor=current_user, now=utcnow()),
                        success=_("The review sample is drawn; the supervisors check it now."))
    return _answer(competition, status, "review")


@bp.route("/review")
@login_required
def review(event_id: int, competition_id: int, status: int = 200):
    competition = get_competition(event_id, competition_id)
    show = request.args.get("show", "pending")
    items = process.review_items(competition)
    if show == "pending":
        shown = [i for i in items if i.state == ReviewState.PENDING]
    else:
        shown = items
    scores = {s.id: s for s in db.session.scalars(db.select(Score).where(
        Score.id.in_([i.score_id for i in shown] or [0])))}
    criteria = {c.id: c for c in db.session.scalars(db.select(Criterion).where(
        Criterion.id.in_({s.criterion_id for s in scores.values()} or [0])))}
    rounds = {r.id: r.name for r in competition.rounds}
    judges = _names({s.judge_id for s in scores.values()})
    return render_template(
        "judging/process_review.html", event=competition.event, competition=competition, items=shown,
        scores=scores, criteria=criteria, rounds=rounds, judges=judges, codes=_codes(competition),
        counts=process.review_counts(competition), state=process.get_process(competition), show=show,
        may_review=process.may(current_user, competition, "review"), form=ConfirmForm(), Stage=ProcessStage,
        plain=_plain,
    ), status


def _plain(value) -> str:
    from judging.services import plain

    return plain(value) or ""


@bp.route("/review/items/<int:item_id>", methods=["POST"])
@login_required
def decide(event_id: int, competition_id: int, item_id: int):
    competition = get_competition(event_id, competition_id)
    item = db.session.get(ReviewItem, item_id)
    if item is None or item.competition_id != competition.id:
        abort(404)
    value = request.form.get("value") if request.form.get("action") == "correct" else None
    if request.form.get("action") == "correct" and not (value or "").strip():
        flash(_("Enter the value on the score sheet."), "error")
        return review(event_id, competition_id, status=422)

    def decide_now():
        return process.decide_item(item, value=value, reason=request.form.get("reason"), actor=current_user,
                                   now=utcnow())

    # a correction changes a submitted score: the password is asked again (as on the chief judge's desk); a
    # confirmation changes no score and stays one tap per item on the supervisor's tablet
    _done, status = perform(reauthenticated(competition, "review", decide_now) if value is not None else decide_now,
                            success=_("Corrected; the change is recorded.") if value is not None else _("Confirmed."))
    if status >= 400:
        return review(event_id, competition_id, status=status)
    return redirect(url_for("process.review", event_id=event_id, competition_id=competition_id,
                            show=request.args.get("show", "pending")))


@bp.route("/decrypt", methods=["POST"])
@login_required
def decrypt_start(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    _done, status = perform(lambda: process.start_decryption(competition, request.form.get("password"),
                                                         actor=current_user, now=utcnow()),
                        success=_("Decryption started: a supervisor confirms it with their password."))
    return _answer(competition, status, "decrypt")


def _decryption(competition: Competition, decryption_id: int) -> Decryption:
    decryption = db.session.get(Decryption, decryption_id)
    if decryption is None or decryption.competition_id != competition.id:
        abort(404)
    return decryption


@bp.route("/decrypt/<int:decryption_id>/confirm", methods=["POST"])
@login_required
def decrypt_confirm(event_id: int, competition_id: int, decryption_id: int):
    competition = get_competition(event_id, competition_id)
    decryption = _decryption(competition, decryption_id)
    _done, status = perform(lambda: process.confirm_decryption(decryption, request.form.get("password"),
                                                           actor=current_user, now=utcnow()),
                        success=_("Decrypted: names and units are released."))
    return _answer(competition, status, "decrypt")


@bp.route("/decrypt/<int:decryption_id>/withdraw", methods=["POST"])
@login_required
def decrypt_withdraw(event_id: int, competition_id: int, decryption_id: int):
    competition = get_competition(event_id, competition_id)
    decryption = _decryption(competition, decryption_id)
    _done, status = perform(lambda: process.withdraw_decryption(decryption, actor=current_user, now=utcnow()),
                        success=_("The decryption is withdrawn."))
    return _answer(competition, status, "decrypt")


@bp.route("/publish", methods=["POST"])
@login_required
def publish(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    _done, status = perform(reauthenticated(competition, "publish", lambda: process.publish_provisional(
                                competition, actor=current_user, now=utcnow())),
                            success=_("The provisional results are published; the appeal period runs."))
    return _answer(competition, status, "provisional")


@bp.route("/final", methods=["POST"])
@login_required
def finalize(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    _done, status = perform(reauthenticated(competition, "finalize", lambda: process.finalize(
                                competition, actor=current_user, now=utcnow())),
                            success=_("The results are final; revision 1 is stored."))
    return _answer(competition, status, "final")


@bp.route("/revise", methods=["POST"])
@login_required
def revise(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    corrections = []
    score_id, value = (request.form.get("score_id") or "").strip(), (request.form.get("value") or "").strip()
    if score_id or value:
        if not score_id.isdigit() or not value:
            flash(_("Choose the score to correct and give its new value, or neither."), "error")
            return _chain(competition, 422)
        corrections.append(process.Correction(int(score_id), value))
    # a change to the final results is a re-authenticated action (the password asked again)
    _done, status = perform(reauthenticated(competition, "revise", lambda: process.revise_final(
                                competition, request.form.get("reason"), actor=current_user, now=utcnow(),
                                corrections=corrections)),
                            success=_("A new revision of the final results is stored."))
    return _answer(competition, status, "final")


@bp.route("/snapshots/<int:revision>")
@login_required
def snapshot(event_id: int, competition_id: int, revision: int):
    competition = get_competition(event_id, competition_id)
    snap = db.session.scalar(db.select(ResultSnapshot).where(ResultSnapshot.competition_id == competition.id,
                                                             ResultSnapshot.revision == revision))
    if snap is None:
        abort(404)
    groups = {g.id: g.name for g in competition.groups}
    return render_template("judging/process_snapshot.html", event=competition.event, competition=competition,
                           snap=snap, groups=groups, people=_names([snap.created_by_id]),
                           local_text=process.local_text,
                           latest=process.latest_snapshot(competition).revision)


@bp.route("/sealed-draw")
@login_required
def sealed_draw(event_id: int, competition_id: int):
    """The encryption judge's copy of the sealed draw (organizers have theirs on the draw page)."""
    competition = get_competition(event_id, competition_id)
    if not can_see_draw(current_user, competition):
        abort(403)
    from competition.draw import sealed_mapping

    return render_template("judging/process_sealed.html", event=competition.event, competition=competition,
                           rows=sealed_mapping(competition))
