"""The bus client: connect, publish typed messages, make typed requests.

Nothing connects at construction; `connect()` does, so a composition root can build a `Bus`
and hand it to handlers before the service starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
from nats.aio.client import Client as NATS
from nats.errors import (
    ConnectionClosedError,
    ConnectionDrainingError,
    ConnectionReconnectingError,
    NoRespondersError,
    OutboundBufferLimitError,
)
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import NoStreamResponseError

from contracts.envelope import Actor
from contracts.model import ContractModel
from contracts.subject import Kind, Subject
from shared.bus.codec import OutboundMessage, decode_reply, encode
from shared.bus.errors import BusTimeout, BusUnavailable, RemoteError
from shared.context import CallContext, new_stamp, system_actor
from shared.logging import get_logger
from shared.settings import PlatformSettings

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)

log = get_logger(__name__)

_DRAIN_TIMEOUT_S = 3.0

_CONNECTION_ERRORS = (
    ConnectionClosedError,
    ConnectionDrainingError,
    ConnectionReconnectingError,
    OutboundBufferLimitError,
)


@dataclass(frozen=True, slots=True)
class Published:
    stream: str
    seq: int
    duplicate: bool


class Bus:
    def __init__(
        self, settings: PlatformSettings, *, name: str, actor: Actor | None = None
    ) -> None:
        self.settings = settings
        self.name = name
        self.actor = actor or system_actor("fluxos")
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._reconnect_listeners: list[Callable[[], None]] = []

    # ---------------------------------------------------------------- connection
    async def connect(self, *, timeout: float = 10.0) -> Bus:
        if self._nc is not None:
            return self

        async def disconnected() -> None:
            log.warning("bus.disconnected", connection=self.name)

        async def reconnected() -> None:
            log.info("bus.reconnected", connection=self.name)
            for listener in list(self._reconnect_listeners):
                listener()

        async def error(exc: Exception) -> None:
            log.warning("bus.error", connection=self.name, error=str(exc))

        self._nc = await nats.connect(
            servers=self.settings.nats_servers,
            name=self.name,
            connect_timeout=timeout,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            # Keep publishing into the client's buffer while reconnecting (bounded).
            pending_size=64 * 1024 * 1024,
            # nats-py waits 30 s by default; a stopping service must not hang on a dead server.
            drain_timeout=_DRAIN_TIMEOUT_S,
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
        )
        self._js = self._nc.jetstream()
        return self

    async def close(self) -> None:
        """Drain (deliver what is buffered, finish subscriptions) if connected, else just close."""
        if self._nc is not None:
            nc, self._nc, self._js = self._nc, None, None
            if nc.is_closed:
                return
            if nc.is_connected:
                try:
                    await asyncio.wait_for(nc.drain(), _DRAIN_TIMEOUT_S + 1)
                    return
                except (NatsError, TimeoutError) as exc:
                    log.warning("bus.drain_failed", connection=self.name, error=str(exc))
            await nc.close()

    @property
    def nc(self) -> NATS:
        if self._nc is None:
            raise RuntimeError(f"bus {self.name} is not connected")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError(f"bus {self.name} is not connected")
        return self._js

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    def on_reconnect(self, listener: Callable[[], None]) -> None:
        self._reconnect_listeners.append(listener)

    # ---------------------------------------------------------------- building
    def message(
        self,
        subject: Subject[P, Any],
        payload: P,
        *,
        org_id: str | None = None,
        actor: Actor | None = None,
        message_id: str | None = None,
        parent: CallContext | None = None,
    ) -> OutboundMessage:
        """A message ready to publish now or to store in an outbox first."""
        stamp = new_stamp(
            subject.payload.__name__,
            actor=actor,
            org_id=org_id,
            message_id=message_id,
            parent=parent,
            default_actor=self.actor,
        )
        return encode(subject, payload, stamp)

    # ---------------------------------------------------------------- publishing
    async def publish(
        self,
        subject: Subject[P, None],
        payload: P,
        *,
        org_id: str | None = None,
        actor: Actor | None = None,
        message_id: str | None = None,
        timeout: float = 5.0,
    ) -> Published:
        """Publish a command or event to its stream and wait for the stream's acknowledgement."""
        if subject.kind is Kind.RPC:
            raise TypeError(f"{subject} is request-reply: use request()")
        msg = self.message(subject, payload, org_id=org_id, actor=actor, message_id=message_id)
        return await self.publish_message(msg, timeout=timeout)

    async def publish_message(self, msg: OutboundMessage, *, timeout: float = 5.0) -> Published:
        if self._nc is not None and not self._nc.is_connected:
            # Fail at once while reconnecting: a caller with an outbox hands the message to its
            # relay instead of holding a transaction's caller for the whole timeout.
            raise BusUnavailable(f"not connected to NATS; {msg.subject} not published")
        try:
            ack = await self.js.publish(msg.subject, msg.body, timeout=timeout, headers=msg.headers)
        except (NoRespondersError, NoStreamResponseError):
            # Also what a stream says while it elects a leader: retryable like any outage.
            raise BusUnavailable(f"no stream answers for {msg.subject}") from None
        except _CONNECTION_ERRORS as exc:
            raise BusUnavailable(f"{msg.subject} not published: {exc}") from None
        except (TimeoutError, NatsTimeout):
            raise BusTimeout(f"no acknowledgement for {msg.subject} within {timeout}s") from None
        return Published(ack.stream, ack.seq, bool(ack.duplicate))

    # ---------------------------------------------------------------- requests
    async def request(
        self,
        subject: Subject[P, R],
        payload: P,
        *,
        org_id: str | None = None,
        actor: Actor | None = None,
        timeout: float = 5.0,
    ) -> R:
        """Ask the subject's owner; its error reply is raised as `RemoteError`.

        "No responders" means nobody received the request, so it is asked again (briefly
        backing off) until `timeout`: a service restarting, or just subscribing, is waited for
        rather than reported down. Only then is it `BusUnavailable`.
        """
        if subject.kind is not Kind.RPC or subject.reply is None:
            raise TypeError(f"{subject} is not request-reply: use publish()")
        msg = self.message(subject, payload, org_id=org_id, actor=actor)
        data = await self.request_raw(msg.subject, msg.body, timeout=timeout)
        reply = decode_reply(subject.reply, data, strict=self.settings.strict_contracts)
        if reply.error is not None:
            raise RemoteError(reply.error)
        assert reply.data is not None
        result: R = reply.data
        return result

    async def request_raw(self, subject: str, body: bytes, *, timeout: float = 5.0) -> bytes:
        """Send `body` as it is to `subject` and return the reply's bytes, undecoded (for a
        caller that speaks the envelope itself, or tests sending malformed bodies). "No
        responders" is asked again until `timeout`, as `request` does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pause = 0.01
        while True:
            remaining = deadline - loop.time()
            try:
                # No headers: Nats-Msg-Id only means something to JetStream, and header
                # parsing is a measurable part of a request's cost in nats-py.
                response = await self.nc.request(subject, body, timeout=remaining)
                return response.data
            except NoRespondersError:
                if deadline - loop.time() <= pause:
                    raise BusUnavailable(f"nobody answers {subject}") from None
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.25)
            except _CONNECTION_ERRORS as exc:
                raise BusUnavailable(f"no request on {subject}: {exc}") from None
            except (TimeoutError, NatsTimeout):
                raise BusTimeout(f"no reply on {subject} within {timeout}s") from None
