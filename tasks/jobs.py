"""Sweeps of the tasks package itself."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app

from extensions import db
from tasks import files
from tasks.models import BackgroundTask, TaskState

log = logging.getLogger(__name__)


def purge_task_files(now: datetime) -> int:
    """Delete the files of finished tasks once TASK_FILE_RETENTION_HOURS have passed (exports hold personal data),
    at once for failed and cancelled tasks (their parts are of no use), and of tasks that no longer exist. A task
    whose file is gone says so (``result["expired"]``). Returns the number of directories removed. Idempotent."""
    cutoff = now - timedelta(hours=current_app.config["TASK_FILE_RETENTION_HOURS"])
    removed = 0
    for task_id in files.task_dir_ids():
        task = db.session.get(BackgroundTask, task_id)
        if task is not None and task.state in (TaskState.QUEUED, TaskState.RUNNING):
            continue
        if task is not None and task.state == TaskState.DONE and (task.finished_at or now) > cutoff:
            continue
        if files.remove_task_dir(task_id):
            removed += 1
        if task is not None and task.result and task.result.get("file"):
            task.result = {**task.result, "file": None, "expired": True}
        db.session.commit()
    if removed:
        log.info("purged the files of %d background tasks", removed)
    return removed
