"""Organizer pages of sign-ups: the list with counts, filters and bulk actions, a sign-up's detail, approve,
reject, settings, the Excel export and the import of the sheets units send."""
from __future__ import annotations

import os
from dataclasses import dataclass
from io import BytesIO

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from core.database import run_write
from core.types import utcnow
from events.models import Event
from events.views import get_managed_event
from extensions import db
from registration import imports, services, spreadsheets
from registration.forms import (
    ID_MESSAGES,
    PHONE_MESSAGES,
    RegistrationBulkForm,
    RegistrationImportConfirmForm,
    RegistrationImportForm,
    RegistrationSettingsForm,
    RejectForm,
)
from registration.models import (
    Registration,
    RegistrationKind,
    RegistrationSession,
    RegistrationState,
)
from registration.views import bp, perform

MAX_PAGE = 200
MAX_BULK = 500  # sign-ups one bulk action may touch
MAX_UNIT_SUGGESTIONS = 300


# ---------------------------------------------------------------- the list


@dataclass
class ListFilters:
    """The list's filters, read from the query string; unknown values are ignored, never an error.

    Check-in does not exist yet. When it does, it adds ``checked_in`` ("yes" / "no") here: one more field, a clause
    in ``apply`` (EXISTS over its check-in table) and a select in templates/registration/list.html."""

    status: str = ""
    q: str = ""
    group: str = ""
    session: int | None = None
    unit: str = ""

    @classmethod
    def from_args(cls, args, event, groups: list[str]) -> ListFilters:
        status = args.get("status", "")
        session = args.get("session", type=int)
        group = (args.get("group") or "").strip()
        return cls(
            status=status if status in {s.value for s in RegistrationState} else "",
            q=(args.get("q") or "").strip()[:100],
            group=group if group in groups else "",
            session=session if session in {s.id for s in event.sessions} else None,
            unit=(args.get("unit") or "").strip()[:200],
        )

    def apply(self, query):
        if self.status:
            query = query.where(Registration.status == RegistrationState(self.status))
        if self.q:
            like = f"%{self.q}%"
            query = query.where(sa.or_(Registration.name.ilike(like), Registration.contact_name.ilike(like),
                                       Registration.unit.ilike(like), Registration.phone.like(f"%{self.q}")))
        if self.group:
            query = query.where(Registration.group_name == self.group)
        if self.session is not None:
            query = query.where(Registration.id.in_(
                sa.select(RegistrationSession.registration_id).where(RegistrationSession.session_id == self.session)))
        if self.unit:
            query = query.where(Registration.unit.ilike(f"%{self.unit}%"))
        return query

    def args(self, **changes) -> dict:
        """Query-string values for links that keep the other filters."""
        values = {"status": self.status, "q": self.q, "group": self.group, "session": self.session, "unit": self.unit}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.group or self.session or self.unit)


@bp.route("/manage/events/<int:event_id>/registrations")
@login_required
def organizer_list(event_id: int):
    event = get_managed_event(event_id)
    settings = services.get_settings(event)
    used_groups = db.session.scalars(
        sa.select(Registration.group_name).where(Registration.event_id == event.id, Registration.group_name.is_not(None))
        .distinct()
    )
    groups = list(settings.groups or []) + sorted(set(used_groups) - set(settings.groups or []))
    filters = ListFilters.from_args(request.args, event, groups)
    query = filters.apply(sa.select(Registration).where(Registration.event_id == event.id))
    registrations = list(db.session.scalars(query.order_by(Registration.id).limit(MAX_PAGE)))
    units = list(db.session.scalars(
        sa.select(Registration.unit).where(Registration.event_id == event.id, Registration.unit != "")
        .distinct().order_by(Registration.unit).limit(MAX_UNIT_SUGGESTIONS)
    ))
    return render_template(
        "registration/list.html", event=event, registrations=registrations, counts=services.count_by_status(event.id),
        filters=filters, status=filters.status, q=filters.q, groups=groups, units=units,
        reject_form=RejectForm(), bulk_form=RegistrationBulkForm(), limit=MAX_PAGE,
    )


def _managed_registration(event_id: int, registration_id: int) -> Registration:
    event = get_managed_event(event_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        abort(404)
    return registration


@bp.route("/manage/events/<int:event_id>/registrations/<int:registration_id>")
@login_required
def organizer_detail(event_id: int, registration_id: int):
    registration = _managed_registration(event_id, registration_id)
    event = registration.event
    return render_template("registration/detail.html", registration=registration, event=event,
                           reject_form=RejectForm(), position=services.waitlist_position(registration),
                           fields=services.list_fields(event.id), sessions={s.id: s for s in event.sessions})


@bp.route("/manage/events/<int:event_id>/registrations/<int:registration_id>/approve", methods=["POST"])
@login_required
def approve(event_id: int, registration_id: int):
    registration = _managed_registration(event_id, registration_id)  # CSRF is checked for every POST
    perform(lambda: services.approve_registration(db.session.get(Registration, registration.id), now=utcnow(),
                                                  actor=current_user),
            success=_("Approved."))
    return redirect(request.referrer if _same_site(request.referrer) else url_for("registration.organizer_list", event_id=event_id))


@bp.route("/manage/events/<int:event_id>/registrations/<int:registration_id>/reject", methods=["POST"])
@login_required
def reject(event_id: int, registration_id: int):
    registration = _managed_registration(event_id, registration_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash(form.reason.errors[0] if form.reason.errors else _("Give a reason for the rejection."), "error")
        return redirect(url_for("registration.organizer_detail", event_id=event_id, registration_id=registration_id))

    perform(lambda: services.reject_registration(db.session.get(Registration, registration.id),
                                                 reason=form.reason.data, now=utcnow(), actor=current_user),
            success=_("Rejected; the participant can see the reason."))
    return redirect(url_for("registration.organizer_detail", event_id=event_id, registration_id=registration_id))


def _same_site(url: str | None) -> bool:
    from urllib.parse import urlsplit

    if not url:
        return False
    parts = urlsplit(url)
    return parts.netloc == request.host and parts.path.startswith("/manage/")


@bp.route("/manage/events/<int:event_id>/registration-settings", methods=["GET", "POST"])
@login_required
def settings(event_id: int):
    event = get_managed_event(event_id)
    current = services.get_settings(event)
    form = RegistrationSettingsForm()
    if not form.is_submitted():
        form.kind.data = current.kind.value
        form.team_min_members.data = current.team_min_members
        form.team_max_members.data = current.team_max_members
        form.team_max_coaches.data = current.team_max_coaches
        form.groups.data = "\n".join(current.groups or [])
        form.ask_id_number.data = current.ask_id_number
        form.ask_email.data = current.ask_email
        form.ask_job_title.data = current.ask_job_title
        form.allow_session_choice.data = current.allow_session_choice
    if form.validate_on_submit():
        try:
            services.save_settings(
                event, kind=RegistrationKind(form.kind.data), team_min_members=form.team_min_members.data,
                team_max_members=form.team_max_members.data, team_max_coaches=form.team_max_coaches.data,
                groups=form.group_list(), ask_id_number=form.ask_id_number.data, ask_email=form.ask_email.data,
                ask_job_title=form.ask_job_title.data, allow_session_choice=form.allow_session_choice.data,
                actor=current_user, now=utcnow(),
            )
        except services.RegistrationError as error:
            db.session.rollback()
            getattr(form, error.field or "kind").errors = [error.message]
        else:
            db.session.commit()
            flash(_("Sign-up settings saved."), "success")
            return redirect(url_for("events.detail", event_id=event.id))
    return render_template("registration/settings.html", event=event, form=form), 422 if form.errors else 200


# ---------------------------------------------------------------- bulk actions

def _bulk_done(action: str, n: int) -> str:
    if action == "approve":
        return ngettext("%(num)d sign-up approved.", "%(num)d sign-ups approved.", n)
    if action == "reject":
        return ngettext("%(num)d sign-up rejected.", "%(num)d sign-ups rejected.", n)
    return ngettext("%(num)d sign-up moved up from the waiting list.", "%(num)d sign-ups moved up from the waiting list.", n)


def _bulk_one(event_id: int, registration_id: int, action: str, reason: str) -> int:
    """One sign-up, one unit of work (committed here). Returns how many others the change moved up from the waiting
    list. Raises RegistrationError for a sign-up that cannot take this action."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event_id:
        raise services.RegistrationError("not_found", _("Not a sign-up of this event."), status=404)
    promoted: list = []
    if action == "reject":
        promoted = services.reject_registration(registration, reason=reason, now=utcnow(), actor=current_user)
    else:
        if action == "promote" and registration.status != RegistrationState.WAITLISTED:
            raise services.RegistrationError("not_waitlisted", _("Not on the waiting list."), status=409)
        if registration.status == RegistrationState.APPROVED:
            raise services.RegistrationError("already_approved", _("Already approved."), status=409)
        services.approve_registration(registration, now=utcnow(), actor=current_user)
    db.session.commit()
    return len(promoted)


def _chosen_ids(values: list[str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        if value.isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids


@bp.route("/manage/events/<int:event_id>/registrations/bulk", methods=["POST"])
@login_required
def bulk_action(event_id: int):
    """Approve, reject (one reason for all) or move up from the waiting list the ticked sign-ups; or print their
    name badges (to the badge form, nothing changed).

    Each sign-up is its own transaction: the decisions are independent, so one that cannot be done (no free seat,
    already cancelled by the participant a moment ago) must not undo the others, and SQLite cannot roll back one
    step of a transaction without the rest. The organizer is told how many were done and, for each other, why not.
    """
    event = get_managed_event(event_id)
    form = RegistrationBulkForm()
    back = request.referrer if _same_site(request.referrer) else url_for("registration.organizer_list", event_id=event_id)
    if request.form.get("action") == "badges":  # changes nothing: on to the badge form with the ticked sign-ups
        from registration.badge_views import badges_url

        badge_ids = _chosen_ids(request.form.getlist("ids"))
        if not badge_ids:
            flash(_("Tick at least one sign-up."), "warning")
            return redirect(back)
        return redirect(badges_url(event.id, badge_ids))
    if not form.validate_on_submit():
        errors = form.action.errors or form.reason.errors
        flash(errors[0] if errors else _("Choose an action."), "error")
        return redirect(back)
    ids = _chosen_ids(request.form.getlist("ids"))
    action, reason = form.action.data, (form.reason.data or "").strip()
    if not ids:
        flash(_("Tick at least one sign-up."), "warning")
        return redirect(back)
    if len(ids) > MAX_BULK:
        flash(_("At most %(n)d sign-ups at a time.", n=MAX_BULK), "error")
        return redirect(back)
    if action == "reject" and not reason:
        flash(_("Give a reason for the rejection."), "error")
        return redirect(back)

    done, moved_up, failures = 0, 0, []
    for registration_id in ids:
        try:
            moved_up += run_write(db.session, lambda rid=registration_id: _bulk_one(event.id, rid, action, reason))
        except services.RegistrationError as error:
            db.session.rollback()
            registration = db.session.get(Registration, registration_id)
            label = registration.name if registration is not None and registration.event_id == event.id else f"#{registration_id}"
            failures.append(f"{label}: {error.message}")
        else:
            done += 1
    if done:
        flash(_bulk_done(action, done), "success")
    if moved_up:
        flash(ngettext("%(num)d sign-up moved up from the waiting list into the freed seats.",
                       "%(num)d sign-ups moved up from the waiting list into the freed seats.", moved_up), "info")
    if failures:
        shown = failures[:20]
        more = _(" … and %(n)d more.", n=len(failures) - len(shown)) if len(failures) > len(shown) else ""
        flash(_("Not done for %(n)d: %(list)s", n=len(failures), list="; ".join(shown)) + more, "error")
    return redirect(back)


# ---------------------------------------------------------------- export

XLSX_MIMETYPE = spreadsheets.XLSX_MIME


def _download_name(event, suffix: str) -> str:
    title = "".join(c for c in event.title if c not in '\\/:*?"<>|\r\n\t').strip()[:60] or f"event-{event.id}"
    return f"{title}-{suffix}.xlsx"


def _xlsx_response(content: bytes, name: str):
    response = send_file(BytesIO(content), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/manage/events/<int:event_id>/registrations.xlsx")
@login_required
def export_registrations(event_id: int):
    """Every sign-up with phone and ID numbers unmasked: organizers only, and each export is logged (SPEC)."""
    from core.models import record_audit

    event = get_managed_event(event_id)
    registrations = list(db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)
        .options(selectinload(Registration.members), selectinload(Registration.sessions))
    ))
    questions = [(f.key, f.label) for f in services.list_fields(event.id)]
    if any("note" in (r.answers or {}) for r in registrations) and "note" not in dict(questions):
        questions.append(("note", "备注"))
    sheets = spreadsheets.registration_sheets(
        registrations, timezone_name=event.timezone, session_titles={s.id: s.title for s in event.sessions},
        answer_columns=questions,
    )
    content = spreadsheets.build_workbook(sheets)
    count = len(registrations)

    def work():
        record_audit(actor=current_user, organization_id=event.organization_id, action="registration.export",
                     obj=event, now=utcnow(), rows=count)
        db.session.commit()

    run_write(db.session, work)
    return _xlsx_response(content, _download_name(event, "报名名单"))


@bp.route("/manage/events/<int:event_id>/registrations/export-task", methods=["POST"])
@login_required
def start_export_task(event_id: int):
    """The same export as a background task (big lists): written in chunks, with a progress bar, then offered for
    download on the task's page. Logged like the direct export when the file is written."""
    from registration.jobs import start_export

    event = get_managed_event(event_id)  # CSRF is checked for every POST

    def work():
        task = start_export(db.session.get(Event, event.id), actor=current_user, now=utcnow())
        db.session.commit()
        return task.id

    task_id = run_write(db.session, work)
    return redirect(url_for("tasks.task_detail", task_id=task_id))


@bp.route("/manage/events/<int:event_id>/registrations/import-template.xlsx")
@login_required
def import_template(event_id: int):
    event = get_managed_event(event_id)
    settings = services.get_settings(event)
    sheet = spreadsheets.template_sheet(imports.rules_for(event), ask_email=settings.ask_email,
                                        ask_job_title=settings.ask_job_title)
    return _xlsx_response(spreadsheets.build_workbook([sheet]), _download_name(event, "报名导入模板"))


# ---------------------------------------------------------------- import

FILE_MESSAGES = {
    "too_large": _l("The file is larger than %(mb)d MB."),
    "bad_type": _l("Upload an Excel workbook (.xlsx) or a CSV file."),
    "old_excel": _l("Old Excel files (.xls) cannot be read: open it in Excel or WPS and save it as .xlsx."),
    "unreadable": _l("This file could not be read as %(kind)s."),
    "encoding": _l("The CSV file is neither UTF-8 nor GBK text."),
    "empty": _l("The file has no rows to import."),
    "too_many_rows": _l("The file has more than %(n)d rows; split it into several files."),
    "no_header": _l("No header row found: one of the first rows must name the columns, e.g. 姓名, 手机, 单位."),
}

ROW_MESSAGES = {
    "name_required": _l("Enter the name."),
    "unit_required": _l("Enter the unit."),
    "too_long": _l("Too long: at most %(n)d characters."),
    "invalid_email": _l("Enter a valid e-mail address."),
    "group_required": _l("Enter the group: one of %(groups)s."),
    "unknown_group": _l("Unknown group “%(value)s”; this event's groups are %(groups)s."),
    "no_groups": _l("This event has no groups; leave the group empty."),
    "unknown_id_kind": _l("Unknown document type “%(value)s”: write 身份证, 护照 or 台胞证."),
    "duplicate_in_file": _l("The same phone number is on row %(row)d."),
    "duplicate_id_in_file": _l("The same ID number is on row %(row)d."),
    "already_signed_up": _l("Phone number %(phone)s is already signed up for this event."),
    "id_already_signed_up": _l("This ID number is already signed up for this event."),
    "team_name_required": _l("Enter the team name."),
    "unknown_role": _l("Unknown role “%(value)s”: write 领队, 队员 or 指导教师."),
    "two_leaders": _l("Team “%(team)s” already has a leader on row %(row)d."),
    "team_without_leader": _l("Team “%(team)s” has no leader or member, only coaches."),
    "team_size": _l("Team “%(team)s”: a team has %(min)d to %(max)d members, the leader included."),
    "too_many_coaches": _l("Team “%(team)s”: at most %(n)d coaches."),
    "team_group_mismatch": _l("Team “%(team)s” is in the group of its leader (row %(row)d)."),
    "team_has_errors": _l("Team “%(team)s” is imported whole: fix row %(rows)s first."),
}


def problem_message(problem: spreadsheets.RowProblem) -> str:
    if problem.code == "answer":
        return f"{problem.params['label']}: {services.answer_message(problem.params['answer_code'])}"
    template = ROW_MESSAGES.get(problem.code) or PHONE_MESSAGES.get(problem.code) or ID_MESSAGES.get(problem.code)
    if template is None:
        return problem.code
    text = str(template) % problem.params if problem.params else str(template)
    if problem.code == "too_long":
        text = f"{dict(PREVIEW_COLUMNS).get(problem.column, problem.column)}: {text}"
    return text


def file_message(error: spreadsheets.SpreadsheetError) -> str:
    template = FILE_MESSAGES.get(error.code, FILE_MESSAGES["bad_type"])
    return str(template) % error.params if error.params else str(template)


def _pending_imports() -> imports.PendingImports:
    directory = current_app.config.get("REGISTRATION_IMPORT_DIR") or os.path.join(current_app.instance_path, "imports")
    return imports.PendingImports(directory)


# Columns shown in the preview, in this order, when the file has them.
PREVIEW_COLUMNS = (
    ("name", _l("Name")), ("phone", _l("Mobile phone")), ("unit", _l("Unit")), ("team_name", _l("Team name")),
    ("role", _l("Role")), ("group", _l("Group")), ("email", _l("E-mail")), ("id_kind", _l("Document type")),
    ("id_number", _l("Document number")), ("job_title", _l("Job title")),
)


def _render_preview(event, checked: spreadsheets.CheckedTable, token: str, filename: str, status: int = 200,
                    error: str | None = None):
    rules = imports.rules_for(event)
    columns = [(key, str(label)) for key, label in PREVIEW_COLUMNS if key in checked.columns.index]
    columns += [(f"{spreadsheets.ANSWER}{q.key}", q.label) for q in rules.questions
                if f"{spreadsheets.ANSWER}{q.key}" in checked.columns.index]
    confirm = RegistrationImportConfirmForm(formdata=None, token=token)
    importable = sum(len(e.rows) for e in checked.entries)
    free = imports.seats_free(event)
    return render_template(
        "registration/import.html", stage="preview", event=event, checked=checked, columns=columns, token=token,
        filename=filename, confirm_form=confirm, problem_message=problem_message, error=error,
        entries=len(checked.entries), importable_rows=importable, seats_free=free,
        will_wait=max(len(checked.entries) - free, 0) if free is not None else 0,
    ), status


@bp.route("/manage/events/<int:event_id>/registrations/import", methods=["GET", "POST"])
@login_required
def import_registrations(event_id: int):
    """Upload a sheet, then see every row with its problems. Nothing is saved until the organizer confirms."""
    event = get_managed_event(event_id)
    form = RegistrationImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read(spreadsheets.MAX_BYTES + 1)
        filename = os.path.basename(upload.filename or "")[:200]
        try:
            table = spreadsheets.read_table(filename, content)
            checked = imports.check_import(event, table)
        except spreadsheets.SpreadsheetError as error:
            form.file.errors = [file_message(error)]
        else:
            token = _pending_imports().save(event_id=event.id, user_id=current_user.id, filename=filename, table=table,
                                            now=utcnow())
            return _render_preview(event, checked, token, filename)
    settings = services.get_settings(event)
    rules = imports.rules_for(event)
    return render_template(
        "registration/import.html", stage="upload", event=event, form=form, rules=rules, settings=settings,
        max_rows=spreadsheets.MAX_ROWS, max_mb=spreadsheets.MAX_BYTES // (1024 * 1024),
    ), 422 if form.errors else 200


@bp.route("/manage/events/<int:event_id>/registrations/import/confirm", methods=["POST"])
@login_required
def import_confirm(event_id: int):
    """Import the checked file: all its valid rows, or only if every row is valid. One transaction: all the
    chosen rows are saved, or none."""
    event = get_managed_event(event_id)
    form = RegistrationImportConfirmForm()
    store = _pending_imports()
    pending = None
    if form.validate_on_submit():
        pending = store.load(form.token.data, event_id=event.id, user_id=current_user.id, now=utcnow())
    if pending is None:
        flash(_("This upload has expired or was already imported. Upload the file again."), "warning")
        return redirect(url_for("registration.import_registrations", event_id=event.id))

    def work():
        fresh = db.session.get(Event, event.id)
        outcome = imports.import_registrations(fresh, pending.table, mode=form.mode.data, now=utcnow(),
                                               actor=current_user, filename=pending.filename)
        db.session.commit()
        return outcome

    try:
        outcome = run_write(db.session, work)
    except imports.RegistrationImportError as error:
        db.session.rollback()
        checked = error.checked or imports.check_import(event, pending.table)
        return _render_preview(event, checked, pending.token, pending.filename, status=error.status,
                               error=error.message)
    store.discard(pending.token)
    return render_template(
        "registration/import.html", stage="result", event=event, outcome=outcome, filename=pending.filename, waitlisted=outcome.count(RegistrationState.WAITLISTED),
    )
