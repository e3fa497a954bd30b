"""httpx clients whose every TCP connection is checked against an `OutboundPolicy`.

The check lives in the connection layer (an httpcore network backend), not in front of the
request: so each redirect hop, each pooled origin and each address a name resolves to is judged
just before the socket opens, and the socket opens to the exact address judged. TLS still
verifies the certificate against the URL's host name (httpcore passes it as SNI).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from shared.net.errors import BlockedDestination
from shared.net.policy import OutboundPolicy, check_url, resolve_checked


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self, policy: OutboundPolicy, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self.policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_checked(host, port, self.policy)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedDestination("unix sockets are not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = _LIMITS,
    ) -> None:
        # No proxy from the environment: a proxy would connect on our behalf, past the guard.
        super().__init__(verify=verify, trust_env=False, limits=limits)
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        # httpx builds its pool without a way to choose the network backend; this pool is the
        # same one httpx would build, plus the guarded backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )


def guarded_transport(
    policy: OutboundPolicy, *, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncBaseTransport:
    return _GuardedTransport(policy, verify=verify)


def guarded_client(
    policy: OutboundPolicy,
    *,
    verify: ssl.SSLContext | bool = True,
    follow_redirects: bool = True,
    **options: Any,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` that refuses destinations `policy` does not allow."""

    async def check_hop(request: httpx.Request) -> None:
        # Scheme and literal addresses of every hop, before the pool sees it.
        check_url(str(request.url), policy)

    hooks = options.pop("event_hooks", {})
    hooks = {**hooks, "request": [check_hop, *hooks.get("request", [])]}
    return httpx.AsyncClient(
        transport=guarded_transport(policy, verify=verify),
        follow_redirects=follow_redirects,
        max_redirects=policy.max_redirects,
        trust_env=False,
        event_hooks=hooks,
        **options,
    )
