"""Domain errors that services raise and handlers turn into Persian answers."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError


class DomainError(Exception):
    """A rule said no; `reason` is a stable machine-readable word for the handler to render."""

    def __init__(self, reason: str = "", **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class NotFound(DomainError):
    """The thing asked for does not exist (or the user may not see it)."""


class NotAllowed(DomainError):
    """The user may not do this."""


class InvalidAnswer(DomainError):
    """An answer that cannot be stored; `reason` says why (the form shows the matching text)."""


def is_database_busy(error: object) -> bool:
    """SQLite's "database is locked" (another writer held the lock past the busy timeout)."""
    return isinstance(error, OperationalError) and "database is locked" in str(error).lower()
