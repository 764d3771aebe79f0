"""Benchmarks: run from the repository root, e.g. ``.venv/bin/python bench/registration_burst.py`` (see README.md)."""
