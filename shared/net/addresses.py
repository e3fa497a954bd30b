"""Which IP addresses an outbound request may reach by default: public unicast ones only.

`ipaddress.is_global` already excludes loopback, private, link-local (cloud metadata at
169.254.169.254), shared address space (100.64/10), documentation and reserved ranges. What it
misses is addresses that *embed* an IPv4 address (IPv4-mapped, NAT64, 6to4): `::ffff:127.0.0.1`
reaches loopback on a dual-stack host, so the embedded address is judged instead. Multicast is
refused too: it is never a web server.
"""

from __future__ import annotations

import ipaddress
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is a transition form of one."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def blocked_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast destination, or None if it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = blocked_reason(inner)
            return f"embeds {inner}, which {reason}" if reason else None
    if address.is_multicast:
        return "is multicast"
    if address.is_loopback:
        return "is loopback"
    if address.is_link_local:
        return "is link-local"
    if address.is_unspecified:
        return "is unspecified"
    if not address.is_global:
        return "is not a public address"
    return None
