"""Domain errors: a stable snake_case ``code`` for machines and a translated ``message`` for people."""
from __future__ import annotations


class DomainError(Exception):
    """Raised by services. The API maps it to ``{"error": {"code", "message"}}``; pages show the message."""

    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.field = field
        if status is not None:
            self.status = status

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message
