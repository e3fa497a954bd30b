"""A durable JetStream pull consumer that runs one typed handler.

Flow control is by credit: at most `concurrency` messages are requested or in flight, and more
are requested as handlers finish, so a message never waits in this process while its AckWait
runs out. Pull requests carry an idle heartbeat; if neither messages nor heartbeats arrive for a
while (a reconnect, a server restart, a leader change), the credit is reset and pulled afresh.

Each delivery ends in exactly one decision:

* the handler returned: ack;
* the body can never be processed (bad JSON, wrong schema or version, oversize, subject
  disagreeing with the payload) or the handler raised a permanent error: dead-letter, then term;
* the handler raised anything else: nak with the consumer's backoff delay, or on the last
  attempt dead-letter and term;
* the process is stopping: nak at once, so another replica takes over without waiting AckWait.

JetStream redelivery is the only retry mechanism (one retry owner).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.envelope import Meta
from contracts.model import ContractModel
from contracts.platform.errors import BusErrorCode
from contracts.streams import Consumer
from shared.bus.client import Bus
from shared.bus.codec import DecodeError, decode
from shared.bus.deadletter import DeadLetters
from shared.bus.errors import error_of, is_retryable
from shared.context import CallContext, enter_call, leave_call
from shared.errors import TransientError
from shared.logging import get_logger
from shared.tasks import cancel_and_wait

P = TypeVar("P", bound=ContractModel)

log = get_logger(__name__)

_EXPIRES_S = 30.0
_HEARTBEAT_S = 5.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a handler may know about the message it is handling."""

    meta: Meta
    subject: str
    max_attempts: int
    consumer: str
    _msg: Msg

    # JetStream's delivery metadata is parsed from the reply subject only when asked for:
    # most deliveries succeed and never need it.
    @property
    def attempt(self) -> int:
        return _attempt(self._msg)

    @property
    def stream_seq(self) -> int:
        return _stream_seq(self._msg)

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts

    async def in_progress(self) -> None:
        """Tell the server the handler is alive (resets AckWait); automatic if heartbeat=True."""
        await self._msg.in_progress()


Handler = Callable[[P, Delivery], Awaitable[None]]


def _retry_delay(spec: Consumer[Any], attempt: int, exc: Exception) -> float:
    delay = spec.jittered_delay(attempt).total_seconds()
    hint = exc.retry_after if isinstance(exc, TransientError) else None
    return max(delay, hint) if hint is not None else delay


def _attempt(msg: Msg) -> int:
    return msg.metadata.num_delivered or 1


def _stream_seq(msg: Msg) -> int:
    sequence = msg.metadata.sequence
    return sequence.stream if sequence else 0


class PullConsumer(Generic[P]):
    def __init__(
        self, bus: Bus, spec: Consumer[P], handler: Handler[P], *, dead_letters: DeadLetters
    ) -> None:
        self.bus = bus
        self.spec = spec
        self.handler = handler
        self.dead_letters = dead_letters
        self._next = f"$JS.API.CONSUMER.MSG.NEXT.{spec.stream.name}.{spec.durable}"
        self._sub: Subscription | None = None
        self._inbox = ""
        self._requested = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._running = False
        self._last_seen = 0.0
        self._watchdog: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        # Messages whose handler is running, with when it started: one ticker heartbeats them
        # all, rather than a timer task per message.
        self._active: dict[int, tuple[Msg, float]] = {}
        self._pulling = False
        self._pulls: set[asyncio.Task[None]] = set()
        self.handled = 0

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        nc = self.bus.nc
        self._inbox = nc.new_inbox()
        self._sub = await nc.subscribe(
            self._inbox, cb=self._on_msg, pending_msgs_limit=self.spec.concurrency * 4 + 64
        )
        self._running = True
        self._last_seen = time.monotonic()
        self.bus.on_reconnect(self._reset)
        await self._pull()
        self._watchdog = asyncio.create_task(self._watch(), name=f"watch-{self.spec.durable}")
        if self.spec.heartbeat:
            self._ticker = asyncio.create_task(self._beat(), name=f"beat-{self.spec.durable}")

    async def stop(self, *, grace: float) -> None:
        self._running = False
        for task in (self._watchdog, self._ticker):
            if task is not None:
                await cancel_and_wait(task)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=grace)
            await asyncio.gather(*(cancel_and_wait(task) for task in pending))

    @property
    def running(self) -> bool:
        return self._running

    @property
    def inflight(self) -> int:
        return len(self._inflight)

    # ---------------------------------------------------------------- credit
    async def _pull(self) -> None:
        if self._pulling or not self._running:
            return
        want = self.spec.concurrency - len(self._inflight) - self._requested
        if want <= 0:
            return
        self._pulling = True
        try:
            self._requested += want
            request = {
                "batch": want,
                "expires": int(_EXPIRES_S * 1e9),
                "idle_heartbeat": int(_HEARTBEAT_S * 1e9),
            }
            await self.bus.nc.publish(self._next, json.dumps(request).encode(), reply=self._inbox)
        except Exception as exc:  # the watchdog pulls again once the connection is back
            self._requested = max(0, self._requested - want)
            log.warning("consumer.pull_failed", consumer=self.spec.durable, error=str(exc))
        finally:
            self._pulling = False

    def _pull_soon(self) -> None:
        # Referenced until done: the event loop keeps only weak references to tasks.
        task = asyncio.get_running_loop().create_task(self._pull())
        self._pulls.add(task)
        task.add_done_callback(self._pulls.discard)

    def _reset(self) -> None:
        self._requested = 0
        if self._running:
            self._pull_soon()

    async def _watch(self) -> None:
        while self._running:
            await asyncio.sleep(_HEARTBEAT_S)
            silent = time.monotonic() - self._last_seen
            if self._requested and silent > 3 * _HEARTBEAT_S:
                log.info("consumer.pull_lost", consumer=self.spec.durable, silent_s=round(silent))
                self._requested = 0
            await self._pull()

    # ---------------------------------------------------------------- delivery
    async def _on_msg(self, msg: Msg) -> None:
        self._last_seen = time.monotonic()
        headers = msg.headers
        status = headers.get("Status") if headers else None
        if status is not None and not msg.data:
            self._on_status(status, headers or {})
            return
        self._requested = max(0, self._requested - 1)
        task = asyncio.create_task(self._handle(msg))
        self._inflight.add(task)
        task.add_done_callback(self._finished)

    def _on_status(self, status: str, headers: dict[str, str]) -> None:
        if status == "100":  # idle heartbeat: the pull request is alive
            return
        pending = headers.get("Nats-Pending-Messages")
        if pending is not None and pending.isdigit():
            self._requested = max(0, self._requested - int(pending))
        else:
            self._requested = 0
        if status == "409":
            log.warning(
                "consumer.pull_rejected",
                consumer=self.spec.durable,
                reason=headers.get("Description", ""),
            )
        self._pull_soon()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self.handled += 1
        if self._running and self._requested + len(self._inflight) <= self.spec.concurrency // 2:
            self._pull_soon()

    async def _handle(self, msg: Msg) -> None:
        try:
            incoming = decode(
                self.spec.subject,
                msg.data,
                strict=self.bus.settings.strict_contracts,
                max_bytes=self.bus.settings.max_message_bytes,
            )
            if not self.spec.accepts_subject(msg.subject, incoming.data, incoming.meta):
                expected = self.spec.subject.render(incoming.data, incoming.meta)
                raise DecodeError(
                    BusErrorCode.WRONG_SUBJECT,
                    f"published to {msg.subject} but the message belongs on {expected}",
                )
        except DecodeError as exc:
            await self._give_up(msg, exc.code, exc.message)
            return
        except ValueError as exc:  # a token the payload cannot supply
            await self._give_up(msg, BusErrorCode.WRONG_SUBJECT.value, str(exc))
            return

        delivery = Delivery(
            meta=incoming.meta,
            subject=msg.subject,
            max_attempts=self.spec.max_deliver,
            consumer=self.spec.durable,
            _msg=msg,
        )
        token = enter_call(CallContext.from_meta(incoming.meta))
        self._active[id(msg)] = (msg, time.monotonic())
        try:
            await self.handler(incoming.data, delivery)
        except asyncio.CancelledError:
            # Stopping: hand the message back now rather than after AckWait.
            with contextlib.suppress(Exception):
                await msg.nak()
            raise
        except Exception as exc:
            await self._failed(msg, exc)
        else:
            await msg.ack()
        finally:
            self._active.pop(id(msg), None)
            leave_call(token)

    async def _beat(self) -> None:
        """Reset AckWait for handlers running for a third of it, so they keep their message."""
        interval = max(self.spec.ack_wait.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            due = time.monotonic() - interval
            for msg, started in list(self._active.values()):
                if started <= due:
                    with contextlib.suppress(Exception):  # a lost beat: AckWait decides
                        await msg.in_progress()

    async def _failed(self, msg: Msg, exc: Exception) -> None:
        error = error_of(exc)
        attempt = _attempt(msg)
        if is_retryable(exc) and attempt < self.spec.max_deliver:
            delay = _retry_delay(self.spec, attempt, exc)
            log.warning(
                "consumer.retry",
                consumer=self.spec.durable,
                attempt=attempt,
                delay_s=delay,
                code=error.code,
                error=str(exc),
                exc_info=error.code == BusErrorCode.INTERNAL.value,
            )
            await msg.nak(delay=delay)
            return
        log.error(
            "consumer.gave_up",
            consumer=self.spec.durable,
            attempt=attempt,
            code=error.code,
            error=str(exc),
            exc_info=error.code == BusErrorCode.INTERNAL.value,
        )
        await self._give_up(msg, error.code, error.message)

    async def _give_up(self, msg: Msg, code: str, reason: str) -> None:
        attempt = _attempt(msg)
        try:
            await self.dead_letters.record(
                consumer=self.spec.durable,
                stream=self.spec.stream.name,
                stream_seq=_stream_seq(msg),
                subject=msg.subject,
                code=code,
                reason=reason,
                deliveries=attempt,
                headers=dict(msg.headers or {}),
                body=msg.data,
            )
        except Exception as exc:
            # The dead letter is not safe yet: keep the message. If this was its last delivery,
            # the max-deliveries advisory will dead-letter it once the bus is back.
            log.error("consumer.dead_letter_failed", consumer=self.spec.durable, error=str(exc))
            await msg.nak(delay=self.spec.retry_delay(attempt).total_seconds())
            return
        await msg.term()
