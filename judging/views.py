"""Judging pages.

Organizers (``/manage/events/<event_id>/competitions/<competition_id>/…``, organizers and admins of the event; staff
and judges 403, anyone without a role there 404): judges with their units (回避), invitation links, panels, the
share of criteria per judge, the assignment matrix with every exclusion and who covers it, the balanced suggestion,
and each round's judging settings.

Judges (``/judging/…``): their rounds, and the tablet scoring page — an HTML shell whose data comes from the scores
API (``api/scores.py``) and whose script is ``static/js/scoring.js``. Nothing on a judge's page names an entrant.

Anyone holding an invitation link (``/judging/invitations/<invitation>``) sets the judge's password there.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user
from sqlalchemy.exc import IntegrityError

from accounts.permissions import can_see_event_admin
from competition.models import Competition, CriterionKind, Entrant, Group, Round
from core.database import run_committed
from core.types import utcnow
from events.forms import ConfirmForm
from events.models import Event
from events.views import get_managed_event
from extensions import db
from judging import services
from judging.forms import (
    InvitationForm,
    JudgeEditForm,
    JudgeForm,
    PanelForm,
    PanelJudgeForm,
    RoundSettingsForm,
)
from judging.models import JudgeProfile, JudgeRole, Panel, PanelJudge
from judging.services import JudgingError

bp = Blueprint("judging", __name__)
MANAGE = "/manage/events/<int:event_id>/competitions/<int:competition_id>"


# ---------------------------------------------------------------- loading and access


def get_competition(event_id: int, competition_id: int) -> Competition:
    event = get_managed_event(event_id)  # 404 without a role in the event, 403 for staff and judges
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    return competition


def get_profile(event_id: int, competition_id: int, profile_id: int) -> JudgeProfile:
    competition = get_competition(event_id, competition_id)
    profile = db.session.get(JudgeProfile, profile_id)
    if profile is None or profile.competition_id != competition.id:
        abort(404)
    return profile


def get_panel(event_id: int, competition_id: int, panel_id: int) -> Panel:
    competition = get_competition(event_id, competition_id)
    panel = db.session.get(Panel, panel_id)
    if panel is None or panel.competition_id != competition.id:
        abort(404)
    return panel


def get_member(event_id: int, competition_id: int, panel_id: int, member_id: int) -> PanelJudge:
    panel = get_panel(event_id, competition_id, panel_id)
    member = db.session.get(PanelJudge, member_id)
    if member is None or member.panel_id != panel.id:
        abort(404)
    return member


def run(action):
    """One use case as a write unit of work, committed (``core.database.run_committed``)."""
    return run_committed(db.session, action)


def perform(action, *, success: str | None = None):
    """``run`` and flash the outcome; None (with the message flashed) when the service refused."""
    try:
        result = run(action)
    except (JudgingError, IntegrityError) as error:
        db.session.rollback()
        flash(getattr(error, "message", None) or _("This changed meanwhile; please try again."), "error")
        return None
    if success:
        flash(success, "success")
    return result if result is not None else True


def attach_error(form, error: JudgingError) -> int:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")
    return error.status


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def reason_texts(reasons) -> str:
    return "、".join(services.conflict_reason_text(r) for r in reasons)


# ---------------------------------------------------------------- judges (organizers)


def _judges_page(competition: Competition, form: JudgeForm, status: int = 200):
    profiles = services.list_judges(competition)
    panels = {}
    for panel in services.list_panels(competition):
        for member in panel.judges:
            panels.setdefault(member.profile_id, []).append(panel)
    entrant_names = {e.id: e.name for e in db.session.query(Entrant).filter_by(competition_id=competition.id)}
    invitable = {p.id: services.can_invite(p.user) for p in profiles}
    return render_template("judging/judges.html", event=competition.event, competition=competition, form=form,
                           profiles=profiles, panels=panels, entrant_names=entrant_names, invitable=invitable,
                           confirm_form=ConfirmForm()), status


def _invitation_page(competition: Competition, profile: JudgeProfile, token: str):
    link = url_for("judging.accept_invitation", invitation=token, _external=True)
    return _no_store(render_template("judging/invitation_link.html", event=competition.event,
                                     competition=competition, profile=profile, link=link,
                                     days=services.INVITATION_DAYS))


@bp.route(MANAGE + "/judges", methods=["GET", "POST"])
@login_required
def judges(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = JudgeForm()
    if request.method == "GET":
        return _judges_page(competition, form)
    if not form.validate_on_submit():
        return _judges_page(competition, form, 422)
    if form.account.data == "password" and not form.password.data:
        form.password.errors = list(form.password.errors) + [_("Enter the password, or choose the invitation link.")]
        return _judges_page(competition, form, 422)
    data = services.JudgeData(
        name=form.name.data, login=form.login.data, units=services.split_units(form.units.data),
        role=JudgeRole(form.role.data), limit_to_event=bool(form.limit_to_event.data),
        password=form.password.data if form.account.data == "password" else None)
    try:
        added = run(lambda: services.add_judge(db.session.get(Competition, competition.id), data, actor=current_user,
                                               now=utcnow()))
    except JudgingError as error:
        db.session.rollback()
        return _judges_page(competition, form, attach_error(form, error))
    profile = db.session.get(JudgeProfile, added.profile.id)
    if added.invitation_token:
        return _invitation_page(competition, profile, added.invitation_token)
    if added.created_account:
        flash(_("%(name)s can now log in with the account %(login)s and the password you set.",
                name=profile.user.name, login=profile.user.login), "success")
    else:
        flash(_("%(name)s already had an account: they log in with their own password.", name=profile.user.name),
              "success")
    return redirect(url_for("judging.judges", event_id=event_id, competition_id=competition_id))


def _edit_page(profile: JudgeProfile, form: JudgeEditForm, status: int = 200):
    competition = db.session.get(Competition, profile.competition_id)
    entrants = list(db.session.query(Entrant).filter_by(competition_id=competition.id)
                    .order_by(Entrant.position, Entrant.id))
    groups = {g.id: g.name for g in competition.groups}
    identity = services.judge_identity(profile)
    conflicts = [(e, services.planner.conflict_reasons(identity, services.entrant_identity(e))) for e in entrants]
    conflicts = [(e, reasons) for e, reasons in conflicts if reasons]
    return render_template("judging/judge_form.html", event=competition.event, competition=competition,
                           profile=profile, form=form, entrants=entrants, groups=groups, conflicts=conflicts,
                           coached=profile.coached_entrant_ids, invitable=services.can_invite(profile.user),
                           confirm_form=ConfirmForm(), reason_texts=reason_texts), status


@bp.route(MANAGE + "/judges/<int:profile_id>", methods=["GET", "POST"])
@login_required
def edit_judge(event_id: int, competition_id: int, profile_id: int):
    profile = get_profile(event_id, competition_id, profile_id)
    form = JudgeEditForm(obj=None)
    if request.method == "GET":
        form.name.data = profile.user.name
        form.units.data = "\n".join(profile.units or [])
        form.role.data = profile.role.value
        return _edit_page(profile, form)
    coached = []
    for raw in request.form.getlist("coached"):
        if not raw.isdigit():
            form.units.errors = [_("Choose entrants of this competition.")]
            return _edit_page(profile, form, 422)
        coached.append(int(raw))
    if not form.validate_on_submit():
        return _edit_page(profile, form, 422)
    try:
        removed = run(lambda: services.update_judge(
            db.session.get(JudgeProfile, profile.id), name=form.name.data, units=services.split_units(form.units.data),
            coached_entrant_ids=coached, role=JudgeRole(form.role.data), actor=current_user, now=utcnow()))
    except JudgingError as error:
        db.session.rollback()
        return _edit_page(db.session.get(JudgeProfile, profile.id), form, attach_error(form, error))
    flash(_("Saved."), "success")
    if removed:
        flash(ngettext("%(num)d assignment became a conflict and was removed.",
                       "%(num)d assignments became conflicts and were removed.", removed), "warning")
    return redirect(url_for("judging.edit_judge", event_id=event_id, competition_id=competition_id,
                            profile_id=profile_id))


@bp.route(MANAGE + "/judges/<int:profile_id>/invite", methods=["POST"])
@login_required
def invite_judge(event_id: int, competition_id: int, profile_id: int):
    profile = get_profile(event_id, competition_id, profile_id)
    competition = db.session.get(Competition, competition_id)
    back = redirect(url_for("judging.edit_judge", event_id=event_id, competition_id=competition_id,
                            profile_id=profile_id))
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return back
    token = perform(lambda: services.invite_judge(db.session.get(JudgeProfile, profile.id), actor=current_user,
                                                  now=utcnow()))
    if token is None:
        return back
    return _invitation_page(competition, db.session.get(JudgeProfile, profile_id), token)


@bp.route(MANAGE + "/judges/<int:profile_id>/remove", methods=["POST"])
@login_required
def remove_judge(event_id: int, competition_id: int, profile_id: int):
    profile = get_profile(event_id, competition_id, profile_id)
    if ConfirmForm().validate_on_submit() and perform(
            lambda: services.remove_judge(db.session.get(JudgeProfile, profile.id), actor=current_user, now=utcnow()),
            success=_("The judge was taken off this competition.")):
        return redirect(url_for("judging.judges", event_id=event_id, competition_id=competition_id))
    return redirect(url_for("judging.edit_judge", event_id=event_id, competition_id=competition_id,
                            profile_id=profile_id))


# ---------------------------------------------------------------- panels (organizers)


def _panel_form(competition: Competition, formdata=None, panel: Panel | None = None) -> PanelForm:
    form = PanelForm(formdata=formdata) if formdata is not None else PanelForm()
    form.round_id.choices = [(r.id, r.name) for r in competition.rounds]
    form.group_id.choices = [(0, _("All groups"))] + [(g.id, g.name) for g in competition.groups]
    if panel is not None and request.method == "GET":
        form.name.data, form.round_id.data = panel.name, panel.round_id
        form.group_id.data = panel.group_id or 0
        form.judges_per_entrant.data = panel.judges_per_entrant
    return form


def _panel_data(form: PanelForm) -> services.PanelData:
    return services.PanelData(name=form.name.data or "", round_id=form.round_id.data,
                              group_id=form.group_id.data or None, judges_per_entrant=form.judges_per_entrant.data)


def _panels_page(competition: Competition, form: PanelForm, status: int = 200):
    panels = services.list_panels(competition)
    by_round = {r.id: [] for r in competition.rounds}
    for panel in panels:
        by_round.setdefault(panel.round_id, []).append(panel)
    assigned = {p.id: len(services.panel_assignments(p)) for p in panels}
    groups = {g.id: g.name for g in competition.groups}
    settings_forms = {}
    for round_ in competition.rounds:
        settings = services.round_settings(round_)
        settings_form = RoundSettingsForm(formdata=None, prefix=f"r{round_.id}")
        settings_form.requires_roll_call.data = settings.requires_roll_call
        settings_form.code_stage.data = settings.code_stage
        settings_forms[round_.id] = settings_form
    return render_template("judging/panels.html", event=competition.event, competition=competition, form=form,
                           by_round=by_round, assigned=assigned, groups=groups, settings_forms=settings_forms,
                           judges=len(services.list_judges(competition))), status


@bp.route(MANAGE + "/panels", methods=["GET", "POST"])
@login_required
def panels(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = _panel_form(competition)
    if request.method == "GET":
        return _panels_page(competition, form)
    if not competition.rounds:
        flash(_("Add a round first."), "error")
        return _panels_page(competition, form, 422)
    if not form.validate_on_submit():
        return _panels_page(competition, form, 422)
    try:
        panel = run(lambda: services.create_panel(db.session.get(Competition, competition.id), _panel_data(form),
                                                  actor=current_user, now=utcnow()))
    except JudgingError as error:
        db.session.rollback()
        return _panels_page(competition, form, attach_error(form, error))
    flash(_("Panel created. Now add its judges."), "success")
    return redirect(url_for("judging.panel", event_id=event_id, competition_id=competition_id, panel_id=panel.id))


def _panel_page(panel: Panel, form: PanelForm, status: int = 200):
    competition = db.session.get(Competition, panel.competition_id)
    overview = services.panel_overview(panel)
    criteria = services.round_criteria(overview.round)
    on_panel = {m.profile_id for m in overview.members}
    add_form = PanelJudgeForm(formdata=None)
    add_form.profile_id.choices = [(p.id, p.user.name) for p in services.list_judges(competition)
                                   if p.id not in on_panel]
    group = db.session.get(Group, panel.group_id) if panel.group_id else None
    plan = overview.plan
    members = {m.id: m for m in overview.members}
    suggested = {e.id: [members[j] for j in plan.judges_of(e.id)] for e in overview.entrants}
    return render_template("judging/panel.html", event=competition.event, competition=competition, panel=panel,
                           group=group, form=form, add_form=add_form, overview=overview, criteria=criteria,
                           suggested=suggested, confirm_form=ConfirmForm(), reason_texts=reason_texts,
                           measurement=CriterionKind.MEASUREMENT), status


@bp.route(MANAGE + "/panels/<int:panel_id>", methods=["GET", "POST"])
@login_required
def panel(event_id: int, competition_id: int, panel_id: int):
    panel = get_panel(event_id, competition_id, panel_id)
    competition = db.session.get(Competition, competition_id)
    form = _panel_form(competition, panel=panel)
    if request.method == "GET":
        return _panel_page(panel, form)
    if not form.validate_on_submit():
        return _panel_page(panel, form, 422)
    try:
        run(lambda: services.update_panel(db.session.get(Panel, panel.id), _panel_data(form), actor=current_user,
                                          now=utcnow()))
    except JudgingError as error:
        db.session.rollback()
        return _panel_page(db.session.get(Panel, panel.id), form, attach_error(form, error))
    flash(_("Saved."), "success")
    return redirect(url_for("judging.panel", event_id=event_id, competition_id=competition_id, panel_id=panel_id))


def _back_to_panel(event_id: int, competition_id: int, panel_id: int):
    return redirect(url_for("judging.panel", event_id=event_id, competition_id=competition_id, panel_id=panel_id))


@bp.route(MANAGE + "/panels/<int:panel_id>/delete", methods=["POST"])
@login_required
def delete_panel(event_id: int, competition_id: int, panel_id: int):
    panel = get_panel(event_id, competition_id, panel_id)
    if ConfirmForm().validate_on_submit() and perform(
            lambda: services.delete_panel(db.session.get(Panel, panel.id), actor=current_user, now=utcnow()),
            success=_("Panel deleted.")):
        return redirect(url_for("judging.panels", event_id=event_id, competition_id=competition_id))
    return _back_to_panel(event_id, competition_id, panel_id)


def _share_ids(panel: Panel, share: str) -> list[int]:
    criteria = services.round_criteria(db.session.get(Round, panel.round_id))
    if share == "measurement":
        return [c.id for c in criteria if c.kind == CriterionKind.MEASUREMENT]
    if share == "judgement":
        return [c.id for c in criteria if c.kind == CriterionKind.JUDGEMENT]
    return []


@bp.route(MANAGE + "/panels/<int:panel_id>/judges", methods=["POST"])
@login_required
def add_panel_judge(event_id: int, competition_id: int, panel_id: int):
    panel = get_panel(event_id, competition_id, panel_id)
    form = PanelJudgeForm()
    form.profile_id.choices = [(p.id, p.user.name) for p in services.list_judges(db.session.get(Competition,
                                                                                               competition_id))]
    if not form.validate_on_submit():
        flash(_("Choose a judge."), "error")
        return _back_to_panel(event_id, competition_id, panel_id)
    share = _share_ids(panel, form.share.data)
    if form.share.data != "all" and not share:
        flash(_("This round's rubric has no criteria of that kind."), "error")
        return _back_to_panel(event_id, competition_id, panel_id)

    def action():
        profile = db.session.get(JudgeProfile, form.profile_id.data)
        return services.add_panel_judge(db.session.get(Panel, panel.id), profile, share, actor=current_user,
                                        now=utcnow())

    perform(action, success=_("Judge added to the panel. Assign entrants below (or use the suggestion)."))
    return _back_to_panel(event_id, competition_id, panel_id)


@bp.route(MANAGE + "/panels/<int:panel_id>/judges/<int:member_id>/share", methods=["POST"])
@login_required
def panel_judge_share(event_id: int, competition_id: int, panel_id: int, member_id: int):
    member = get_member(event_id, competition_id, panel_id, member_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return _back_to_panel(event_id, competition_id, panel_id)
    raw = request.form.getlist("criteria")
    if not all(value.isdigit() for value in raw):
        flash(_("Choose criteria of this round's rubric."), "error")
        return _back_to_panel(event_id, competition_id, panel_id)
    ids = [int(value) for value in raw]
    all_ids = [c.id for c in services.round_criteria(db.session.get(Round, member.panel.round_id))]
    if sorted(set(ids)) == sorted(all_ids):
        ids = []  # every criterion: stored as "all", so criteria added later are included
    perform(lambda: services.set_judge_share(db.session.get(PanelJudge, member.id), ids, actor=current_user,
                                             now=utcnow()), success=_("Saved."))
    return _back_to_panel(event_id, competition_id, panel_id)


@bp.route(MANAGE + "/panels/<int:panel_id>/judges/<int:member_id>/remove", methods=["POST"])
@login_required
def remove_panel_judge(event_id: int, competition_id: int, panel_id: int, member_id: int):
    member = get_member(event_id, competition_id, panel_id, member_id)
    if ConfirmForm().validate_on_submit():
        perform(lambda: services.remove_panel_judge(db.session.get(PanelJudge, member.id), actor=current_user,
                                                    now=utcnow()), success=_("The judge left the panel."))
    return _back_to_panel(event_id, competition_id, panel_id)


@bp.route(MANAGE + "/panels/<int:panel_id>/assign", methods=["POST"])
@login_required
def assign(event_id: int, competition_id: int, panel_id: int):
    panel = get_panel(event_id, competition_id, panel_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return _back_to_panel(event_id, competition_id, panel_id)
    pairs = set()
    for raw in request.form.getlist("pair"):
        member, _sep, entrant = raw.partition(":")
        if not (member.isdigit() and entrant.isdigit()) or len(raw) > 30:
            flash(_("Choose judges of this panel and entrants of its group."), "error")
            return _back_to_panel(event_id, competition_id, panel_id)
        pairs.add((int(member), int(entrant)))
    result = perform(lambda: services.set_assignments(db.session.get(Panel, panel.id), pairs, actor=current_user,
                                                      now=utcnow()))
    if result is not None:
        added, removed = result
        flash(_("Assignments saved: %(added)d added, %(removed)d removed.", added=added, removed=removed), "success")
    return _back_to_panel(event_id, competition_id, panel_id)


@bp.route(MANAGE + "/panels/<int:panel_id>/suggest", methods=["POST"])
@login_required
def apply_suggestion(event_id: int, competition_id: int, panel_id: int):
    panel = get_panel(event_id, competition_id, panel_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return _back_to_panel(event_id, competition_id, panel_id)
    result = perform(lambda: services.apply_suggestion(db.session.get(Panel, panel.id), actor=current_user,
                                                       now=utcnow()))
    if result is not None:
        added, removed = result
        flash(_("Balanced assignment applied: %(added)d added, %(removed)d removed.", added=added, removed=removed),
              "success")
    return _back_to_panel(event_id, competition_id, panel_id)


@bp.route(MANAGE + "/rounds/<int:round_id>/judging-settings", methods=["POST"])
@login_required
def round_settings(event_id: int, competition_id: int, round_id: int):
    competition = get_competition(event_id, competition_id)
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.competition_id != competition.id:
        abort(404)
    form = RoundSettingsForm(prefix=f"r{round_id}")
    back = redirect(url_for("judging.panels", event_id=event_id, competition_id=competition_id))
    if not form.validate_on_submit():
        flash(_("Choose which code judges see."), "error")
        return back
    perform(lambda: services.update_round_settings(
        db.session.get(Round, round_id), requires_roll_call=bool(form.requires_roll_call.data),
        code_stage=form.code_stage.data, actor=current_user, now=utcnow()), success=_("Saved."))
    return back


# ---------------------------------------------------------------- the judge's pages


@bp.route("/judging/")
@login_required
def home():
    """The judge's rounds (across events), each with its progress; a link to the tablet page; and, per competition,
    the units they declared for conflicts of interest (they may add more)."""
    profiles = services.judge_profiles_of(current_user)
    competitions = {p.id: db.session.get(Competition, p.competition_id) for p in profiles}
    return render_template("judging/home.html", rounds=services.judge_rounds(current_user), profiles=profiles,
                           competitions=competitions, form=ConfirmForm())


@bp.route("/judging/events/<int:event_id>/competitions/<int:competition_id>/units", methods=["POST"])
@login_required
def declare_units(event_id: int, competition_id: int):
    """A judge declares more units (回避) for a competition; only additions (removing is the organizer's)."""
    event = db.session.get(Event, event_id)
    competition = db.session.get(Competition, competition_id)
    if event is None or not can_see_event_admin(current_user, event) or competition is None \
            or competition.event_id != event.id:
        abort(404)
    profile = services.judge_profile(competition, current_user.id)
    if profile is None:
        abort(403)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("judging.home"))
    units = services.split_units(request.form.get("units", "")[:4000])
    if not units:
        flash(_("Enter at least one unit."), "error")
        return redirect(url_for("judging.home"))
    removed = perform(lambda: services.declare_units(db.session.get(JudgeProfile, profile.id), units,
                                                     actor=current_user, now=utcnow()),
                      success=_("Thank you: you will not be given entrants of these units."))
    if isinstance(removed, int) and removed:
        flash(ngettext("%(num)d entrant was taken off your list.", "%(num)d entrants were taken off your list.",
                       removed), "info")
    return redirect(url_for("judging.home"))


@bp.route("/judging/events/<int:event_id>/rounds/<int:round_id>")
@login_required
def tablet(event_id: int, round_id: int):
    """The tablet scoring page: a shell; the data comes from the sheet API. No entrant identity here."""
    event = db.session.get(Event, event_id)
    if event is None or not can_see_event_admin(current_user, event):
        abort(404)
    round_ = db.session.get(Round, round_id)
    if round_ is None or db.session.get(Competition, round_.competition_id).event_id != event.id:
        abort(404)
    try:
        seat = services.judge_seat(current_user, round_id)
    except JudgingError as error:
        abort(error.status)
    api = {
        "sheet": url_for("api.judge_sheet", round_id=round_id),
        "score": url_for("api.put_score"),
        "submit": url_for("api.submit_entrant", round_id=round_id, entrant_id=0).replace("/0/submit", "/{id}/submit"),
    }
    return _no_store(render_template("judging/tablet.html", event=event, competition=seat.competition,
                                     round=seat.round, api=api))


@bp.route("/judging/invitations/<invitation>", methods=["GET", "POST"])
def accept_invitation(invitation: str):
    """Set the password with an invitation link (public: the link is the credential), then log in."""
    now = utcnow()
    try:
        found = services.find_invitation(invitation, now=now)
    except JudgingError as error:
        return render_template("judging/invitation_invalid.html", message=error.message), error.status
    user = found.user
    form = InvitationForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _no_store((render_template("judging/invitation.html", form=form, user=user), status))
    try:
        accepted = run(lambda: services.accept_invitation(invitation, form.password.data, now=now))
    except JudgingError as error:
        db.session.rollback()
        if error.field == "password":
            form.password.errors = list(form.password.errors) + [error.message]
            return _no_store((render_template("judging/invitation.html", form=form, user=user), error.status))
        return render_template("judging/invitation_invalid.html", message=error.message), error.status
    login_user(db.session.get(type(accepted), accepted.id))
    flash(_("Your password is set. Welcome, %(name)s.", name=accepted.name), "success")
    return redirect(url_for("judging.home"))


@bp.app_template_global("is_judge")
def is_judge(user) -> bool:
    """Whether to show the judge's navigation link (any judge or chief judge membership)."""
    from accounts.permissions import JUDGING_ROLES

    return bool(getattr(user, "is_authenticated", False)) and any(
        m.role in JUDGING_ROLES for m in getattr(user, "memberships", []))

