"""Outbound HTTP that cannot be aimed at the platform's own network (SSRF protection).

Anything that fetches a URL a user, an integrator or an agent chose goes through here::

    policy = OutboundPolicy.from_settings(allow_private=False, allowed=["10.1.2.0/24"])
    async with guarded_client(policy, timeout=10) as http:
        response = await http.get(url)

Every connection, including each redirect hop and each address a name resolves to, is checked
before it is opened, and opened to the very address that was checked (no DNS rebinding between
the check and the connect). Refusals raise `BlockedDestination` (code `net.blocked_destination`).
"""

from __future__ import annotations

from shared.net.addresses import blocked_reason
from shared.net.client import GuardedBackend, guarded_client, guarded_transport
from shared.net.errors import BlockedDestination, InvalidUrl
from shared.net.policy import OutboundPolicy, Resolver, check_url, resolve_checked

__all__ = [
    "BlockedDestination",
    "GuardedBackend",
    "InvalidUrl",
    "OutboundPolicy",
    "Resolver",
    "blocked_reason",
    "check_url",
    "guarded_client",
    "guarded_transport",
    "resolve_checked",
]
