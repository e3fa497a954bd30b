"""How a page answers a form it refuses: the form again, with the status and the error the
page shows beside it (the code for scripts and tests, the message for the person)."""

from __future__ import annotations

from typing import TypedDict, overload

from inbox.domain.errors import InboxError, InvalidRequest, http_status


class Refusal(TypedDict):
    status: int
    error: dict[str, str]


def form_error(exc: InboxError) -> dict[str, str]:
    return {"code": exc.code, "message": exc.message}


@overload
def refusal(exc: InboxError) -> Refusal: ...
@overload
def refusal(exc: InboxError | ValueError, invalid: str) -> Refusal: ...
def refusal(exc: InboxError | ValueError, invalid: str = "") -> Refusal:
    """A form that does not validate (pydantic's ValidationError is a ValueError) is told
    `invalid`, the page's own words: pydantic's name fields the person never saw."""
    if not isinstance(exc, InboxError):
        exc = InvalidRequest(invalid)
    return {"status": http_status(exc), "error": form_error(exc)}
