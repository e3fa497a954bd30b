"""Serving request-reply subjects over core NATS, in a queue group per service.

Every request gets exactly one reply: the handler's result, or `{code, message}` for bad input
(stable bus codes), a service error (its own code) or a bug (`bus.internal`; the traceback stays
in the log). A handler never sees a message that failed validation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from contracts.envelope import ErrorV1, Meta
from contracts.ids import new_id
from contracts.model import ContractModel
from contracts.subject import Subject
from shared.bus.client import Bus
from shared.bus.codec import DecodeError, decode, encode_error, encode_reply
from shared.bus.errors import error_of
from shared.context import CallContext, Stamp, enter_call, leave_call
from shared.logging import get_logger

P = TypeVar("P", bound=ContractModel)
R = TypeVar("R", bound=ContractModel)

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Request:
    meta: Meta
    subject: str


RpcHandler = Callable[[P, Request], Awaitable[R]]


class RpcServer(Generic[P, R]):
    def __init__(
        self,
        bus: Bus,
        subject: Subject[P, R],
        handler: RpcHandler[P, R],
        *,
        queue: str,
        concurrency: int = 256,
    ) -> None:
        self.bus = bus
        self.subject = subject
        self.handler = handler
        self.queue = queue
        self._slots = asyncio.Semaphore(concurrency)
        self._sub: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._sub = await self.bus.nc.subscribe(
            self.subject.wildcard, queue=self.queue, cb=self._on_msg
        )

    async def stop(self, *, grace: float) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)

    async def _on_msg(self, msg: Msg) -> None:
        # Back-pressure: when every slot is busy the subscription's queue absorbs the burst.
        await self._slots.acquire()
        task = asyncio.create_task(self._serve(msg))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()

    async def _serve(self, msg: Msg) -> None:
        try:
            incoming = decode(
                self.subject,
                msg.data,
                strict=self.bus.settings.strict_contracts,
                max_bytes=self.bus.settings.max_message_bytes,
            )
        except DecodeError as exc:
            await self._respond(msg, encode_error(self._meta(None, "ErrorV1"), exc.to_error()))
            return
        token = enter_call(CallContext.from_meta(incoming.meta))
        try:
            result = await self.handler(incoming.data, Request(incoming.meta, msg.subject))
            if type(result) is not self.subject.reply:
                raise TypeError(f"handler of {self.subject} returned {type(result).__name__}")
            body = encode_reply(self._meta(incoming.meta, type(result).__name__), result)
        except Exception as exc:
            error: ErrorV1 = error_of(exc)
            log.log(
                40 if error.code == "bus.internal" else 20,
                "rpc.error",
                subject=msg.subject,
                code=error.code,
                error=str(exc),
                exc_info=error.code == "bus.internal",
            )
            body = encode_error(self._meta(incoming.meta, "ErrorV1"), error)
        finally:
            leave_call(token)
        await self._respond(msg, body)

    def _meta(self, request: Meta | None, type_name: str) -> Stamp:
        """The reply belongs to the request's call (a new tree if the request was unreadable)."""
        now = datetime.now(UTC)
        if request is None:
            call = new_id()
            return Stamp(new_id(), type_name, None, self.bus.actor, call, None, call, now)
        return Stamp(
            new_id(),
            type_name,
            request.org_id,
            self.bus.actor,
            request.call_id,
            request.parent_call_id,
            request.root_call_id,
            now,
        )

    async def _respond(self, msg: Msg, body: bytes) -> None:
        if not msg.reply:
            log.info("rpc.no_reply_subject", subject=msg.subject)
            return
        try:
            await self.bus.nc.publish(msg.reply, body)
        except Exception as exc:  # the caller times out; nothing else to do
            log.warning("rpc.reply_failed", subject=msg.subject, error=str(exc))
