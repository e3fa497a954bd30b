"""The operator's outbound policy and the checks made with it before any connection."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.net.addresses import IPAddress, blocked_reason
from shared.net.errors import BlockedDestination, InvalidUrl

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""host, port -> the addresses to connect to (as strings); the system resolver by default."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    seen: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


@dataclass(frozen=True)
class OutboundPolicy:
    """Where outbound requests may go.

    By default only public unicast addresses. An operator who runs, say, an internal webhook
    receiver allows its network explicitly (`allowed_networks`), or everything (`allow_private`,
    for development). `resolver` exists so tests can play DNS; production uses the system's.
    """

    allow_private: bool = False
    allowed_networks: tuple[Network, ...] = ()
    schemes: frozenset[str] = frozenset({"https", "http"})
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(
        cls, *, allow_private: bool = False, allowed: Iterable[str] = (), https_only: bool = False
    ) -> OutboundPolicy:
        """`allowed` holds networks or single addresses (`10.0.0.0/8`, `192.168.1.7`)."""
        try:
            networks = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in allowed if n)
        except ValueError as exc:
            raise ValueError(f"not a network or address: {exc}") from None
        schemes = frozenset({"https"}) if https_only else frozenset({"https", "http"})
        return cls(allow_private=allow_private, allowed_networks=networks, schemes=schemes)

    def check_address(self, address: IPAddress, *, host: str) -> None:
        if self.allow_private or any(address in n for n in self.allowed_networks):
            return
        reason = blocked_reason(address)
        if reason is not None:
            shown = host if host == str(address) else f"{host} ({address})"
            raise BlockedDestination(
                f"{shown} {reason}; outbound requests may reach only public addresses"
            )


def check_url(url: str, policy: OutboundPolicy) -> tuple[str, int]:
    """Host and port of `url` if its form is acceptable; literal IP hosts are judged here too.

    Names are judged at connect time (`resolve_checked`), when they are resolved.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in policy.schemes:
        allowed = ", ".join(sorted(policy.schemes))
        raise InvalidUrl(f"scheme {scheme or '(none)'!r} is not allowed (only {allowed})")
    host = parts.hostname
    if not host:
        raise InvalidUrl("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidUrl("credentials in the URL are not accepted")
    port = port if port is not None else (443 if scheme == "https" else 80)
    literal = _literal_ip(host)
    if literal is not None:
        policy.check_address(literal, host=host)
    return host, port


async def resolve_checked(host: str, port: int, policy: OutboundPolicy) -> list[str]:
    """Every address `host` resolves to, all of them allowed; else `BlockedDestination`.

    One disallowed address is enough to refuse: a name that answers with a public and a private
    address is a rebinding attempt or a misconfiguration either way.
    """
    literal = _literal_ip(host)
    if literal is not None:
        policy.check_address(literal, host=host)
        return [str(literal)]
    try:
        addresses = await policy.resolver(host, port)
    except OSError as exc:
        raise BlockedDestination(f"{host} does not resolve: {exc}") from None
    if not addresses:
        raise BlockedDestination(f"{host} resolves to no address")
    for text in addresses:
        address = _literal_ip(text)
        if address is None:
            raise BlockedDestination(f"{host} resolved to {text!r}, which is not an address")
        policy.check_address(address, host=host)
    return addresses


def _literal_ip(host: str) -> IPAddress | None:
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    text = text.split("%", 1)[0]  # a zone index (fe80::1%eth0) names an interface, not a host
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
