"""Errors of inbox, each with a stable code and the HTTP status it answers with."""

from __future__ import annotations

from typing import Any, ClassVar

from shared.errors import PermanentError


class InboxError(PermanentError):
    """A request the inbox refuses; `status` is the HTTP status of the answer."""

    status: ClassVar[int] = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details)


class Unauthenticated(InboxError):
    code = "inbox.unauthenticated"
    status = 401


class Forbidden(InboxError):
    code = "inbox.forbidden"
    status = 403


class NotFound(InboxError):
    code = "inbox.not_found"
    status = 404


class InvalidCursor(InboxError):
    code = "inbox.invalid_cursor"


class InvalidRequest(InboxError):
    code = "inbox.invalid_request"
    status = 422


class MalformedJson(InboxError):
    code = "inbox.malformed_json"


class BodyTooLarge(InboxError):
    code = "inbox.body_too_large"
    status = 413


class RateLimited(InboxError):
    code = "inbox.rate_limited"
    status = 429


class InvalidLastEventId(InboxError):
    code = "inbox.invalid_last_event_id"


class LastEventIdFromFuture(InboxError):
    code = "inbox.last_event_id_from_future"


class TooManyStreams(InboxError):
    code = "inbox.too_many_streams"
    status = 503


class CodedError(InboxError):
    """An error another service reported, passed on with its own stable code."""

    def __init__(
        self, code: str, message: str, status: int, *, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.code = code
        self.http_status = status


def http_status(error: InboxError) -> int:
    return getattr(error, "http_status", error.status)
