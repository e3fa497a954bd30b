"""Why an outbound request was not made."""

from __future__ import annotations

from shared.errors import PermanentError


class BlockedDestination(PermanentError):
    """The target is (or resolves to) an address the operator has not allowed."""

    code = "net.blocked_destination"


class InvalidUrl(PermanentError):
    """Not an absolute http(s) URL this client will fetch."""

    code = "net.invalid_url"
