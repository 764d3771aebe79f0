"""Organizer pages of background tasks: the progress page (refreshed by static/js/task-progress.js from the JSON
below), the list of an event's tasks, cancel, and the download of a finished task's file.

Access: whoever may manage the task's event (or, for a task without an event, its organization). Anyone with no role
there gets 404, so other organizations cannot learn a task exists; a role without management rights gets 403.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from accounts.permissions import (
    can_manage_event,
    can_manage_organization,
    can_see_event_admin,
    roles_in_organization,
)
from accounts.models import Organization
from core.database import run_write
from core.models import record_audit
from core.templating import format_local
from core.types import utcnow
from events.views import get_managed_event
from extensions import csrf, db
from tasks import files, registry, services
from tasks.models import BackgroundTask, TaskState

bp = Blueprint("tasks", __name__)
api_bp = Blueprint("tasks_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)  # read-only JSON; cookie or Bearer token

STATE_LABELS = {
    TaskState.QUEUED: _l("Waiting to start"),
    TaskState.RUNNING: _l("Running"),
    TaskState.DONE: _l("Done"),
    TaskState.FAILED: _l("Failed"),
    TaskState.CANCELLED: _l("Cancelled"),
}
STATE_STYLES = {
    TaskState.QUEUED: "secondary", TaskState.RUNNING: "primary", TaskState.DONE: "success",
    TaskState.FAILED: "danger", TaskState.CANCELLED: "dark",
}


class CancelForm(FlaskForm):
    pass


def get_managed_task(task_id: int) -> BackgroundTask:
    task = db.session.get(BackgroundTask, task_id)
    if task is None:
        abort(404)
    if task.event_id is not None:
        if not can_see_event_admin(current_user, task.event):
            abort(404)
        if not can_manage_event(current_user, task.event):
            abort(403)
        return task
    organization = db.session.get(Organization, task.organization_id)
    if organization is None or not roles_in_organization(current_user, organization):
        abort(404)
    if not can_manage_organization(current_user, organization):
        abort(403)
    return task


def _file_available(task: BackgroundTask) -> bool:
    result = task.result or {}
    return task.state == TaskState.DONE and bool(result.get("file")) and \
        files.result_path(task.id, result["file"]) is not None


def _timezone(task: BackgroundTask) -> str:
    return task.event.timezone if task.event is not None else current_app.config["SAIHUI_TIMEZONE"]


def task_json(task: BackgroundTask) -> dict:
    result = task.result or {}
    return {
        "id": task.id,
        "kind": task.kind,
        "label": registry.label_for(task.kind),
        "event_id": task.event_id,
        "state": task.state.value,
        "state_label": str(STATE_LABELS[task.state]),
        "done": task.done,
        "total": task.total,
        "percent": task.percent,
        "active": task.is_active,
        "error": task.error if task.state == TaskState.FAILED else None,
        "created_at": task.created_at.isoformat() if task.created_at else None,
        "started_at": task.started_at.isoformat() if task.started_at else None,
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
        "finished_at_local": format_local(task.finished_at, _timezone(task)) if task.finished_at else None,
        "result": {k: v for k, v in result.items() if k != "file"} or None,
        "download_url": url_for("tasks.download", task_id=task.id) if _file_available(task) else None,
        "file_expired": bool(result.get("expired")) or (task.state == TaskState.DONE and bool(result.get("file"))
                                                         and not _file_available(task)),
        "detail_url": url_for("tasks.task_detail", task_id=task.id),
    }


@bp.route("/manage/tasks/<int:task_id>")
@login_required
def task_detail(task_id: int):
    task = get_managed_task(task_id)
    return render_template(
        "tasks/detail.html", task=task, event=task.event, info=task_json(task), state_labels=STATE_LABELS,
        state_styles=STATE_STYLES, label=registry.label_for(task.kind), cancel_form=CancelForm(),
        retention_hours=_retention_hours(),
    )


def _retention_hours() -> int:
    return int(current_app.config["TASK_FILE_RETENTION_HOURS"])


@bp.route("/manage/tasks/<int:task_id>/cancel", methods=["POST"])
@login_required
def cancel(task_id: int):
    task = get_managed_task(task_id)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)

    def work() -> None:
        fresh = db.session.get(BackgroundTask, task.id, populate_existing=True)
        services.cancel_task(fresh, actor=current_user, now=utcnow())
        db.session.commit()

    try:
        run_write(db.session, work)
    except services.TaskError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        flash(_("The task was cancelled."), "success")
    return redirect(url_for("tasks.task_detail", task_id=task_id))


@bp.route("/manage/tasks/<int:task_id>/download")
@login_required
def download(task_id: int):
    task = get_managed_task(task_id)
    result = task.result or {}
    path = files.result_path(task.id, result.get("file") or "") if task.state == TaskState.DONE else None
    if path is None:
        if task.state == TaskState.DONE and (result.get("file") or result.get("expired")):
            flash(_("The file was deleted %(hours)d hours after the task finished; start the task again.",
                    hours=_retention_hours()), "warning")
        else:
            flash(_("This task has no file to download."), "warning")
        return redirect(url_for("tasks.task_detail", task_id=task.id))
    event_id, organization_id = task.event_id, task.organization_id

    def work() -> None:
        record_audit(actor=current_user, organization_id=organization_id, action="task.download", obj=task,
                     now=utcnow(), kind=task.kind, event_id=event_id)
        db.session.commit()

    run_write(db.session, work)
    response = send_file(path, mimetype=result.get("content_type") or "application/octet-stream",
                         as_attachment=True, download_name=result.get("filename") or path.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/manage/events/<int:event_id>/tasks")
@login_required
def event_tasks(event_id: int):
    event = get_managed_event(event_id)
    tasks = services.event_tasks(event.id)
    return render_template(
        "tasks/list.html", event=event, tasks=tasks, state_labels=STATE_LABELS, state_styles=STATE_STYLES,
        labels={t.kind: registry.label_for(t.kind) for t in tasks}, available={t.id: _file_available(t) for t in tasks},
    )


@api_bp.get("/tasks/<int:task_id>")
@login_required
def task_status(task_id: int):
    task = get_managed_task(task_id)
    response = jsonify({"task": task_json(task)})
    response.headers["Cache-Control"] = "no-store"
    return response
