"""Organizer pages of the competition set-up: competitions of an event, groups, rounds, rubrics, entrants, roll
call (检录), the draw (抽签) and the workbook. Organizers and admins of the event only (check-in staff and judges:
403; anyone without a role in the event's organization: 404). Views are thin: each change is one service call in
one unit of work, committed here."""
from __future__ import annotations

import os
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from competition import draw as draws
from competition import services, workbook
from judging import workbook as judging_workbook  # judging's sheets (评委, 成绩) of the workbook
from competition.forms import (
    CompetitionForm,
    CriterionForm,
    DrawForm,
    EntrantForm,
    GroupForm,
    ModuleForm,
    RollCallForm,
    RollCallScanForm,
    RoundForm,
    WorkbookConfirmForm,
    WorkbookImportForm,
    aggregation_choices,
    award_basis_choices,
    normalization_choices,
    rounding_choices,
)
from competition.models import (
    RESULT_STAGE,
    STAGES,
    STATION_STAGE,
    AggregationMethod,
    Competition,
    Criterion,
    CriterionKind,
    Entrant,
    Group,
    Module,
    Normalization,
    RollCallSource,
    Round,
    RoundState,
    Rounding,
)
from competition.permissions import can_see_draw
from core.database import run_committed
from core.timezones import local_to_utc, utc_to_local
from core.types import utcnow
from events.forms import ConfirmForm
from events.views import get_managed_event
from extensions import db
from registration.spreadsheets import XLSX_MIME, SpreadsheetError

bp = Blueprint("competition", __name__, url_prefix="/manage/events/<int:event_id>/competitions")


@bp.app_template_filter("plain_decimal")
def plain_decimal(value) -> str:
    """10, 0.5, 2.25: a stored Decimal without trailing zeros (0 for an empty sum)."""
    return services.format_decimal(value) if value is not None else ""


# ---------------------------------------------------------------- loading and access


def get_competition(event_id: int, competition_id: int) -> Competition:
    event = get_managed_event(event_id)  # 404 without a role in the event, 403 for staff and judges
    competition = db.session.get(Competition, competition_id)
    if competition is None or competition.event_id != event.id:
        abort(404)
    return competition


def _owned(model, object_id: int, competition: Competition, attribute: str = "competition_id"):
    found = db.session.get(model, object_id)
    if found is None or getattr(found, attribute) != competition.id:
        abort(404)
    return found


def get_round(event_id: int, competition_id: int, round_id: int) -> Round:
    return _owned(Round, round_id, get_competition(event_id, competition_id))


def get_module(event_id: int, competition_id: int, module_id: int) -> Module:
    competition = get_competition(event_id, competition_id)
    module = db.session.get(Module, module_id)
    if module is None or module.rubric.competition_id != competition.id:
        abort(404)
    return module


def get_criterion(event_id: int, competition_id: int, criterion_id: int) -> Criterion:
    competition = get_competition(event_id, competition_id)
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.module.rubric.competition_id != competition.id:
        abort(404)
    return criterion


# ---------------------------------------------------------------- units of work


def run(action):
    """One use case as a write unit of work, committed (``core.database.run_committed``)."""
    return run_committed(db.session, action)


def perform(action, *, success: str | None = None) -> bool:
    """``run`` and flash the outcome; False (with the message flashed) when the service refused."""
    try:
        run(action)
    except services.CompetitionError as error:
        db.session.rollback()
        flash(error.message, "error")
        return False
    if success:
        flash(success, "success")
    return True


def attach_error(form, error: services.CompetitionError) -> int:
    """Show a service error next to its field (or at the top); return the status the page answers with."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")
    return error.status


def form_status(form, error_status: int | None = None) -> int:
    return error_status or (422 if form.errors else 200)


def save_form(form, action):
    """Validate, then run the use case; (result, None) on success, (None, status) when the page is shown again."""
    if not form.validate_on_submit():
        return None, form_status(form)
    try:
        return run(action), None
    except services.CompetitionError as error:
        db.session.rollback()
        return None, attach_error(form, error)


def _back(default: str) -> str:
    from urllib.parse import urlsplit

    target = request.referrer
    if target:
        parts = urlsplit(target)
        if parts.netloc == request.host and parts.path.startswith("/manage/"):
            return target
    return default


# ---------------------------------------------------------------- competitions


def _competition_data(form: CompetitionForm) -> services.CompetitionData:
    return services.CompetitionData(
        title=form.title.data or "", description=form.description.data or "", places=form.places.data,
        rounding=Rounding(form.rounding.data), aggregation=AggregationMethod(form.aggregation.data),
        trim_threshold=form.trim_threshold.data, normalization=Normalization(form.normalization.data),
        normalization_min_scores=form.normalization_min_scores.data,
        award_rules={"basis": form.award_basis.data, "rounding": form.award_rounding.data,
                     "tiers": services.parse_award_tiers(form.award_tiers.data or "")},
        groups=[line.strip() for line in (form.groups.data or "").splitlines() if line.strip()],
    )


def _fill_competition_form(form: CompetitionForm, competition: Competition) -> None:
    form.title.data = competition.title
    form.description.data = competition.description
    form.places.data = competition.places
    form.rounding.data = competition.rounding.value
    form.aggregation.data = competition.aggregation.value
    form.trim_threshold.data = competition.trim_threshold
    form.normalization.data = competition.normalization.value
    form.normalization_min_scores.data = competition.normalization_min_scores
    rules = competition.award_rules or {}
    form.award_basis.data = rules.get("basis", "share")
    form.award_rounding.data = rules.get("rounding", "half_up")
    form.award_tiers.data = services.award_tiers_text(rules)


@bp.route("")
@login_required
def index(event_id: int):
    event = get_managed_event(event_id)
    competitions = services.list_competitions(event)
    counts = {c.id: len(services.list_entrants(c)) for c in competitions}
    return render_template("competition/index.html", event=event, competitions=competitions, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create(event_id: int):
    event = get_managed_event(event_id)
    form = CompetitionForm()
    if not form.is_submitted():
        from registration.services import get_settings

        form.award_tiers.data = services.award_tiers_text(services.validate_award_rules(None))
        form.groups.data = "\n".join(get_settings(event).groups or [])
    def create_strict():  # made on this page: the strict judging process (严格评审流程) by default
        from judging import process

        made = services.create_competition(db.session.get(type(event), event.id), _competition_data(form),
                                           actor=current_user, now=utcnow())
        process.set_strict(made, True, actor=current_user, now=utcnow(), check_role=False)
        return made

    competition, status = save_form(form, create_strict)
    if competition is not None:
        flash(_("The competition has been created. Add its rounds and rubric, then its entrants."), "success")
        return redirect(url_for("competition.detail", event_id=event.id, competition_id=competition.id))
    return render_template("competition/form.html", event=event, competition=None, form=form), status


@bp.route("/<int:competition_id>")
@login_required
def detail(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    rounds = []
    for round_ in competition.rounds:
        rubric = services.rubric_for(round_)
        rounds.append({"round": round_, "rubric": rubric, "criteria": sum(len(m.criteria) for m in rubric.modules),
                       "total": services.rubric_total(rubric), "problems": services.rubric_problems(rubric),
                       "present": len(services.present_entrant_ids(round_))})
    carried = [r for r in competition.rounds if r.carries_scores_forward]
    weights_off = bool(carried) and (any(r.weight is None for r in carried) or sum(r.weight for r in carried) != 100)
    entrants = services.list_entrants(competition)
    per_group = {g.id: sum(1 for e in entrants if e.group_id == g.id) for g in competition.groups}
    return render_template(
        "competition/detail.html", event=competition.event, competition=competition, rounds=rounds,
        entrants=len(entrants), per_group=per_group, without_group=sum(1 for e in entrants if e.group_id is None),
        missing_station=services.missing_codes(competition, STATION_STAGE), station_draw=draws.last_draw(competition, STATION_STAGE),
        scoring_started=services.scoring_has_started(competition), weights_off=weights_off,
        group_form=GroupForm(formdata=None), confirm_form=ConfirmForm(),
        aggregation_names=dict(aggregation_choices()), normalization_names=dict(normalization_choices()),
        rounding_names=dict(rounding_choices()), award_basis_names=dict(award_basis_choices()),
    )


@bp.route("/<int:competition_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = CompetitionForm()
    if not form.is_submitted():
        _fill_competition_form(form, competition)
    result, status = save_form(form, lambda: services.update_competition(
        db.session.get(Competition, competition.id), _competition_data(form), actor=current_user, now=utcnow()))
    if result is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("competition.detail", event_id=event_id, competition_id=competition.id))
    return render_template("competition/form.html", event=competition.event, competition=competition, form=form), status


# ---------------------------------------------------------------- groups


@bp.route("/<int:competition_id>/groups", methods=["POST"])
@login_required
def add_group(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = GroupForm()
    target = url_for("competition.detail", event_id=event_id, competition_id=competition.id) + "#groups"
    if not form.validate_on_submit():
        flash(next(iter(form.name.errors), _("Enter the group name.")), "error")
        return redirect(target)
    perform(lambda: services.add_group(db.session.get(Competition, competition.id), form.name.data,
                                       actor=current_user, now=utcnow()),
            success=_("Group added."))
    return redirect(target)


@bp.route("/<int:competition_id>/groups/<int:group_id>/edit", methods=["GET", "POST"])
@login_required
def edit_group(event_id: int, competition_id: int, group_id: int):
    competition = get_competition(event_id, competition_id)
    group = _owned(Group, group_id, competition)
    form = GroupForm()
    if not form.is_submitted():
        form.name.data = group.name
    result, status = save_form(form, lambda: services.rename_group(db.session.get(Group, group.id), form.name.data,
                                                                   actor=current_user, now=utcnow()))
    if result is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("competition.detail", event_id=event_id, competition_id=competition.id) + "#groups")
    return render_template("competition/simple_form.html", event=competition.event, competition=competition,
                           form=form, title=_("Rename group"), cancel=url_for(
                               "competition.detail", event_id=event_id, competition_id=competition.id)), status


@bp.route("/<int:competition_id>/groups/<int:group_id>/delete", methods=["POST"])
@login_required
def delete_group(event_id: int, competition_id: int, group_id: int):
    competition = get_competition(event_id, competition_id)
    group = _owned(Group, group_id, competition)
    perform(lambda: services.delete_group(db.session.get(Group, group.id), actor=current_user, now=utcnow()),
            success=_("Group deleted."))
    return redirect(url_for("competition.detail", event_id=event_id, competition_id=competition.id) + "#groups")


# ---------------------------------------------------------------- rounds


def _round_data(form: RoundForm, tz: str) -> services.RoundData:
    return services.RoundData(
        name=form.name.data or "", starts_at=local_to_utc(form.starts_at.data, tz),
        ends_at=local_to_utc(form.ends_at.data, tz), carries_scores_forward=bool(form.carries_scores_forward.data),
        weight=(form.weight.data or "").strip() or None,
    )


@bp.route("/<int:competition_id>/rounds/new", methods=["GET", "POST"])
@login_required
def create_round(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = RoundForm()
    if not form.is_submitted() and not competition.rounds:
        form.name.data = "初赛"
    tz = competition.event.timezone
    round_, status = save_form(form, lambda: services.add_round(
        db.session.get(Competition, competition.id), _round_data(form, tz), actor=current_user, now=utcnow()))
    if round_ is not None:
        flash(_("Round added. Now set up its rubric."), "success")
        return redirect(url_for("competition.rubric", event_id=event_id, competition_id=competition.id,
                                round_id=round_.id))
    return render_template("competition/round_form.html", event=competition.event, competition=competition,
                           form=form, round=None), status


@bp.route("/<int:competition_id>/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@login_required
def edit_round(event_id: int, competition_id: int, round_id: int):
    round_ = get_round(event_id, competition_id, round_id)
    competition = round_.competition
    tz = competition.event.timezone
    form = RoundForm()
    if not form.is_submitted():
        form.name.data = round_.name
        form.starts_at.data = utc_to_local(round_.starts_at, tz)
        form.ends_at.data = utc_to_local(round_.ends_at, tz)
        form.carries_scores_forward.data = round_.carries_scores_forward
        form.weight.data = services.format_decimal(round_.weight)
    result, status = save_form(form, lambda: services.update_round(
        db.session.get(Round, round_.id), _round_data(form, tz), actor=current_user, now=utcnow()))
    if result is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("competition.detail", event_id=event_id, competition_id=competition.id) + "#rounds")
    return render_template("competition/round_form.html", event=competition.event, competition=competition,
                           form=form, round=round_), status


@bp.route("/<int:competition_id>/rounds/<int:round_id>/delete", methods=["POST"])
@login_required
def delete_round(event_id: int, competition_id: int, round_id: int):
    round_ = get_round(event_id, competition_id, round_id)
    perform(lambda: services.delete_round(db.session.get(Round, round_.id), actor=current_user, now=utcnow()),
            success=_("Round deleted."))
    return redirect(url_for("competition.detail", event_id=event_id, competition_id=competition_id) + "#rounds")


@bp.route("/<int:competition_id>/rounds/<int:round_id>/start", methods=["POST"])
@login_required
def start_scoring(event_id: int, competition_id: int, round_id: int):
    round_ = get_round(event_id, competition_id, round_id)
    perform(lambda: services.start_scoring(db.session.get(Round, round_.id), actor=current_user, now=utcnow()),
            success=_("Scoring has started in this round: its rubric is locked and the draw is final."))
    return redirect(url_for("competition.detail", event_id=event_id, competition_id=competition_id) + "#rounds")


# ---------------------------------------------------------------- rubric


def _rubric_page(round_: Round, module_form: ModuleForm | None = None, status: int = 200):
    competition = round_.competition
    rubric = services.rubric_for(round_)
    return render_template(
        "competition/rubric.html", event=competition.event, competition=competition, round=round_, rubric=rubric,
        locked=rubric.locked, problems=services.rubric_problems(rubric), total=services.rubric_total(rubric),
        module_form=module_form or ModuleForm(formdata=None), confirm_form=ConfirmForm(),
        fmt=services.format_decimal,
    ), status


@bp.route("/<int:competition_id>/rounds/<int:round_id>/rubric")
@login_required
def rubric(event_id: int, competition_id: int, round_id: int):
    return _rubric_page(get_round(event_id, competition_id, round_id))


def _module_data(form: ModuleForm) -> services.ModuleData:
    return services.ModuleData(code=form.code.data or "", name=form.name.data or "",
                               weight=(form.weight.data or "").strip() or None)


@bp.route("/<int:competition_id>/rounds/<int:round_id>/rubric/modules", methods=["POST"])
@login_required
def add_module(event_id: int, competition_id: int, round_id: int):
    round_ = get_round(event_id, competition_id, round_id)
    form = ModuleForm()
    module, status = save_form(form, lambda: services.add_module(
        services.rubric_for(db.session.get(Round, round_.id)), _module_data(form), actor=current_user, now=utcnow()))
    if module is not None:
        flash(_("Module %(code)s added.", code=module.code), "success")
        return redirect(url_for("competition.rubric", event_id=event_id, competition_id=competition_id,
                                round_id=round_.id) + f"#module-{module.id}")
    return _rubric_page(db.session.get(Round, round_.id), form, status)


@bp.route("/<int:competition_id>/rubric/modules/<int:module_id>/edit", methods=["GET", "POST"])
@login_required
def edit_module(event_id: int, competition_id: int, module_id: int):
    module = get_module(event_id, competition_id, module_id)
    round_ = module.rubric.round
    form = ModuleForm()
    if not form.is_submitted():
        form.code.data, form.name.data = module.code, module.name
        form.weight.data = services.format_decimal(module.weight)
    result, status = save_form(form, lambda: services.update_module(
        db.session.get(Module, module.id), _module_data(form), actor=current_user, now=utcnow()))
    back = url_for("competition.rubric", event_id=event_id, competition_id=competition_id, round_id=round_.id)
    if result is not None:
        flash(_("Changes saved."), "success")
        return redirect(back + f"#module-{module.id}")
    return render_template("competition/simple_form.html", event=round_.competition.event,
                           competition=round_.competition, form=form, round=round_,
                           title=_("Module %(code)s", code=module.code), cancel=back), status


@bp.route("/<int:competition_id>/rubric/modules/<int:module_id>/delete", methods=["POST"])
@login_required
def delete_module(event_id: int, competition_id: int, module_id: int):
    module = get_module(event_id, competition_id, module_id)
    round_id = module.rubric.round_id
    perform(lambda: services.delete_module(db.session.get(Module, module.id), actor=current_user, now=utcnow()),
            success=_("Module deleted."))
    return redirect(url_for("competition.rubric", event_id=event_id, competition_id=competition_id, round_id=round_id))


def _criterion_data(form: CriterionForm) -> services.CriterionData:
    return services.CriterionData(
        code=form.code.data or "", name=form.name.data or "", description=form.description.data or "",
        maximum=form.maximum.data or "", step=form.step.data or "", kind=CriterionKind(form.kind.data),
        full_or_zero=bool(form.full_or_zero.data), ladder=bool(form.ladder.data), levels=form.levels(),
    )


def _criterion_page(module: Module, form: CriterionForm, criterion: Criterion | None, status: int):
    round_ = module.rubric.round
    return render_template("competition/criterion_form.html", event=round_.competition.event,
                           competition=round_.competition, round=round_, module=module, criterion=criterion,
                           form=form), status


@bp.route("/<int:competition_id>/rubric/modules/<int:module_id>/criteria/new", methods=["GET", "POST"])
@login_required
def create_criterion(event_id: int, competition_id: int, module_id: int):
    module = get_module(event_id, competition_id, module_id)
    form = CriterionForm()
    if not form.is_submitted():
        form.code.data = f"{module.code}{len(module.criteria) + 1}"
    criterion, status = save_form(form, lambda: services.add_criterion(
        db.session.get(Module, module.id), _criterion_data(form), actor=current_user, now=utcnow()))
    if criterion is not None:
        flash(_("Criterion %(code)s added.", code=criterion.code), "success")
        return redirect(url_for("competition.rubric", event_id=event_id, competition_id=competition_id,
                                round_id=module.rubric.round_id) + f"#module-{module.id}")
    return _criterion_page(db.session.get(Module, module.id), form, None, status)


@bp.route("/<int:competition_id>/rubric/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@login_required
def edit_criterion(event_id: int, competition_id: int, criterion_id: int):
    criterion = get_criterion(event_id, competition_id, criterion_id)
    form = CriterionForm()
    if not form.is_submitted():
        form.code.data, form.name.data, form.description.data = criterion.code, criterion.name, criterion.description
        form.maximum.data = services.format_decimal(criterion.maximum)
        form.step.data = services.format_decimal(criterion.step)
        form.kind.data = criterion.kind.value
        form.full_or_zero.data, form.ladder.data = criterion.full_or_zero, criterion.ladder
        levels = list(criterion.levels or []) + [""] * 4
        form.level0.data, form.level1.data, form.level2.data, form.level3.data = levels[:4]
    result, status = save_form(form, lambda: services.update_criterion(
        db.session.get(Criterion, criterion.id), _criterion_data(form), actor=current_user, now=utcnow()))
    if result is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("competition.rubric", event_id=event_id, competition_id=competition_id,
                                round_id=criterion.module.rubric.round_id) + f"#module-{criterion.module_id}")
    fresh = db.session.get(Criterion, criterion.id)
    return _criterion_page(fresh.module, form, fresh, status)


@bp.route("/<int:competition_id>/rubric/criteria/<int:criterion_id>/delete", methods=["POST"])
@login_required
def delete_criterion(event_id: int, competition_id: int, criterion_id: int):
    criterion = get_criterion(event_id, competition_id, criterion_id)
    round_id, module_id = criterion.module.rubric.round_id, criterion.module_id
    perform(lambda: services.delete_criterion(db.session.get(Criterion, criterion.id), actor=current_user,
                                              now=utcnow()),
            success=_("Criterion deleted."))
    return redirect(url_for("competition.rubric", event_id=event_id, competition_id=competition_id,
                            round_id=round_id) + f"#module-{module_id}")


# ---------------------------------------------------------------- entrants


@bp.route("/<int:competition_id>/entrants")
@login_required
def entrants(event_id: int, competition_id: int):
    from registration.models import Registration, RegistrationState

    competition = get_competition(event_id, competition_id)
    group_id = request.args.get("group", type=int)
    if group_id not in {g.id for g in competition.groups}:
        group_id = None
    listed = services.list_entrants(competition, group_id)
    approved = db.session.scalar(db.select(db.func.count(Registration.id)).where(
        Registration.event_id == competition.event_id, Registration.status == RegistrationState.APPROVED)) or 0
    linked = db.session.scalar(db.select(db.func.count(Entrant.id)).where(
        Entrant.competition_id == competition.id, Entrant.registration_id.is_not(None))) or 0
    return render_template(
        "competition/entrants.html", event=competition.event, competition=competition, entrants=listed,
        group_id=group_id, groups={g.id: g.name for g in competition.groups}, approved=approved, linked=linked,
        confirm_form=ConfirmForm(), scoring_started=services.scoring_has_started(competition),
        drawn=set(draws.codes_by_entrant(competition)),
    )


@bp.route("/<int:competition_id>/entrants/from-signups", methods=["POST"])
@login_required
def add_from_signups(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        outcome = run(lambda: services.add_entrants_from_registrations(
            db.session.get(Competition, competition.id), actor=current_user, now=utcnow()))
    except services.CompetitionError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        if outcome.added:
            flash(ngettext("%(num)d entrant added from the approved sign-ups.",
                           "%(num)d entrants added from the approved sign-ups.", len(outcome.added)), "success")
        else:
            flash(_("No new approved sign-ups: every one is an entrant already."), "info")
        if outcome.groups_created:
            flash(_("Groups created from the sign-ups: %(groups)s.", groups="、".join(outcome.groups_created)), "info")
    return redirect(url_for("competition.entrants", event_id=event_id, competition_id=competition.id))


def _entrant_form(competition: Competition) -> EntrantForm:
    form = EntrantForm()
    form.group_id.choices = ([(0, _("(no group)"))] if not competition.groups else []) + \
        [(g.id, g.name) for g in competition.groups]
    return form


def _entrant_data(form: EntrantForm) -> services.EntrantData:
    return services.EntrantData(
        name=form.name.data or "", unit=form.unit.data or "", group_id=form.group_id.data or None,
        is_team=bool(form.is_team.data), members=services.split_names(form.members.data),
        coaches=services.split_names(form.coaches.data), phone=form.phone.data or "",
    )


@bp.route("/<int:competition_id>/entrants/new", methods=["GET", "POST"])
@login_required
def create_entrant(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = _entrant_form(competition)
    entrant, status = save_form(form, lambda: services.add_entrant(
        db.session.get(Competition, competition.id), _entrant_data(form), actor=current_user, now=utcnow()))
    if entrant is not None:
        flash(_("Entrant added."), "success")
        return redirect(url_for("competition.entrants", event_id=event_id, competition_id=competition.id))
    return render_template("competition/entrant_form.html", event=competition.event, competition=competition,
                           form=form, entrant=None), status


@bp.route("/<int:competition_id>/entrants/<int:entrant_id>/edit", methods=["GET", "POST"])
@login_required
def edit_entrant(event_id: int, competition_id: int, entrant_id: int):
    competition = get_competition(event_id, competition_id)
    entrant = _owned(Entrant, entrant_id, competition)
    form = _entrant_form(competition)
    if not form.is_submitted():
        form.name.data, form.unit.data, form.group_id.data = entrant.name, entrant.unit, entrant.group_id or 0
        form.is_team.data, form.phone.data = entrant.is_team, entrant.phone
        form.members.data, form.coaches.data = "、".join(entrant.members or []), "、".join(entrant.coaches or [])
    result, status = save_form(form, lambda: services.update_entrant(
        db.session.get(Entrant, entrant.id), _entrant_data(form), actor=current_user, now=utcnow()))
    if result is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("competition.entrants", event_id=event_id, competition_id=competition.id))
    return render_template("competition/entrant_form.html", event=competition.event, competition=competition,
                           form=form, entrant=entrant), status


@bp.route("/<int:competition_id>/entrants/<int:entrant_id>/delete", methods=["POST"])
@login_required
def delete_entrant(event_id: int, competition_id: int, entrant_id: int):
    competition = get_competition(event_id, competition_id)
    entrant = _owned(Entrant, entrant_id, competition)
    perform(lambda: services.delete_entrant(db.session.get(Entrant, entrant.id), actor=current_user, now=utcnow()),
            success=_("Entrant removed."))
    return redirect(url_for("competition.entrants", event_id=event_id, competition_id=competition.id))


# ---------------------------------------------------------------- roll call (检录)


@bp.route("/<int:competition_id>/rounds/<int:round_id>/roll-call")
@login_required
def roll_call(event_id: int, competition_id: int, round_id: int):
    round_ = get_round(event_id, competition_id, round_id)
    competition = round_.competition
    group_id = request.args.get("group", type=int)
    if group_id not in {g.id for g in competition.groups}:
        group_id = None
    listed = services.list_entrants(competition, group_id)
    calls = services.roll_call_for(round_)
    present = sum(1 for e in listed if calls.get(e.id) is not None and calls[e.id].present)
    return render_template(
        "competition/roll_call.html", event=competition.event, competition=competition, round=round_,
        entrants=listed, calls=calls, present=present, group_id=group_id,
        groups={g.id: g.name for g in competition.groups}, form=RollCallForm(formdata=None),
        scan_form=RollCallScanForm(formdata=None), locked=round_.state == RoundState.LOCKED,
    )


@bp.route("/<int:competition_id>/rounds/<int:round_id>/roll-call/<int:entrant_id>", methods=["POST"])
@login_required
def set_roll_call(event_id: int, competition_id: int, round_id: int, entrant_id: int):
    round_ = get_round(event_id, competition_id, round_id)
    entrant = _owned(Entrant, entrant_id, round_.competition)
    form = RollCallForm()
    back = _back(url_for("competition.roll_call", event_id=event_id, competition_id=competition_id,
                         round_id=round_.id))
    if not form.validate_on_submit() or form.present.data not in ("1", "0"):
        flash(_("Choose present or absent."), "error")
        return redirect(back)
    present = form.present.data == "1"
    perform(lambda: services.set_roll_call(db.session.get(Entrant, entrant.id), db.session.get(Round, round_.id),
                                           present, actor=current_user, now=utcnow()),
            success=(_("%(name)s is present.", name=entrant.name) if present
                     else _("%(name)s is marked absent.", name=entrant.name)))
    return redirect(back.split("#")[0] + f"#entrant-{entrant.id}")


@bp.route("/<int:competition_id>/rounds/<int:round_id>/roll-call/scan", methods=["POST"])
@login_required
def roll_call_scan(event_id: int, competition_id: int, round_id: int):
    """A ticket's QR code read by a handheld scanner (it types the code and Enter) or typed by hand."""
    from registration.tickets import ticket_keys
    from registration.tokens import TokenError, parse_ticket

    round_ = get_round(event_id, competition_id, round_id)
    form = RollCallScanForm()
    back = url_for("competition.roll_call", event_id=event_id, competition_id=competition_id, round_id=round_.id)
    if not form.validate_on_submit():
        flash(_("Scan or type the ticket code."), "error")
        return redirect(back)
    try:
        claims = parse_ticket(form.token.data, keys=ticket_keys())
    except TokenError:
        flash(_("This is not a valid ticket for this event."), "error")
        return redirect(back)
    if claims.event_id != event_id:
        flash(_("This ticket is for another event."), "error")
        return redirect(back)
    try:
        outcomes = run(lambda: services.mark_present_by_registration(
            round_.competition.event, claims.registration_id, round_id=round_.id, actor=current_user, now=utcnow(),
            source=RollCallSource.SCAN))
    except services.CompetitionError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    if not outcomes:
        flash(_("This ticket's sign-up is not an entrant of this competition."), "warning")
    else:
        name = outcomes[0].entrant.name
        flash(_("%(name)s is present.", name=name) if outcomes[0].changed
              else _("%(name)s was already marked present.", name=name),
              "success" if outcomes[0].changed else "info")
    return redirect(back)


# ---------------------------------------------------------------- the draw (抽签)


@bp.route("/<int:competition_id>/draw")
@login_required
def draw_page(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    if not can_see_draw(current_user, competition):
        abort(403)
    forms = {}
    for stage in STAGES:
        previous = draws.last_draw(competition, stage)
        form = DrawForm(formdata=None)
        form.code_prefix.data = previous.prefix if previous else draws.DEFAULT_PREFIX[stage]
        form.width.data = previous.width if previous else None
        forms[stage] = form
    from accounts.models import User

    last = {stage: draws.last_draw(competition, stage) for stage in STAGES}
    drawers = {stage: getattr(db.session.get(User, d.drawn_by_id), "name", "") for stage, d in last.items()
               if d is not None and d.drawn_by_id}
    return render_template(
        "competition/draw.html", event=competition.event, competition=competition, forms=forms, draws=last,
        drawers=drawers,
        missing={stage: services.missing_codes(competition, stage) for stage in STAGES},
        entrants=len(services.list_entrants(competition)), mapping=draws.sealed_mapping(competition),
        groups={g.id: g.name for g in competition.groups}, scoring_started=services.scoring_has_started(competition),
        STATION_STAGE=STATION_STAGE, RESULT_STAGE=RESULT_STAGE,
    )


@bp.route("/<int:competition_id>/draw/<int:stage>", methods=["POST"])
@login_required
def do_draw(event_id: int, competition_id: int, stage: int):
    competition = get_competition(event_id, competition_id)
    if not can_see_draw(current_user, competition):
        abort(403)
    if stage not in STAGES:
        abort(404)
    form = DrawForm()
    back = url_for("competition.draw_page", event_id=event_id, competition_id=competition.id)
    if not form.validate_on_submit():
        errors = form.code_prefix.errors or form.width.errors
        flash(errors[0] if errors else _("The form has expired. Please try again."), "error")
        return redirect(back)
    only_missing = form.only_missing.data == "1"
    try:
        outcome = run(lambda: draws.draw(
            db.session.get(Competition, competition.id), stage, actor=current_user, now=utcnow(),
            prefix=None if only_missing else (form.code_prefix.data or ""), width=form.width.data,
            only_missing=only_missing))
    except services.CompetitionError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    if only_missing:
        flash(ngettext("%(num)d entrant without a code got one.", "%(num)d entrants without a code got one.",
                       outcome.drawn), "success")
    elif outcome.redo:
        flash(_("The draw was redone: every entrant has a new code."), "success")
    else:
        flash(_("Drawn: every entrant has a code."), "success")
    if outcome.cleared_result_codes:
        flash(_("The second draw was cleared, since it mapped the old station numbers. Draw it again."), "warning")
    return redirect(back)


# ---------------------------------------------------------------- the workbook


def _download_name(competition: Competition, suffix: str) -> str:
    title = "".join(c for c in competition.title if c not in '\\/:*?"<>|\r\n\t').strip()[:60] or "competition"
    return f"{title}-{suffix}.xlsx"


def _xlsx(content: bytes, name: str):
    response = send_file(BytesIO(content), mimetype=XLSX_MIME, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:competition_id>/workbook/template.xlsx")
@login_required
def workbook_template(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    return _xlsx(workbook.template_workbook(), _download_name(competition, "导入模板"))


@bp.route("/<int:competition_id>/workbook/export.xlsx")
@login_required
def workbook_export(event_id: int, competition_id: int):
    """The rubric and the entrants, phone numbers unmasked: organizers only, and each export is logged."""
    competition = get_competition(event_id, competition_id)
    content = workbook.export_workbook(competition)
    count = len(services.list_entrants(competition))
    run(lambda: services.audit_competition(current_user, db.session.get(Competition, competition.id),
                                "competition.workbook_export", utcnow(), entrants=count))
    return _xlsx(content, _download_name(competition, "赛项"))


def _pending() -> workbook.PendingWorkbooks:
    return workbook.PendingWorkbooks(workbook.pending_directory(
        current_app.instance_path, current_app.config.get("COMPETITION_IMPORT_DIR")))


def _preview(competition: Competition, plan: workbook.Plan, token: str, filename: str, *, status: int = 200,
             error: str | None = None):
    return render_template(
        "competition/workbook_import.html", stage="preview", event=competition.event, competition=competition,
        plan=plan, token=token, filename=filename, error=error,
        confirm_form=WorkbookConfirmForm(formdata=None, token=token), problem_message=workbook.problem_message,
        notice_message=workbook.notice_message,
        columns={"rubric": [(k, v[0]) for k, v in workbook.RUBRIC_COLUMNS.items()],
                 "entrants": [(k, v[0]) for k, v in workbook.ENTRANT_COLUMNS.items()],
                 **judging_workbook.preview_columns()},  # judging's sheets
    ), status


@bp.route("/<int:competition_id>/workbook/import", methods=["GET", "POST"])
@login_required
def workbook_import(event_id: int, competition_id: int):
    """Upload the workbook, then see every row with its problems. Nothing is saved until the organizer confirms,
    and only a workbook without problems can be confirmed."""
    competition = get_competition(event_id, competition_id)
    form = WorkbookImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read(workbook.MAX_BYTES + 1)
        filename = os.path.basename(upload.filename or "")[:200]
        try:
            sheets = workbook.read_workbook(filename, content)
        except SpreadsheetError as error:
            form.file.errors = [workbook.file_message(error)]
        else:
            plan = workbook.check_workbook(competition, sheets)
            token = _pending().save_sheets(competition_id=competition.id, user_id=current_user.id,
                                           filename=filename, sheets=sheets, now=utcnow())
            return _preview(competition, plan, token, filename)  # a preview, with or without problems
    return render_template("competition/workbook_import.html", stage="upload", event=competition.event,
                           competition=competition, form=form,
                           max_mb=workbook.MAX_BYTES // (1024 * 1024)), 422 if form.errors else 200


@bp.route("/<int:competition_id>/workbook/import/confirm", methods=["POST"])
@login_required
def workbook_confirm(event_id: int, competition_id: int):
    competition = get_competition(event_id, competition_id)
    form = WorkbookConfirmForm()
    store = _pending()
    pending = None
    if form.validate_on_submit():
        pending = store.load_sheets(form.token.data, competition_id=competition.id, user_id=current_user.id,
                                    now=utcnow())
    if pending is None:
        flash(_("This upload has expired or was already imported. Upload the file again."), "warning")
        return redirect(url_for("competition.workbook_import", event_id=event_id, competition_id=competition.id))
    filename, sheets = pending
    try:
        outcome = run(lambda: workbook.import_workbook(db.session.get(Competition, competition.id), sheets,
                                                       actor=current_user, now=utcnow(), filename=filename))
    except workbook.WorkbookImportError as error:
        db.session.rollback()
        return _preview(db.session.get(Competition, competition.id), error.plan, form.token.data, filename,
                        status=error.status, error=error.message)
    except services.CompetitionError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("competition.workbook_import", event_id=event_id, competition_id=competition.id))
    store.discard(form.token.data)
    parts = []
    if outcome.rounds:
        parts.append(_("rubrics of %(rounds)s (%(n)d criteria)", rounds="、".join(outcome.rounds), n=outcome.criteria))
    if outcome.entrants:
        parts.append(ngettext("%(num)d entrant", "%(num)d entrants", outcome.entrants))
    parts.extend(judging_workbook.outcome_parts(outcome.judging))  # judging's sheets
    flash(_("Imported from %(file)s: %(what)s.", file=filename, what="; ".join(parts) or _("nothing")), "success")
    return redirect(url_for("competition.detail", event_id=event_id, competition_id=competition.id))
