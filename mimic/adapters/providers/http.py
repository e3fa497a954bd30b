"""What HTTP providers share: telling "not sent" from "maybe sent", and Retry-After."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Final, TypeVar

import httpx

from mimic.domain.outcomes import InDoubt, Unavailable

T = TypeVar("T")

MAX_RETRY_AFTER: Final = 3600.0

# Raised before the request could have reached the provider's application: certainly not sent.
_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the provider asked us to wait (delta-seconds or an HTTP date), bounded."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value else None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


async def call(
    request: Callable[[], Awaitable[httpx.Response]],
    read: Callable[[httpx.Response], T],
) -> T | Unavailable | InDoubt:
    """Make the request and read its answer; transport failures become outcomes."""
    try:
        response = await request()
    except _NOT_SENT as exc:
        return Unavailable(f"cannot reach the provider: {type(exc).__name__}")
    except (httpx.WriteError, httpx.WriteTimeout) as exc:
        # The body never finished: an HTTP server does not act on a partial request.
        return Unavailable(f"the request could not be sent: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return InDoubt(f"no answer after the request went out: {type(exc).__name__}")
    return read(response)
