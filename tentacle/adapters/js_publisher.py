"""Publishing a unit of work's messages to JetStream: all sent at once, acks awaited together.

Why not `Bus.publish_message` per message: each one is a request of its own in nats-py (a
task to send it alongside the others, a response token, a timer, an acknowledgement object),
and a step publishes three messages (its next work item and two lifecycle events), so that
machinery was a measurable share of a replica's CPU per step. Here the messages are written
to the connection in order without yielding (so they reach the server in staging order),
each with a reply subject on one inbox subscription of this process, and their
acknowledgements are awaited together under one timeout.

The guarantees are the outbox's: a message is reported sent only when its stream has
acknowledged it (a duplicate's acknowledgement counts: JetStream dropped it by message id);
anything else (not connected, no stream, a stream error, no answer in time) raises, and the
caller leaves the message to the outbox relay.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from typing import Any, Final

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from shared.bus import Bus
from shared.bus.codec import OutboundMessage
from shared.bus.errors import BusTimeout, BusUnavailable

_NO_RESPONDERS: Final = "503"


class StreamRefused(Exception):
    """The stream answered with an error instead of storing the message."""


class PipelinedPublisher:
    def __init__(self, bus: Bus, *, timeout_s: float = 5.0) -> None:
        self._bus = bus
        self._timeout_s = timeout_s
        self._tokens = itertools.count()
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._prefix = ""
        self._sub: Subscription | None = None
        self._subscribing: asyncio.Lock | None = None

    async def __call__(self, messages: Sequence[OutboundMessage]) -> None:
        nc = self._bus.nc
        if not nc.is_connected:
            # Fail at once while reconnecting: the relay sends it (as Bus.publish_message).
            raise BusUnavailable(f"not connected to NATS; {len(messages)} message(s) not sent")
        if self._sub is None:
            await self._subscribe()
        loop = asyncio.get_running_loop()
        tokens: list[str] = []
        futures: list[asyncio.Future[None]] = []
        try:
            for message in messages:
                token = str(next(self._tokens))
                future: asyncio.Future[None] = loop.create_future()
                self._waiting[token] = future
                tokens.append(token)
                futures.append(future)
                # Buffered by nats-py without yielding: the messages go out in this order.
                await nc.publish(
                    message.subject,
                    message.body,
                    reply=self._prefix + token,
                    headers=message.headers,
                )
            done = futures[0] if len(futures) == 1 else asyncio.gather(*futures)
            try:
                await asyncio.wait_for(done, self._timeout_s)
            except TimeoutError:
                raise BusTimeout(
                    f"no acknowledgement for {len(messages)} message(s) within {self._timeout_s}s"
                ) from None
        finally:
            for token in tokens:
                self._waiting.pop(token, None)
            for future in futures:  # a second failure is known: do not log it as unseen
                if future.done() and not future.cancelled():
                    future.exception()

    async def _subscribe(self) -> None:
        if self._subscribing is None:
            self._subscribing = asyncio.Lock()
        async with self._subscribing:
            if self._sub is not None:
                return
            nc = self._bus.nc
            prefix = nc.new_inbox() + "."
            self._sub = await nc.subscribe(prefix + "*", cb=self._on_ack)
            self._prefix = prefix

    async def _on_ack(self, msg: Msg) -> None:
        future = self._waiting.pop(msg.subject[len(self._prefix) :], None)
        if future is None or future.done():  # given up on (timed out): nobody waits
            return
        error = _ack_error(msg)
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _ack_error(msg: Msg) -> Exception | None:
    headers = msg.headers
    if headers and headers.get("Status") == _NO_RESPONDERS:
        return BusUnavailable("no stream answers for a published message")
    data = msg.data
    if b'"error"' not in data:
        return None
    try:
        reply: Any = json.loads(data)
    except ValueError:
        return StreamRefused(f"unreadable acknowledgement: {data[:200]!r}")
    error = reply.get("error") if isinstance(reply, dict) else None
    if error is None:
        return None
    return StreamRefused(f"the stream refused a message: {error}")
