"""A streamed response's body written straight to its connection, for fan-out hot paths.

Every chunk sent through ASGI is a coroutine passed down through each middleware's wrapper of
`send` (error handling, body limits, the route's exception handling) before uvicorn frames it.
For one write that is nothing; for a live event written to a thousand open streams it was as
much as the socket writes themselves (8 of 18 ms per event at 1,000 streams, profiled).

So the HTTP server keeps the server's own `send` in the request's scope (`KeepServerSend`), and
once a response has started through the normal chain, `direct_body` gives the connection under
it: chunks framed as uvicorn's HTTP/1.1 cycle frames them, handed to its transport, or, for many
connections at once, written by `ParallelWriter` from several threads. Whenever the connection
would not take a chunk at once (uvicorn paused writing for a full socket, the client left, the
response is not chunked) the caller is told and sends the chunk through ASGI as usual, which
waits where it must. Where there is no such connection (another server, another HTTP protocol,
TLS in the process) there is no direct body and every chunk takes the ordinary path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

SERVER_SEND = "fluxos.server_send"
"""The scope key under which `KeepServerSend` leaves the server's `send`."""


class KeepServerSend:
    """The outermost ASGI layer: records the server's `send` in each HTTP request's scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


def http_chunk(chunk: bytes) -> bytes:
    """`chunk` as one chunk of an HTTP/1.1 chunked body."""
    return b"%x\r\n%b\r\n" % (len(chunk), chunk)


class Socket(Protocol):
    """What `ParallelWriter` writes to: a non-blocking socket's descriptor, and where the part
    of a chunk the socket did not take goes (its transport's buffer, in order)."""

    fd: int

    def finish(self, rest: bytes) -> None: ...


class DirectBody:
    """The connection under one streamed response served by uvicorn's httptools cycle."""

    __slots__ = ("_cycle", "_flow", "_transport", "fd")

    def __init__(self, cycle: Any, fd: int) -> None:
        self._cycle = cycle
        self._flow = cycle.flow
        self._transport = cycle.transport
        self.fd = fd

    def _open(self) -> bool:
        # What uvicorn's `send` checks before writing a body chunk, and the transport's own
        # closing: the event loop closes the descriptor at once but tells uvicorn a turn later
        # (`disconnected`), and meanwhile a new connection may be given the same number.
        cycle = self._cycle
        return not (
            self._flow.write_paused
            or cycle.disconnected
            or not cycle.response_started
            or cycle.response_complete
            or not cycle.chunked_encoding
            or self._transport.is_closing()
        )

    def write(self, chunk: bytes) -> bool:
        """Write `chunk` through the transport and say True, or say False having written
        nothing (the connection would make the write wait, or is gone)."""
        if not chunk or not self._open():
            return False
        self._transport.write(http_chunk(chunk))
        return True

    def idle(self) -> bool:
        """Whether a framed chunk may go straight to the socket: open, nothing buffered ahead."""
        return self._open() and self._transport.get_write_buffer_size() == 0

    def finish(self, rest: bytes) -> None:
        self._transport.write(rest)


def direct_body(scope: Scope) -> DirectBody | None:
    """The connection under the response being served for `scope`, or None where there is
    none to write to directly. Use it only after the response has started."""
    cycle: Any = getattr(scope.get(SERVER_SEND), "__self__", None)
    if type(cycle) is not RequestResponseCycle:
        return None
    transport = cycle.transport
    sock = transport.get_extra_info("socket")
    if sock is None or transport.get_extra_info("ssl_object") is not None:
        return None  # the socket carries TLS records: only the transport may write to it
    return DirectBody(cycle, sock.fileno())


class ParallelWriter:
    """Writes framed chunks to many sockets at once, the calling thread and `helpers` threads
    each taking a share: the write system calls, most of a fan-out's time, release the GIL and
    so run side by side. Call `write` on the event loop thread; it returns when every chunk is
    written or handed to its transport, and nothing else touches those transports meanwhile.
    Small batches are written by the calling thread alone (a hand-off costs more than it saves).
    """

    def __init__(self, helpers: int, *, min_share: int = 64) -> None:
        self._helpers = helpers
        self._min_share = min_share
        self._pool: ThreadPoolExecutor | None = None
        self.parallel_batches = 0

    def start(self) -> None:
        if self._helpers > 0 and self._pool is None:
            self._pool = ThreadPoolExecutor(self._helpers, thread_name_prefix="direct-body")

    @property
    def running(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def write(self, items: Sequence[tuple[Socket, bytes]]) -> list[tuple[Socket, Exception]]:
        """Write each item's chunk to its socket; what a socket did not take goes to `finish`.
        The items whose `finish` raised (the connection is broken), with the error."""
        pool = self._pool
        shares = min(self._helpers + 1, len(items) // self._min_share) if pool else 1
        if shares <= 1 or pool is None:
            left = _write_share(items)
        else:
            size = -(-len(items) // shares)
            helping = [
                pool.submit(_write_share, items[start : start + size])
                for start in range(size, len(items), size)
            ]
            left = _write_share(items[:size])
            for future in helping:
                left.extend(future.result())
            self.parallel_batches += 1
        failed: list[tuple[Socket, Exception]] = []
        for sock, rest in left:
            try:
                sock.finish(rest)
            except Exception as exc:
                failed.append((sock, exc))
        return failed


def _write_share(items: Sequence[tuple[Socket, bytes]]) -> list[tuple[Socket, bytes]]:
    """Write each chunk with one system call; what was not written, for the transports."""
    left: list[tuple[Socket, bytes]] = []
    write = os.write
    for sock, chunk in items:
        try:
            sent = write(sock.fd, chunk)
        except OSError:  # full (EAGAIN) or broken: the transport retries or reports it
            left.append((sock, chunk))
            continue
        if sent < len(chunk):
            left.append((sock, chunk[sent:]))
    return left
