"""Scheduled work and background tasks (issue 5).

- ``tasks.schedule.SWEEPS``: the one list of periodic sweeps (idempotent functions ``<package>.jobs.<name>(now)``).
- ``tasks.runner``: runs a sweep under a database lock, and advances background tasks step by step.
- ``tasks.registry``: ``@task_handler(kind)`` for the step functions of background tasks.
- ``tasks.services``: start, list, cancel tasks; ``tasks.views``: the organizer's progress page and task list.
"""
