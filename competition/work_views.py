"""Pages of submitted works (作品) and the defense schedule (答辩批次).

Organizers (``/manage/events/<event_id>/competitions/<competition_id>/works…``; organizers and admins of the event,
staff and judges 403, anyone without a role there 404): the settings (collected or not, deadline, kinds, size,
number of files), every entrant's works with their original names and history, upload on an entrant's behalf
(also after the deadline: marked late and logged), and per round the defense schedule: the generator, batches
edited by hand, entrants moved, and a printable schedule (with names, or by code for the judges).

Participants (``/r/<key>/works/<competition_id>``: the secret link of their sign-up): their works, upload, replace
and delete until the deadline.

Files (``/works/<work_id>``): served to organizers of the event and to judges assigned the work's entrant (any
round of the competition); everyone else 404. The file is named by the entrant's code (``A07.pdf``), never by its
uploader's name; no-store, nosniff.

Upload size: each upload route raises the request's size limit to the competition's per-file limit (plus room for
the form) before anything reads the form, and a larger request is answered by the page itself with a clear message
(413), never the bare error page.
"""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   send_file, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

import sqlalchemy as sa

from accounts.permissions import can_manage_event
from competition import works
from competition.draw import codes_by_entrant
from competition.models import STATION_STAGE, Competition, Entrant, Round
from competition.work_models import DefenseBatch, WorkFile
from core.database import run_committed
from core.timezones import local_to_utc, utc_to_local
from core.types import utcnow
from events.forms import DATETIME_FORMATS, ConfirmForm, LocalDateTimeField, WholeNumberField
from events.views import get_managed_event
from extensions import db

bp = Blueprint("works", __name__)
MANAGE = "/manage/events/<int:event_id>/competitions/<int:competition_id>"
FORM_ROOM = 1024 * 1024  # what a multipart form carries beside the file (token, names, boundaries)
UPLOAD_ENDPOINTS = {"works.entrant", "works.participant"}


# ---------------------------------------------------------------- forms


def _max(n: int):
    return Length(max=n, message=_l("At most %(max)d characters."))


def kind_choices():
    return [(k, works.kind_label(k)) for k in ("pdf", "image", "office", "video")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WorkSettingsForm(FlaskForm):
    wanted = BooleanField(_l("This competition collects works (作品)"))
    deadline = LocalDateTimeField(_l("Deadline for submitting"), format=DATETIME_FORMATS, validators=[Optional()])
    kinds = MultiCheckboxField(_l("Accepted kinds"), choices=kind_choices, validate_choice=False)
    max_size_mb = WholeNumberField(_l("Largest file (MB)"), validators=[InputRequired(_l("Enter a number."))])
    max_files = WholeNumberField(_l("Works per entrant"), validators=[InputRequired(_l("Enter a number."))])
    instructions = TextAreaField(_l("Instructions for entrants"), validators=[Optional(), _max(2000)],
                                 description=_l("Shown above the upload form, e.g. what the work must contain."))


class UploadForm(FlaskForm):
    file = FileField(_l("File"))
    replace_id = HiddenField()


class LinkForm(FlaskForm):
    url = StringField(_l("Video link"), validators=[Optional(), _max(1000)],
                      description=_l("The address of the video (http:// or https://)."))
    replace_id = HiddenField()


class GenerateForm(FlaskForm):
    split = SelectField(_l("Split"), choices=[("batches", _l("into a number of batches")),
                                              ("per_batch", _l("into batches of a number of entrants"))])
    number = WholeNumberField(_l("How many"), validators=[InputRequired(_l("Enter a number."))])
    starts_at = LocalDateTimeField(_l("First batch starts"), format=DATETIME_FORMATS, validators=[Optional()])
    interval_minutes = WholeNumberField(_l("Minutes between batches"), validators=[Optional()])
    room = StringField(_l("Room"), validators=[Optional(), _max(100)])
    name_template = StringField(_l("Batch names"), default="第{n}批", validators=[Optional(), _max(40)],
                                description=_l("{n} is replaced by the batch's number."))
    group_id = SelectField(_l("Entrants"), coerce=int, validate_choice=False)
    order = SelectField(_l("Order"), choices=[("code", _l("By station number")),
                                              ("entry", _l("In the order of the entrants list"))])


class BatchForm(FlaskForm):
    name = StringField(_l("Batch name"), validators=[InputRequired(_l("Enter the batch's name.")), _max(60)])
    starts_at = LocalDateTimeField(_l("Starts"), format=DATETIME_FORMATS, validators=[Optional()])
    room = StringField(_l("Room"), validators=[Optional(), _max(100)])


class MoveForm(FlaskForm):
    entrant_id = WholeNumberField(validators=[InputRequired()])
    batch_id = WholeNumberField(validators=[Optional()])
    position = WholeNumberField(validators=[Optional()])


# ---------------------------------------------------------------- loading, access, units of work


def get_competition(event_id: int, competition_id: int) -> Competition:
    event = get_managed_event(event_id)  # 404 without a role in the event, 403 for staff and judges
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    return competition


def _owned_entrant(competition: Competition, entrant_id: int) -> Entrant:
    entrant = db.session.get(Entrant, entrant_id)
    if entrant is None or entrant.competition_id != competition.id:
        abort(404)
    return entrant


def _owned_round(competition: Competition, round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.competition_id != competition.id:
        abort(404)
    return round_


def run(action):
    """One use case as a write unit of work, committed (``core.database.run_committed``)."""
    return run_committed(db.session, action)


def perform(action, *, success: str | None = None):
    try:
        result = run(action)
    except works.WorkError as error:
        db.session.rollback()
        flash(error.message, "error")
        return None
    except IntegrityError:
        db.session.rollback()
        flash(_("This changed meanwhile; please try again."), "error")
        return None
    if success:
        flash(success, "success")
    return result if result is not None else True


def _attach(form, error: works.WorkError) -> int:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors") and not isinstance(field, HiddenField):
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")
    return error.status


def _private(response, *, cache: str = "private, no-store"):
    response = make_response(response)
    response.headers["Cache-Control"] = cache
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _size_limit_mb(app=None) -> int:
    app = app or current_app
    return int(app.config.get("WORKS_MAX_SIZE_MB") or works.MAX_SIZE_MB)


@bp.before_app_request
def _upload_limit() -> None:
    """Before the CSRF check or anything else reads the form: an upload route's request may be as large as the
    competition's per-file limit (plus the form); other requests keep the app's limit."""
    if request.endpoint not in UPLOAD_ENDPOINTS or request.method != "POST":
        return
    competition_id = (request.view_args or {}).get("competition_id")
    competition = db.session.get(Competition, competition_id) if isinstance(competition_id, int) else None
    limit_mb = works.get_settings(competition).max_size_mb if competition is not None else 1
    request.max_content_length = min(limit_mb, _size_limit_mb()) * works.MB + FORM_ROOM


def _move_to_front(app) -> None:
    """Run ``_upload_limit`` before the app's other before-request functions (CSRF, NUL stripping read the form)."""
    functions = app.before_request_funcs.setdefault(None, [])
    if _upload_limit in functions:
        functions.remove(_upload_limit)
    functions.insert(0, _upload_limit)


bp.record_once(lambda state: _move_to_front(state.app))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A request larger than allowed, on an upload page: the page again with the limit, status 413."""
    db.session.rollback()
    args = request.view_args or {}
    competition_id = args.get("competition_id")
    competition = db.session.get(Competition, competition_id) if isinstance(competition_id, int) else None
    limit = min(works.get_settings(competition).max_size_mb, _size_limit_mb()) if competition else _size_limit_mb()
    message = works.too_large(limit).message
    if request.endpoint == "works.participant" and competition is not None:
        registration, entrant = _participant_entrant(args.get("key", ""), competition)
        flash(message, "error")
        return _participant_page(registration, competition, entrant, args["key"], status=413)
    if request.endpoint == "works.entrant" and competition is not None and can_manage_event(current_user,
                                                                                             competition.event):
        entrant = _owned_entrant(competition, args.get("entrant_id"))
        flash(message, "error")
        return _entrant_page(competition, entrant, status=413)
    return render_template("errors/generic.html", status=413, message=message), 413


# ---------------------------------------------------------------- receiving an upload (organizer or participant)


def _receive(competition: Competition, entrant: Entrant, *, by_organizer: bool, actor) -> tuple[bool, int]:
    """Handle a POST of the upload page: a file or a video link. (done, status)."""
    kind = request.form.get("submit_kind", "file")
    now = utcnow()
    if kind == "link":
        form = LinkForm()
        if not form.validate_on_submit():
            return False, _invalid(form)
        replace_id = _replace_id(form.replace_id.data)
        try:
            run(lambda: works.record_link(db.session.get(Competition, competition.id),
                                          db.session.get(Entrant, entrant.id), form.url.data or "",
                                          actor=actor, now=now, by_organizer=by_organizer, replace_id=replace_id))
        except works.WorkError as error:
            db.session.rollback()
            flash(error.message, "error")
            return False, error.status
        flash(_("The video link has been saved."), "success")
        return True, 302
    form = UploadForm()
    if not form.validate_on_submit():
        return False, _invalid(form)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        flash(_("Choose a file to upload."), "error")
        return False, 422
    replace_id = _replace_id(form.replace_id.data)
    settings = works.get_settings(competition)
    limit_mb = min(settings.max_size_mb, _size_limit_mb())
    try:
        stored = works.store_stream(upload.stream, works.storage_directory(), limit_mb * works.MB)
    except works.WorkError as error:
        flash(error.message, "error")
        return False, error.status
    try:
        run(lambda: works.record_file(db.session.get(Competition, competition.id), db.session.get(Entrant, entrant.id),
                                      stored, upload.filename, actor=actor, now=now, by_organizer=by_organizer,
                                      replace_id=replace_id))
    except works.WorkError as error:
        db.session.rollback()
        stored.discard()
        flash(error.message, "error")
        return False, error.status
    except BaseException:
        db.session.rollback()
        stored.discard()
        raise
    flash(_("The work has been uploaded."), "success")
    return True, 302


def _invalid(form) -> int:
    if form.csrf_token.errors:
        flash(_("The form has expired or was sent from elsewhere. Please reload the page and try again."), "error")
        return 400
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")
    return 422


def _replace_id(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _work_rows(entrant_id: int) -> list[WorkFile]:
    return works.current_works(entrant_id)


# ---------------------------------------------------------------- organizers: settings and the list


def _settings_form(competition: Competition) -> WorkSettingsForm:
    settings = works.get_settings(competition)
    form = WorkSettingsForm(formdata=None)
    form.wanted.data = settings.wanted
    form.deadline.data = utc_to_local(settings.deadline, competition.event.timezone)
    form.kinds.data = list(settings.kinds or [])
    form.max_size_mb.data = settings.max_size_mb
    form.max_files.data = settings.max_files
    form.instructions.data = settings.instructions
    return form


def _index_page(competition: Competition, form: WorkSettingsForm, status: int = 200):
    from competition.services import list_entrants

    entrants = list_entrants(competition)
    rows = db.session.scalars(sa.select(WorkFile).where(WorkFile.competition_id == competition.id,
                                                        WorkFile.removed_at.is_(None))
                              .order_by(WorkFile.uploaded_at, WorkFile.id))
    by_entrant: dict[int, list[WorkFile]] = {}
    for work in rows:
        by_entrant.setdefault(work.entrant_id, []).append(work)
    settings = works.get_settings(competition)
    return render_template(
        "competition/works.html", event=competition.event, competition=competition, form=form,
        settings=settings, entrants=entrants, by_entrant=by_entrant, codes=codes_by_entrant(competition, STATION_STAGE),
        size_ceiling=_size_limit_mb(), kind_label=works.kind_label, now=utcnow(),
        submitted=sum(1 for e in entrants if by_entrant.get(e.id)),
    ), status


@bp.route(MANAGE + "/works")
@login_required
def index(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    return _index_page(competition, _settings_form(competition))


@bp.route(MANAGE + "/works/settings", methods=["POST"])
@login_required
def settings(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = WorkSettingsForm()
    if not form.validate_on_submit():
        return _index_page(competition, form, 400 if form.csrf_token.errors else 422)
    data = works.SettingsData(wanted=bool(form.wanted.data),
                              deadline=local_to_utc(form.deadline.data, competition.event.timezone),
                              kinds=list(form.kinds.data or []), max_size_mb=form.max_size_mb.data,
                              max_files=form.max_files.data, instructions=form.instructions.data or "")
    try:
        run(lambda: works.update_settings(db.session.get(Competition, competition.id), data, actor=current_user,
                                          now=utcnow(), app_limit_mb=_size_limit_mb()))
    except works.WorkError as error:
        db.session.rollback()
        return _index_page(competition, form, _attach(form, error))
    flash(_("Changes saved."), "success")
    return redirect(url_for("works.index", event_id=event_id, competition_id=competition_id))


def _entrant_page(competition: Competition, entrant: Entrant, status: int = 200):
    settings = works.get_settings(competition)
    codes = codes_by_entrant(competition, STATION_STAGE)
    users = {}
    history = works.work_history(entrant.id)
    from accounts.models import User

    ids = {w.uploaded_by_id for w in history if w.uploaded_by_id} | {w.removed_by_id for w in history if w.removed_by_id}
    if ids:
        users = {u.id: u.name for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    return _private(render_template(
        "competition/works_entrant.html", event=competition.event, competition=competition, entrant=entrant,
        code=codes.get(entrant.id), settings=settings, current=[w for w in history if w.removed_at is None],
        history=[w for w in history if w.removed_at is not None], users=users, upload_form=UploadForm(formdata=None),
        link_form=LinkForm(formdata=None), confirm_form=ConfirmForm(formdata=None), kind_label=works.kind_label,
        accept=",".join("." + e for e in works.accepted_extensions(settings.kinds or [])),
        limit_mb=min(settings.max_size_mb, _size_limit_mb()), late=works.deadline_passed(settings, utcnow()),
    ), cache="no-store"), status


@bp.route(MANAGE + "/works/entrants/<int:entrant_id>", methods=["GET", "POST"])
@login_required
def entrant(event_id: int, competition_id: int, entrant_id: int):
    competition = get_competition(event_id, competition_id)
    found = _owned_entrant(competition, entrant_id)
    if request.method == "POST":
        done, status = _receive(competition, found, by_organizer=True, actor=current_user)
        if done:
            return redirect(url_for("works.entrant", event_id=event_id, competition_id=competition_id,
                                    entrant_id=entrant_id))
        return _entrant_page(competition, found, status)
    return _entrant_page(competition, found)


@bp.route(MANAGE + "/works/<int:work_id>/remove", methods=["POST"])
@login_required
def remove(event_id: int, competition_id: int, work_id: int):
    competition = get_competition(event_id, competition_id)
    work = db.session.get(WorkFile, work_id)
    if work is None or work.competition_id != competition.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        perform(lambda: works.remove_work(db.session.get(WorkFile, work.id), actor=current_user, now=utcnow(),
                                          by_organizer=True), success=_("The work has been deleted."))
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("works.entrant", event_id=event_id, competition_id=competition_id,
                            entrant_id=work.entrant_id))


# ---------------------------------------------------------------- serving a work


def _send(work: WorkFile, code: str | None):
    if work.is_link:
        return _private(redirect(work.url), cache="no-store")
    path = works.path_of(work, works.storage_directory())
    if not path.is_file():
        abort(404)
    inline = work.kind.value in ("pdf", "image")
    response = send_file(path, mimetype=work.content_type or "application/octet-stream",
                         as_attachment=not inline, download_name=works.download_name(work, code), max_age=0,
                         conditional=True, etag=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if work.kind.value == "pdf":
        # the browser's PDF viewer: no scripts, no forms sent anywhere
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return response


@bp.route("/works/<int:work_id>")
@login_required
def file(work_id: int):
    """A work, for organizers of its event and for the judges assigned its entrant; 404 for everyone else (a
    removed work too). Named by the entrant's code."""
    work = db.session.get(WorkFile, work_id)
    if work is None or work.removed_at is not None:
        abort(404)
    competition = db.session.get(Competition, work.competition_id)
    if can_manage_event(current_user, competition.event):
        stage = STATION_STAGE
    elif works.judge_may_open(current_user, work):
        round_id = request.args.get("round", type=int)
        stage = works.judge_code_stage(current_user, work, round_id)
    else:
        abort(404)
    code = works.entrant_code(competition, work.entrant_id, stage)
    if code is None and not can_manage_event(current_user, competition.event):
        abort(404)  # a judge never receives a work whose code is not drawn yet
    if not can_manage_event(current_user, competition.event):
        from core.models import record_audit

        record_audit(actor=current_user, organization_id=competition.event.organization_id, action="works.open",
                     obj=work, now=utcnow(), competition=competition.id, entrant_id=work.entrant_id)
        db.session.commit()
    return _send(work, code)


# ---------------------------------------------------------------- participants (their sign-up's secret link)


def _participant_entrant(key: str, competition: Competition):
    from registration.models import RegistrationState
    from registration.services import find_by_manage_key

    registration = find_by_manage_key(key)
    if registration is None or registration.status == RegistrationState.CANCELLED:
        abort(404)
    found = db.session.scalar(sa.select(Entrant).where(Entrant.competition_id == competition.id,
                                                       Entrant.registration_id == registration.id))
    if found is None:
        abort(404)
    return registration, found


def _participant_competition(key: str, competition_id: int):
    competition = db.session.get(Competition, competition_id)
    if competition is None:
        abort(404)
    registration, found = _participant_entrant(key, competition)
    if not works.get_settings(competition).wanted:
        abort(404)
    return competition, registration, found


def _participant_page(registration, competition: Competition, entrant: Entrant, key: str, status: int = 200):
    settings = works.get_settings(competition)
    now = utcnow()
    return _private(render_template(
        "competition/works_participant.html", registration=registration, event=competition.event,
        competition=competition, entrant=entrant, key=key, settings=settings, current=works.current_works(entrant.id),
        open=works.participant_may_change(settings, now), upload_form=UploadForm(formdata=None),
        link_form=LinkForm(formdata=None), confirm_form=ConfirmForm(formdata=None), kind_label=works.kind_label,
        accept=",".join("." + e for e in works.accepted_extensions(settings.kinds or [])),
        limit_mb=min(settings.max_size_mb, _size_limit_mb()),
    )), status


@bp.route("/r/<key>/works/<int:competition_id>", methods=["GET", "POST"])
def participant(key: str, competition_id: int):
    competition, registration, found = _participant_competition(key, competition_id)
    if request.method == "POST":
        done, status = _receive(competition, found, by_organizer=False, actor=None)
        if done:
            return redirect(url_for("works.participant", key=key, competition_id=competition_id))
        return _participant_page(registration, competition, found, key, status)
    return _participant_page(registration, competition, found, key)


@bp.route("/r/<key>/works/<int:competition_id>/<int:work_id>/remove", methods=["POST"])
def participant_remove(key: str, competition_id: int, work_id: int):
    competition, _registration, found = _participant_competition(key, competition_id)
    work = db.session.get(WorkFile, work_id)
    if work is None or work.entrant_id != found.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        perform(lambda: works.remove_work(db.session.get(WorkFile, work.id), actor=None, now=utcnow(),
                                          by_organizer=False), success=_("The work has been deleted."))
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("works.participant", key=key, competition_id=competition_id))


@bp.route("/r/<key>/works/<int:competition_id>/<int:work_id>")
def participant_file(key: str, competition_id: int, work_id: int):
    competition, _registration, found = _participant_competition(key, competition_id)
    work = db.session.get(WorkFile, work_id)
    if work is None or work.entrant_id != found.id or work.removed_at is not None:
        abort(404)
    return _send(work, works.entrant_code(competition, found.id, STATION_STAGE))


@bp.app_template_global()
def registration_works(registration_id: int) -> list[dict]:
    """For the sign-up page: the competitions in which this sign-up is an entrant and which collect works."""
    from competition.work_models import WorkSettings

    rows = db.session.execute(
        sa.select(Competition, Entrant.id, WorkSettings).join(Entrant, Entrant.competition_id == Competition.id)
        .join(WorkSettings, WorkSettings.competition_id == Competition.id)
        .where(Entrant.registration_id == registration_id, WorkSettings.wanted.is_(True))
        .order_by(Competition.position, Competition.id)).all()
    now = utcnow()
    return [{"competition": c, "settings": s, "count": len(works.current_works(entrant_id)),
             "open": works.participant_may_change(s, now)} for c, entrant_id, s in rows]


# ---------------------------------------------------------------- the defense schedule (organizers)


def _generate_form(competition: Competition, formdata=None) -> GenerateForm:
    form = GenerateForm(formdata=formdata) if formdata is not None else GenerateForm(formdata=None)
    form.group_id.choices = [(0, _("Every entrant"))] + [(g.id, g.name) for g in competition.groups]
    return form


def _defense_page(round_: Round, *, generate_form: GenerateForm | None = None, batch_form: BatchForm | None = None,
                  status: int = 200):
    competition = db.session.get(Competition, round_.competition_id)
    rows, rest = works.schedule(round_)
    entrants = {e.id: e for e in db.session.scalars(sa.select(Entrant).where(
        Entrant.competition_id == competition.id))}
    if generate_form is None:
        generate_form = _generate_form(competition)
        if not generate_form.number.data:
            generate_form.number.data = max(1, min(len(entrants), 10)) if entrants else 1
        generate_form.interval_minutes.data = 30
    return render_template(
        "competition/defense.html", event=competition.event, competition=competition, round=round_, rows=rows,
        rest=rest, entrants=entrants, codes=codes_by_entrant(competition, STATION_STAGE),
        generate_form=generate_form, batch_form=batch_form or BatchForm(formdata=None), move_form=MoveForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None), works_count=_works_count(competition),
    ), status


def _works_count(competition: Competition) -> dict[int, int]:
    return dict(db.session.execute(sa.select(WorkFile.entrant_id, sa.func.count(WorkFile.id)).where(
        WorkFile.competition_id == competition.id, WorkFile.removed_at.is_(None)).group_by(WorkFile.entrant_id)).all())


@bp.route(MANAGE + "/rounds/<int:round_id>/defense")
@login_required
def defense(event_id: int, competition_id: int, round_id: int):
    competition = get_competition(event_id, competition_id)
    return _defense_page(_owned_round(competition, round_id))


@bp.route(MANAGE + "/rounds/<int:round_id>/defense/generate", methods=["POST"])
@login_required
def generate(event_id: int, competition_id: int, round_id: int):
    competition = get_competition(event_id, competition_id)
    round_ = _owned_round(competition, round_id)
    form = _generate_form(competition, request.form)
    if not form.validate_on_submit():
        return _defense_page(round_, generate_form=form, status=400 if form.csrf_token.errors else 422)
    number = form.number.data
    data = works.GenerateData(
        batches=number if form.split.data == "batches" else None,
        per_batch=number if form.split.data == "per_batch" else None,
        starts_at=local_to_utc(form.starts_at.data, competition.event.timezone),
        interval_minutes=form.interval_minutes.data, room=form.room.data or "",
        name_template=form.name_template.data or "第{n}批", group_id=form.group_id.data or None,
        order=form.order.data)
    try:
        batches = run(lambda: works.generate_schedule(db.session.get(Round, round_.id), data, actor=current_user,
                                                      now=utcnow()))
    except works.WorkError as error:
        db.session.rollback()
        if error.field == "per_batch":
            error.field = "number"
        if error.field == "batches":
            error.field = "number"
        return _defense_page(round_, generate_form=form, status=_attach(form, error))
    flash(_("The schedule has been made: %(n)d batches.", n=len(batches)), "success")
    return redirect(url_for("works.defense", event_id=event_id, competition_id=competition_id, round_id=round_id))


@bp.route(MANAGE + "/rounds/<int:round_id>/defense/batches", methods=["POST"])
@login_required
def add_batch(event_id: int, competition_id: int, round_id: int):
    competition = get_competition(event_id, competition_id)
    round_ = _owned_round(competition, round_id)
    form = BatchForm()
    if not form.validate_on_submit():
        return _defense_page(round_, batch_form=form, status=400 if form.csrf_token.errors else 422)
    try:
        run(lambda: works.add_batch(db.session.get(Round, round_.id), name=form.name.data,
                                    starts_at=local_to_utc(form.starts_at.data, competition.event.timezone),
                                    room=form.room.data or "", actor=current_user, now=utcnow()))
    except works.WorkError as error:
        db.session.rollback()
        return _defense_page(round_, batch_form=form, status=_attach(form, error))
    flash(_("Batch added."), "success")
    return redirect(url_for("works.defense", event_id=event_id, competition_id=competition_id, round_id=round_id))


def _owned_batch(competition: Competition, batch_id: int) -> DefenseBatch:
    batch = db.session.get(DefenseBatch, batch_id)
    if batch is None or batch.competition_id != competition.id:
        abort(404)
    return batch


@bp.route(MANAGE + "/defense/batches/<int:defense_batch_id>", methods=["GET", "POST"])
@login_required
def edit_batch(event_id: int, competition_id: int, defense_batch_id: int):
    competition = get_competition(event_id, competition_id)
    batch = _owned_batch(competition, defense_batch_id)
    round_ = db.session.get(Round, batch.round_id)
    tz = competition.event.timezone
    form = BatchForm()
    status = 200
    if form.is_submitted():
        if form.validate_on_submit():
            try:
                run(lambda: works.update_batch(db.session.get(DefenseBatch, batch.id), name=form.name.data,
                                               starts_at=local_to_utc(form.starts_at.data, tz),
                                               room=form.room.data or "", actor=current_user, now=utcnow()))
            except works.WorkError as error:
                db.session.rollback()
                status = _attach(form, error)
            else:
                flash(_("Changes saved."), "success")
                return redirect(url_for("works.defense", event_id=event_id, competition_id=competition_id,
                                        round_id=round_.id))
        else:
            status = 400 if form.csrf_token.errors else 422
    else:
        form.name.data, form.room.data = batch.name, batch.room
        form.starts_at.data = utc_to_local(batch.starts_at, tz)
    return render_template("competition/defense_batch.html", event=competition.event, competition=competition,
                           round=round_, batch=batch, form=form), status


@bp.route(MANAGE + "/defense/batches/<int:defense_batch_id>/delete", methods=["POST"])
@login_required
def delete_batch(event_id: int, competition_id: int, defense_batch_id: int):
    competition = get_competition(event_id, competition_id)
    batch = _owned_batch(competition, defense_batch_id)
    round_id = batch.round_id
    if ConfirmForm().validate_on_submit():
        perform(lambda: works.delete_batch(db.session.get(DefenseBatch, batch.id), actor=current_user, now=utcnow()),
                success=_("Batch deleted."))
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("works.defense", event_id=event_id, competition_id=competition_id, round_id=round_id))


@bp.route(MANAGE + "/rounds/<int:round_id>/defense/move", methods=["POST"])
@login_required
def move(event_id: int, competition_id: int, round_id: int):
    competition = get_competition(event_id, competition_id)
    round_ = _owned_round(competition, round_id)
    form = MoveForm()
    target = url_for("works.defense", event_id=event_id, competition_id=competition_id, round_id=round_id)
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again.") if form.csrf_token.errors else
              _("Choose an entrant and a batch."), "error")
        return redirect(target)
    perform(lambda: works.move_entrant(db.session.get(Round, round_.id), form.entrant_id.data,
                                       form.batch_id.data or None, form.position.data, actor=current_user,
                                       now=utcnow()), success=_("The schedule has been changed."))
    return redirect(target + (f"#entrant-{form.entrant_id.data}" if form.entrant_id.data else ""))


@bp.route(MANAGE + "/rounds/<int:round_id>/defense/print")
@login_required
def defense_print(event_id: int, competition_id: int, round_id: int):
    """The schedule to print: with names and units (organizers), or by code only (``?codes=1``, for judges)."""
    competition = get_competition(event_id, competition_id)
    round_ = _owned_round(competition, round_id)
    rows, _rest = works.schedule(round_)
    by_code = request.args.get("codes") == "1"
    entrants = {} if by_code else {e.id: e for e in db.session.scalars(sa.select(Entrant).where(
        Entrant.competition_id == competition.id))}
    from judging.services import round_settings

    stage = round_settings(round_).code_stage if by_code else STATION_STAGE
    return _private(render_template("competition/defense_print.html", event=competition.event,
                                    competition=competition, round=round_, rows=rows, entrants=entrants,
                                    codes=codes_by_entrant(competition, stage), by_code=by_code),
                    cache="no-store")
