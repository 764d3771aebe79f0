"""Appeal pages (申诉).

Participants (``/r/<key>/appeals/…``, authenticated by the sign-up's private manage link like the other participant
pages): file an appeal for the sign-up's entrant while the results are provisional and the deadline has not passed
(the form refuses on the server, not only by hiding itself); see the decision on the manage page.

Staff (``/appeals/events/<event_id>/competitions/<competition_id>/…``): the competition's arbitration group
(``JudgeRole.ARBITRATOR``) sees the appeals and records the final decision; the event's organizers see everything
read-only, file an appeal on an entrant's behalf (recorded as such) and set how many appeals one entrant may file.
Anyone else with a role in the event gets 403, without one 404. Entrants are shown by their draw code, with names
only once identities are released (``competition.results.is_identity_released``).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from accounts.permissions import can_manage_event, can_see_event_admin
from accounts.reauth import ReauthError, confirm_password, keep_failure
from appeals import services
from appeals.forms import AppealForm, DecisionForm, OrganizerAppealForm, SettingsForm
from appeals.models import Appeal, AppealChannel, AppealState
from competition.draw import codes_by_entrant
from competition.models import Competition, Entrant
from competition.results import is_identity_released
from core.database import run_write
from core.types import utcnow
from events.models import Event
from extensions import db

bp = Blueprint("appeals", __name__)
STAFF = "/appeals/events/<int:event_id>/competitions/<int:competition_id>"


# ---------------------------------------------------------------- helpers


def _private(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _upload(form) -> services.Upload | None:
    storage = form.attachment.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return services.Upload(filename=storage.filename or "", data=storage.read())


def _file(entrant_id: int, form, *, channel: AppealChannel, appellant_name: str | None = None):
    """File the appeal as one unit of work; the appeal, or the refusal put on the form (with its status)."""
    holder = {}

    def work():
        holder.pop("appeal", None)
        entrant = db.session.get(Entrant, entrant_id)
        appeal = services.file_appeal(entrant, reason=form.reason.data, attachment=upload, channel=channel,
                                      appellant_name=appellant_name,
                                      actor=current_user if channel == AppealChannel.ORGANIZER else None,
                                      now=utcnow())
        holder["appeal"] = appeal
        db.session.commit()
        return appeal.id

    try:
        upload = _upload(form)
        return db.session.get(Appeal, run_write(db.session, work)), None
    except (services.AppealError, IntegrityError) as error:
        db.session.rollback()
        services.discard_attachment(holder.get("appeal"))
        if isinstance(error, IntegrityError):
            error = services.AppealError("already_appealed", _("An appeal for this entrant was filed at the same "
                                                              "moment; reload the page."), status=409)
        target = getattr(form, error.field, None) if error.field else None
        if target is not None:
            target.errors = list(target.errors) + [error.message]
        else:
            flash(error.message, "error")
        return None, error.status


def _identity(competition: Competition) -> tuple[dict[int, str], bool]:
    return codes_by_entrant(competition), is_identity_released(competition)


# ---------------------------------------------------------------- participants (the manage link)


def _registration(key: str):
    from registration import services as registration_services

    registration = registration_services.find_by_manage_key(key)
    if registration is None:
        abort(404)
    return registration


def _entrant_of(registration, competition_id: int) -> Entrant:
    entrant = next((e for e in services.entrants_of_registration(registration.id)
                    if e.competition_id == competition_id), None)
    if entrant is None:
        abort(404)
    return entrant


@bp.route("/r/<key>/appeals/<int:competition_id>", methods=["GET", "POST"])
def participant_file(key: str, competition_id: int):
    registration = _registration(key)
    entrant = _entrant_of(registration, competition_id)
    competition = db.session.get(Competition, competition_id)
    form = AppealForm()
    status = 200
    if form.validate_on_submit():
        appeal, status = _file(entrant.id, form, channel=AppealChannel.PARTICIPANT)
        if appeal is not None:
            flash(_("Your appeal (申诉 #%(n)d) has been filed. The arbitration group's decision will appear on "
                    "this page.", n=appeal.number), "success")
            return redirect(url_for("registration.manage", key=key) + "#appeals")
    elif form.is_submitted():
        status = 422
    now = utcnow()
    return _private((render_template(
        "appeals/file.html", registration=registration, event=registration.event, competition=competition,
        entrant=entrant, key=key, form=form, window=services.appeal_window(competition, now),
        remaining=services.remaining_appeals(entrant), appeals=services.appeals_of_entrant(entrant)), status))


@bp.route("/r/<key>/appeals/attachment/<int:appeal_id>")
def participant_attachment(key: str, appeal_id: int):
    registration = _registration(key)
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or appeal.registration_id != registration.id:
        abort(404)
    return _private(_send_attachment(appeal))


def _send_attachment(appeal: Appeal):
    path = services.attachment_path(appeal)
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype=appeal.attachment_type, as_attachment=True,
                     download_name=appeal.attachment_name or path.name)


@bp.app_template_global()
def registration_appeals(registration_id: int):
    """For the participant's sign-up page: their entrants' appeal windows, appeals and decisions."""
    return services.registration_appeals(registration_id, utcnow())


@bp.app_template_global()
def arbitration_competitions(user):
    """For the judge's home page: the competitions where ``user`` decides appeals, with the open count."""
    return [(c, services.open_appeal_count(c)) for c in services.arbitration_competitions(user)]


# ---------------------------------------------------------------- staff: organizers and the arbitration group


def _staff(event_id: int, competition_id: int) -> tuple[Competition, bool, bool]:
    """The competition, whether the user organizes the event, whether they sit on its arbitration group."""
    event = db.session.get(Event, event_id)
    if event is None or not can_see_event_admin(current_user, event):
        abort(404)
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    organizer = can_manage_event(current_user, event)
    arbitrator = services.is_arbitrator(current_user, competition)
    if not (organizer or arbitrator):
        abort(403)
    return competition, organizer, arbitrator


@bp.route(STAFF)
@login_required
def index(event_id: int, competition_id: int):
    competition, organizer, arbitrator = _staff(event_id, competition_id)
    codes, released = _identity(competition)
    appeals = services.list_appeals(competition)
    entrants = {e.id: e for e in db.session.query(Entrant).filter(
        Entrant.id.in_({a.entrant_id for a in appeals} or {0}))} if released else {}
    return render_template("appeals/index.html", event=competition.event, competition=competition, appeals=appeals,
                           codes=codes, released=released, entrants=entrants, organizer=organizer,
                           arbitrator=arbitrator, window=services.appeal_window(competition, utcnow()),
                           settings=services.settings_of(competition),
                           open_count=sum(1 for a in appeals if a.state == AppealState.OPEN))


def _get_appeal(competition: Competition, appeal_id: int) -> Appeal:
    appeal = db.session.get(Appeal, appeal_id)
    if appeal is None or appeal.competition_id != competition.id:
        abort(404)
    return appeal


@bp.route(STAFF + "/<int:appeal_id>", methods=["GET", "POST"])
@login_required
def detail(event_id: int, competition_id: int, appeal_id: int):
    competition, organizer, arbitrator = _staff(event_id, competition_id)
    appeal = _get_appeal(competition, appeal_id)
    form = DecisionForm()
    status = 200
    if request.method == "POST":
        if not arbitrator:
            abort(403)
        if form.validate_on_submit():
            corrections = [services.Correction(int(k[len("score-"):]), v) for k, v in request.form.items()
                           if k.startswith("score-") and k[len("score-"):].isdigit()]
            appeal_id_ = appeal.id

            def work():
                confirm_password(current_user, form.password.data, now=utcnow(), remote_addr=request.remote_addr)
                found = db.session.get(Appeal, appeal_id_)
                services.decide_appeal(found, upheld=form.outcome.data == "upheld", decision=form.decision.data,
                                       corrections=corrections, actor=current_user, now=utcnow())
                db.session.commit()

            try:
                run_write(db.session, work)
            except ReauthError as error:
                keep_failure(error)  # a wrong password counts towards throttling; nothing else is kept
                form.password.errors = list(form.password.errors) + [error.message]
                status = error.status
            except services.AppealError as error:
                db.session.rollback()
                target = getattr(form, error.field, None) if error.field else None
                if target is not None:
                    target.errors = list(target.errors) + [error.message]
                else:
                    flash(error.message, "error")
                status = error.status
            else:
                flash(_("The decision on appeal #%(n)d is recorded.", n=appeal.number), "success")
                return redirect(url_for("appeals.detail", event_id=event_id, competition_id=competition_id,
                                        appeal_id=appeal_id))
            appeal = _get_appeal(competition, appeal_id)
        else:
            status = 422
    codes, released = _identity(competition)
    entrant = db.session.get(Entrant, appeal.entrant_id) if released else None
    return render_template("appeals/detail.html", event=competition.event, competition=competition, appeal=appeal,
                           code=codes.get(appeal.entrant_id, "—"), released=released, entrant=entrant,
                           organizer=organizer, arbitrator=arbitrator, form=form,
                           scores=services.appeal_scores(appeal), entered=request.form), status


@bp.route(STAFF + "/<int:appeal_id>/attachment")
@login_required
def attachment(event_id: int, competition_id: int, appeal_id: int):
    competition, _organizer, _arbitrator = _staff(event_id, competition_id)
    response = _send_attachment(_get_appeal(competition, appeal_id))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route(STAFF + "/file", methods=["GET", "POST"])
@login_required
def organizer_file(event_id: int, competition_id: int):
    competition, organizer, _arbitrator = _staff(event_id, competition_id)
    if not organizer:
        abort(403)
    codes, _released = _identity(competition)
    entrants = list(db.session.query(Entrant).filter(Entrant.competition_id == competition.id)
                    .order_by(Entrant.position, Entrant.id))
    form = OrganizerAppealForm()
    form.entrant_id.choices = [(e.id, f"{codes.get(e.id, '—')} · {e.name}" + (f"（{e.unit}）" if e.unit else ""))
                               for e in entrants]
    status = 200
    if form.validate_on_submit():
        appeal, status = _file(form.entrant_id.data, form, channel=AppealChannel.ORGANIZER,
                               appellant_name=form.appellant_name.data)
        if appeal is not None:
            flash(_("Appeal #%(n)d has been filed on the entrant's behalf.", n=appeal.number), "success")
            return redirect(url_for("appeals.detail", event_id=event_id, competition_id=competition_id,
                                    appeal_id=appeal.id))
    elif form.is_submitted():
        status = 422
    return render_template("appeals/organizer_file.html", event=competition.event, competition=competition,
                           form=form, window=services.appeal_window(competition, utcnow())), status


@bp.route(STAFF + "/settings", methods=["GET", "POST"])
@login_required
def settings(event_id: int, competition_id: int):
    competition, organizer, _arbitrator = _staff(event_id, competition_id)
    if not organizer:
        abort(403)
    form = SettingsForm(obj=services.settings_of(competition))
    status = 200
    if form.validate_on_submit():
        def work():
            services.update_settings(db.session.get(Competition, competition_id),
                                     appeals_per_entrant=form.appeals_per_entrant.data, actor=current_user,
                                     now=utcnow())
            db.session.commit()

        try:
            run_write(db.session, work)
        except services.AppealError as error:
            db.session.rollback()
            form.appeals_per_entrant.errors = list(form.appeals_per_entrant.errors) + [error.message]
            status = error.status
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("appeals.index", event_id=event_id, competition_id=competition_id))
    elif form.is_submitted():
        status = 422
    return render_template("appeals/settings.html", event=competition.event, competition=competition,
                           form=form), status


@bp.app_template_filter("appeal_value")
def appeal_value(value) -> str:
    from judging.services import plain

    return plain(value) if value is not None else "—"
