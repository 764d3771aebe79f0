"""The demo data of SPEC.md: realistic, generated, loaded idempotently by ``flask --app app demo``."""
