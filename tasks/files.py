"""Where background tasks keep their files: one directory per task under TASK_FILES_DIR.

A step writes its part under a name fixed by its cursor, through a temporary file and a rename, so that a step run
again after a crash writes the same file again instead of a second one.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flask import current_app


def root() -> Path:
    return Path(current_app.config["TASK_FILES_DIR"])


def task_dir(task_id: int, *, create: bool = False) -> Path:
    path = root() / str(int(task_id))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_path(task_id: int, name: str) -> Path | None:
    """The task's file ``name``, only if it is a plain file name inside the task's own directory."""
    if not name or name != os.path.basename(name) or name.startswith("."):
        return None
    path = task_dir(task_id) / name
    return path if path.is_file() else None


def remove_task_dir(task_id: int) -> bool:
    path = task_dir(task_id)
    if not path.exists():
        return False
    shutil.rmtree(path, ignore_errors=True)
    return True


def task_dir_ids() -> list[int]:
    base = root()
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())
