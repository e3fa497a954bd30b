"""Revoked sessions, kept current in every process that verifies tokens locally.

inkpass publishes `SessionsRevokedV1` (through its outbox, right after the commit) to the
INKPASS_EVENTS stream. A `RevocationFeed` follows that subject with an ordered JetStream consumer
that starts one access-token lifetime in the past, so a process that starts now still learns
every revocation whose tokens could still be alive, then receives new ones as they are published
(milliseconds after inkpass commits).

An entry is forgotten once every access token of its session has expired anyway, so the cache
holds at most the revocations of the last half hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from pydantic import ValidationError

from contracts.envelope import Envelope
from contracts.inkpass.models import SessionsRevokedV1
from contracts.inkpass.streams import EVENTS_STREAM
from contracts.inkpass.subjects import SESSIONS_REVOKED
from shared.auth.tokens import ACCESS_TTL_S, LEEWAY_S
from shared.bus import Bus
from shared.logging import get_logger
from shared.tasks import cancel_and_wait

log = get_logger(__name__)

LOOKBACK: Final = timedelta(seconds=ACCESS_TTL_S + 2 * LEEWAY_S)
_PRUNE_EVERY: Final = 1024

Listener = Callable[[tuple[str, ...]], None]


class RevocationCache:
    """Session ids whose tokens must be refused, each until its tokens expire anyway."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self._clock = clock
        self._inserts = 0
        self.listeners: list[Listener] = []

    def revoke(self, session_ids: Iterable[str], until: float) -> None:
        ids = tuple(session_ids)
        for sid in ids:
            # A later revocation of the same session may only extend how long it is kept.
            self._until[sid] = max(until, self._until.get(sid, 0.0))
        self._inserts += len(ids)
        if self._inserts >= _PRUNE_EVERY:
            self.prune()
        for listener in list(self.listeners):
            listener(ids)

    def is_revoked(self, session_id: str) -> bool:
        until = self._until.get(session_id)
        if until is None:
            return False
        if until < self._clock():
            # Its tokens have all expired; the expiry check refuses them on its own now.
            self._until.pop(session_id, None)
            return False
        return True

    def prune(self) -> None:
        now = self._clock()
        self._inserts = 0
        for sid in [s for s, until in self._until.items() if until < now]:
            del self._until[sid]

    def __len__(self) -> int:
        return len(self._until)


class RevocationFeed:
    """Keeps a `RevocationCache` current from the bus.

    `healthy` is False until the feed has caught up with the stream, and whenever the
    connection is down: a verifier then refuses tokens instead of trusting a cache that may be
    missing a revocation.
    """

    def __init__(self, bus: Bus, cache: RevocationCache, *, lookback: timedelta = LOOKBACK):
        self.bus = bus
        self.cache = cache
        self.lookback = lookback
        self._sub: JetStreamContext.PushSubscription | None = None
        self._caught_up = asyncio.Event()
        self._resubscribing: asyncio.Task[None] | None = None
        self._running = False
        self.received = 0

    @property
    def healthy(self) -> bool:
        return self._running and self._caught_up.is_set() and self.bus.connected

    async def start(self, *, timeout: float = 10.0) -> None:
        self._running = True
        self.bus.on_reconnect(self._on_reconnect)
        await self._subscribe()
        await asyncio.wait_for(self._caught_up.wait(), timeout)

    async def stop(self) -> None:
        self._running = False
        if self._resubscribing is not None:
            await cancel_and_wait(self._resubscribing)
        await self._unsubscribe()

    async def wait_healthy(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        return self.healthy

    # ------------------------------------------------------------------ subscription
    async def _subscribe(self) -> None:
        self._caught_up.clear()
        js: JetStreamContext = self.bus.js
        start = datetime.now(UTC) - self.lookback
        sub = await js.subscribe(
            SESSIONS_REVOKED.wildcard,
            stream=EVENTS_STREAM.name,
            cb=self._on_msg,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.BY_START_TIME,
            config=ConsumerConfig(opt_start_time=start),
            idle_heartbeat=2.0,
        )
        self._sub = sub
        info = await sub.consumer_info()
        if info.num_pending == 0:
            self._caught_up.set()

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def _on_reconnect(self) -> None:
        # Messages published while we were away are in the stream: read the window again
        # rather than trust the client to have resumed exactly where it was.
        if not self._running:
            return
        self._caught_up.clear()
        self._resubscribing = asyncio.get_running_loop().create_task(self._resubscribe())

    async def _resubscribe(self) -> None:
        delay = 0.1
        while self._running:
            try:
                await self._unsubscribe()
                await self._subscribe()
                return
            except Exception as exc:  # the server may still be electing a leader
                log.warning("auth.revocations_resubscribe_failed", error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _on_msg(self, msg: Msg) -> None:
        self.received += 1
        try:
            envelope = Envelope[SessionsRevokedV1].model_validate_json(msg.data)
        except ValidationError:
            log.warning("auth.bad_revocation", subject=msg.subject)
        else:
            revoked = envelope.data
            self.cache.revoke(revoked.session_ids, revoked.tokens_expire_by.timestamp())
        pending = msg.metadata.num_pending if msg.metadata else 0
        if pending == 0:
            self._caught_up.set()
