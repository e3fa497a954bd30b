"""The SSRF guard: which addresses are refused; a refused request never reaches a socket."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse

from shared.net import (
    BlockedDestination,
    InvalidUrl,
    OutboundPolicy,
    blocked_reason,
    check_url,
    guarded_client,
    resolve_checked,
)
from tests.shared.net.server import LoopbackServer, serving

BLOCKED = [
    "127.0.0.1",
    "127.9.9.9",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # shared address space (carrier NAT)
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "ff02::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_addresses_are_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com",
        "http://",
        "http://user:pw@example.com/",
        "http://example.com:99999/",
        "example.com/path",
    ],
)
def test_malformed_or_foreign_urls_are_invalid(url: str) -> None:
    with pytest.raises(InvalidUrl):
        check_url(url, OutboundPolicy())


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/", "http://[::1]:8080/", "https://169.254.169.254/latest/meta-data"]
)
def test_literal_private_hosts_are_refused_before_resolving(url: str) -> None:
    with pytest.raises(BlockedDestination):
        check_url(url, OutboundPolicy())


def test_https_only_policies_refuse_plain_http() -> None:
    with pytest.raises(InvalidUrl):
        check_url("http://example.com/", OutboundPolicy.from_settings(https_only=True))
    assert check_url("https://example.com/", OutboundPolicy.from_settings(https_only=True)) == (
        "example.com",
        443,
    )


def test_bad_operator_networks_fail_loudly() -> None:
    with pytest.raises(ValueError, match="network"):
        OutboundPolicy.from_settings(allowed=["not-a-net"])


def _dns(table: dict[str, list[str]]) -> OutboundPolicy:
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return OutboundPolicy(resolver=resolve)


async def test_a_name_with_any_private_address_is_refused() -> None:
    policy = _dns({"mixed.example": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(BlockedDestination, match=r"10\.0\.0\.7"):
        await resolve_checked("mixed.example", 443, policy)
    assert await resolve_checked("public.example", 443, _dns({"public.example": ["8.8.8.8"]})) == [
        "8.8.8.8"
    ]


async def test_the_system_resolver_is_used_by_default() -> None:
    with pytest.raises(BlockedDestination, match="localhost"):
        await resolve_checked("localhost", 80, OutboundPolicy())


class _Recorder:
    def __init__(self) -> None:
        self.hits: list[tuple[str, str]] = []
        self.app = FastAPI()
        self.redirect_to = ""

        @self.app.get("/hello")
        async def hello(request: Request) -> PlainTextResponse:
            self.hits.append(("hello", request.headers.get("host", "")))
            return PlainTextResponse("hi")

        @self.app.get("/bounce")
        async def bounce() -> RedirectResponse:
            self.hits.append(("bounce", ""))
            return RedirectResponse(self.redirect_to, status_code=302)


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[_Recorder, LoopbackServer]]:
    rec = _Recorder()
    async with serving(rec.app) as server:
        yield rec, server


async def test_a_loopback_server_is_unreachable_by_default(
    recorder: tuple[_Recorder, LoopbackServer],
) -> None:
    rec, server = recorder
    async with guarded_client(OutboundPolicy(), timeout=5) as http:
        with pytest.raises(BlockedDestination):
            await http.get(f"{server.url}/hello")
        with pytest.raises(BlockedDestination):
            await http.get(f"http://localhost:{server.port}/hello")
    assert rec.hits == []


async def test_the_operator_can_allow_a_network(
    recorder: tuple[_Recorder, LoopbackServer],
) -> None:
    rec, server = recorder
    policy = OutboundPolicy.from_settings(allowed=["127.0.0.1/32"])
    async with guarded_client(policy, timeout=5) as http:
        response = await http.get(f"{server.url}/hello")
    assert response.status_code == 200
    assert rec.hits == [("hello", f"127.0.0.1:{server.port}")]
    async with guarded_client(OutboundPolicy(allow_private=True), timeout=5) as http:
        assert (await http.get(f"{server.url}/hello")).text == "hi"


async def test_the_connection_goes_to_the_address_that_was_checked(
    recorder: tuple[_Recorder, LoopbackServer],
) -> None:
    rec, server = recorder
    resolved: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    policy = OutboundPolicy(
        allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), resolver=resolve
    )
    async with guarded_client(policy, timeout=5) as http:
        response = await http.get(f"http://api.example.test:{server.port}/hello")
    assert response.text == "hi"
    assert resolved == ["api.example.test"]
    # The name stays the name on the wire (Host header, and SNI for TLS).
    assert rec.hits == [("hello", f"api.example.test:{server.port}")]


async def test_a_redirect_to_a_forbidden_address_is_not_followed(
    recorder: tuple[_Recorder, LoopbackServer],
) -> None:
    rec, server = recorder
    hidden = _Recorder()
    async with serving(hidden.app, host="127.0.0.2") as inner:
        rec.redirect_to = f"{inner.url}/hello"
        policy = OutboundPolicy.from_settings(allowed=["127.0.0.1/32"])
        async with guarded_client(policy, timeout=5) as http:
            with pytest.raises(BlockedDestination, match=r"127\.0\.0\.2"):
                await http.get(f"{server.url}/bounce")
            rec.redirect_to = "file:///etc/passwd"
            with pytest.raises((InvalidUrl, httpx.UnsupportedProtocol)):
                await http.get(f"{server.url}/bounce")
    assert [h for h, _ in rec.hits] == ["bounce", "bounce"]
    assert hidden.hits == []
