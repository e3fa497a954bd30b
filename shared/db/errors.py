"""Database errors with stable codes, and the translation of driver errors into them.

Only failures that a retry can fix are translated (the bus retries `TransientError`); anything
else, such as a constraint or row-level-security violation, stays the driver's exception because
it is a bug or a rule the caller must handle where it knows what the rule means.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import exc as sa_exc

from shared.errors import PermanentError, TransientError


class DatabaseMisconfigured(PermanentError):
    """Settings or identifiers that can never work (no secret key, a bad name)."""

    code = "db.misconfigured"


class InvalidOrgId(PermanentError):
    """An org id that is not a valid token cannot scope a transaction."""

    code = "db.invalid_org_id"


class DatabaseUnavailable(TransientError):
    """The server cannot be reached, is shutting down, or has no connection to spare."""

    code = "db.unavailable"


class DatabaseConflict(TransientError):
    """A concurrent transaction won (serialization failure, deadlock, lock not available)."""

    code = "db.conflict"


class DatabaseTimeout(TransientError):
    """A statement ran past the statement timeout."""

    code = "db.timeout"


_CONFLICT_STATES: Final = frozenset({"40001", "40P01", "55P03"})
_TIMEOUT_STATES: Final = frozenset({"57014"})
# Class 08 is connection exceptions, 53 insufficient resources (too many connections),
# 57P01-57P03 the server shutting down or starting.
_UNAVAILABLE_STATES: Final = frozenset({"57P01", "57P02", "57P03"})
_UNAVAILABLE_CLASSES: Final = frozenset({"08", "53"})


def sqlstate_of(error: BaseException) -> str | None:
    """The SQLSTATE behind a SQLAlchemy or asyncpg error, if the server sent one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None


def translate(error: BaseException) -> Exception | None:
    """The transient error `error` stands for, or None when it is not a transient failure."""
    if isinstance(error, sa_exc.TimeoutError):  # the pool had no connection within pool_timeout
        return DatabaseUnavailable("no database connection available in time")
    state = sqlstate_of(error)
    if state is not None:
        if state in _CONFLICT_STATES:
            return DatabaseConflict(f"concurrent update conflict (SQLSTATE {state})")
        if state in _TIMEOUT_STATES:
            return DatabaseTimeout("statement exceeded the statement timeout")
        if state in _UNAVAILABLE_STATES or state[:2] in _UNAVAILABLE_CLASSES:
            return DatabaseUnavailable(f"database unavailable (SQLSTATE {state})")
        return None
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return DatabaseUnavailable("the database connection was lost")
    if isinstance(error, OSError | ConnectionError | sa_exc.InterfaceError):
        return DatabaseUnavailable(f"cannot reach the database: {type(error).__name__}")
    if isinstance(error, sa_exc.DBAPIError) and isinstance(error.orig, OSError):
        return DatabaseUnavailable(f"cannot reach the database: {type(error.orig).__name__}")
    return None
