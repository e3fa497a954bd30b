"""Send one notification: record, rate-limit, render, hand to a provider, track.

Never twice. The notification row (unique per org and idempotency key) is locked for every
decision, and each provider call is journalled before it is made and settled after:

1. Lock or create the row (`queued`). Same key, different request: `mimic.idempotency_conflict`.
   Already handed over (`sent` or later, or `failed`): nothing to do.
2. An unsettled journal entry means an earlier delivery called a provider and never heard back
   (it crashed, or the call was cut off). Still within its lease: someone is on it, come back
   later. Otherwise the message may have gone out: a provider that honours idempotency keys
   (Resend) is asked again with the same key, which cannot duplicate; with any other, the
   notification fails as `mimic.outcome_unknown` rather than risk a second copy.
3. Charge the rate limits once. Over: deferred (redelivered when the window ends) or, for high
   priority or after too many deferrals, failed as `mimic.rate_limited`.
4. Journal the call (`calling`), commit, call. Accepted: `sent` (the dev sink: `delivered`).
   Rejected: `failed`. Unavailable: the next provider, journalled the same way (failover within
   one delivery). All unavailable: retried by JetStream's jittered backoff (the one retry
   owner), failed on the last delivery.

Every status change is published through the outbox, so what the bus says is what happened. A
first delivery's `queued` and `send_started` are published by the transaction that records its
call's outcome, together with it (one outbox round per email instead of two); after a crash,
the redelivery publishes them before anything else.

The common case takes a shorter road with the same steps, on the send store (`SendStore`, its
own asyncpg pool): a first delivery whose limits have room is recorded, journalled and charged
by one statement (after one read if its template is not cached), and its accepted call is
settled with all four events by another. Whatever that road does not cover (a repeat, a full
limit, a refusal, failover, a row touched meanwhile) writes nothing there and goes the way above.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    Channel,
    NotificationStatus,
    Priority,
    SendNotificationV1,
    notification_id,
)
from contracts.mimic.subjects import (
    NOTIFICATION_DEFERRED,
    NOTIFICATION_DELIVERED,
    NOTIFICATION_FAILED,
    NOTIFICATION_QUEUED,
    NOTIFICATION_SEND_STARTED,
    NOTIFICATION_SENT,
)
from mimic.adapters import notifications as repo
from mimic.adapters import ratelimits, send_writes
from mimic.adapters.notifications import Notification, to_model
from mimic.adapters.providers.base import EmailProvider
from mimic.adapters.send_store import SendStore
from mimic.domain.addresses import check_header_value
from mimic.domain.email import Mailbox, OutgoingEmail
from mimic.domain.errors import MimicError, RetryLater
from mimic.domain.outcomes import Accepted, InDoubt, Outcome, Rejected, Unavailable
from mimic.domain.ratelimit import Limits
from mimic.domain.status import HANDED_OVER
from mimic.domain.templates import CompiledTemplate
from mimic.service.catalog import TemplateCatalog
from mimic.service.context import require_org
from mimic.service.events import Events, Staging
from mimic.service.send_plan import (
    Call,
    Done,
    Later,
    Plan,
    Prepared,
    as_queued,
    as_sending,
    failure,
    over,
    queued_of,
    request_hash,
    sending_of,
)
from shared.bus import Delivery
from shared.db import Database, UnitOfWork
from shared.logging import get_logger

log = get_logger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class _OverLimit(Exception):
    """A hopeful first transaction found a rate limit full: roll it back, decide carefully."""


def _first_values(
    org_id: str, nid: str, command: SendNotificationV1, prepared: Prepared, now: datetime
) -> dict[str, Any]:
    return {
        "id": nid,
        "org_id": org_id,
        "idempotency_key": command.idempotency_key,
        "request_hash": request_hash(command),
        "channel": command.channel.value,
        "recipient": command.to.address,
        "priority": command.priority.value,
        "status": NotificationStatus.QUEUED.value,
        "template_key": prepared.template_key,
        "template_version": prepared.template_version,
        "subject": prepared.subject,
        "metadata": dict(command.metadata),
        "queued_at": now,
        "updated_at": now,
    }


def _sending_values(
    org_id: str, nid: str, command: SendNotificationV1, prepared: Prepared, now: datetime
) -> dict[str, Any]:
    """A first delivery's row written straight as being sent, its limits charged with it."""
    values = _first_values(org_id, nid, command, prepared, now)
    values.update(
        status=NotificationStatus.SENDING.value,
        rate_charged=True,
        attempts=1,
        sending_at=now,
        # Published by the transaction recording the call's outcome (one outbox round).
        announced=False,
    )
    return values


@dataclass(frozen=True)
class SendPolicy:
    sender: Mailbox
    limits: Limits
    max_deferrals: int
    lease: timedelta


async def _locked(session: AsyncSession, nid: str) -> Notification:
    row = await repo.lock(session, nid)
    assert row is not None, "a notification being sent has a row"
    return row


class SendNotification:
    def __init__(
        self,
        db: Database,
        store: SendStore,
        events: Events,
        catalog: TemplateCatalog,
        providers: Mapping[Channel, Sequence[EmailProvider]],
        policy: SendPolicy,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.store = store
        self.events = events
        self.catalog = catalog
        self.providers = providers
        self.policy = policy
        self.clock = clock

    async def __call__(self, command: SendNotificationV1, delivery: Delivery) -> None:
        org_id = require_org(delivery.meta.org_id)
        nid = notification_id(org_id, command.idempotency_key)
        prepared: Prepared | None = None
        plan: Plan = Done()
        fast = await self._first_fast(org_id, nid, command)
        if isinstance(fast, tuple):
            prepared, plan = fast
        # Not done by the fast write: first as if the limits had room (nearly always true); over
        # one, that transaction is rolled back, charge included, and the careful path decides.
        # The fast write found a limit full already: the careful path at once.
        hopes = () if isinstance(fast, tuple) else (False,) if fast == "full" else (True, False)
        for hopeful in hopes:
            try:
                async with self.db.transaction(org_id=org_id) as uow:
                    row = await repo.lock(uow.session, nid)
                    if row is None:
                        # Rendered before anything is written: bad input is refused, nothing
                        # recorded.
                        prepared = await self._prepare(uow.session, org_id, command, None)
                        plan = await self._first(
                            uow, org_id, nid, command, prepared, hopeful=hopeful
                        )
                    else:
                        prepared = await self._again(uow.session, org_id, row, command)
                        plan = (
                            await self._decide(uow, row, last=delivery.last_attempt)
                            if prepared is not None
                            else Done()
                        )
                break
            except _OverLimit:
                continue
        match plan:
            case Done():
                return
            case Later(code, message, retry_after):
                raise RetryLater(code, message, retry_after=retry_after)
            case Call():
                assert prepared is not None
                email = self._email(nid, prepared)
                await self._send(org_id, nid, email, plan, delivery)

    async def _first_fast(
        self, org_id: str, nid: str, command: SendNotificationV1
    ) -> tuple[Prepared, Call] | str | None:
        """The common first delivery on the send store: recorded as being sent, its call
        journalled and its limits charged in one statement, or nothing written at all. The
        content and plan to call with; or why not ("exists", "full"); or None without a
        provider for the channel (the general way records the failure)."""
        providers = list(self.providers.get(command.channel, ()))
        if not providers:
            return None
        ref = command.template if command.content is None else None
        compiled = self.catalog.known(org_id, ref) if ref is not None else None
        async with self.store.statement(org_id) as one:
            if ref is not None and compiled is None:  # read-only, before the unit's one write
                find = partial(send_writes.find_template, one)
                compiled = await self.catalog.resolve_by(find, org_id, ref)
            # Rendered before anything is written: bad input is refused, nothing recorded.
            prepared = self._prepared(command, compiled)
            now = self.clock()
            counters = self.policy.limits.counters(
                org_id=org_id, channel=command.channel.value, recipient=command.to.address, now=now
            )
            values = _sending_values(org_id, nid, command, prepared, now)
            refused = await send_writes.record_first(
                one, values, provider=providers[0].name, counters=counters, now=now
            )
        if refused is not None:
            return refused
        return prepared, Call(providers, 1, resumed=False, unannounced=True, recorded=values)

    # ------------------------------------------------------------------ deciding (row locked)
    async def _first(
        self,
        uow: UnitOfWork,
        org_id: str,
        nid: str,
        command: SendNotificationV1,
        prepared: Prepared,
        *,
        hopeful: bool,
    ) -> Plan:
        """A notification seen for the first time: recorded in its first state in one insert.

        `hopeful`: write it as being sent and charge the rate limits last, just before the
        commit, raising `_OverLimit` if one is full. Every send of an organisation updates the
        same counter rows, so how long their locks are held bounds mimic's throughput; charged
        last, they are held for one statement and the commit instead of for the whole
        transaction.
        """
        session, now = uow.session, self.clock()
        providers = list(self.providers.get(command.channel, ()))
        if hopeful and providers:
            return await self._first_hopeful(uow, org_id, nid, command, prepared, providers, now)
        values = _first_values(org_id, nid, command, prepared, now)
        plan: Plan = Done()
        follow: Any = NOTIFICATION_FAILED
        if not providers:
            values.update(failure(MimicErrorCode.CHANNEL_UNAVAILABLE, "no provider", now))
        else:
            counters = self.policy.limits.counters(
                org_id=org_id, channel=command.channel.value, recipient=command.to.address, now=now
            )
            full = await ratelimits.charge(session, counters)
            if full is None:
                values.update(
                    status=NotificationStatus.SENDING.value,
                    rate_charged=True,
                    attempts=1,
                    sending_at=now,
                )
                follow = NOTIFICATION_SEND_STARTED
            elif command.priority is Priority.HIGH or self.policy.max_deferrals == 0:
                values.update(failure(MimicErrorCode.RATE_LIMITED, over(full), now))
            else:
                values.update(deferrals=1, deferred_until=full.window_end)
                follow = NOTIFICATION_DEFERRED
                wait = max((full.window_end - now).total_seconds(), 1.0)
                plan = Later(MimicErrorCode.RATE_LIMITED, over(full), wait)
        sending = follow is NOTIFICATION_SEND_STARTED
        # On the way to a provider, this transaction publishes nothing: the one recording the
        # call's outcome publishes queued and send_started with it (one outbox round, not two).
        values["announced"] = not sending
        row = await repo.create(session, values)
        if row is None:
            # A concurrent first delivery of the same key is recording it: roll this one back
            # (and its rate-limit charge with it) and look again shortly.
            raise RetryLater(
                MimicErrorCode.SEND_IN_PROGRESS, "another delivery is recording it", retry_after=1
            )
        if not sending:
            self.events.publish(uow, NOTIFICATION_QUEUED, as_queued(row), org_id=org_id)
            self.events.stage(uow, follow, row)
            return plan
        seq = await repo.start_attempt(
            session, org_id=org_id, notification_id=nid, provider=providers[0].name, now=now
        )
        return Call(providers, seq, resumed=False, unannounced=True)

    async def _first_hopeful(
        self,
        uow: UnitOfWork,
        org_id: str,
        nid: str,
        command: SendNotificationV1,
        prepared: Prepared,
        providers: list[EmailProvider],
        now: datetime,
    ) -> Plan:
        row = await repo.create(uow.session, _sending_values(org_id, nid, command, prepared, now))
        if row is None:
            raise RetryLater(
                MimicErrorCode.SEND_IN_PROGRESS, "another delivery is recording it", retry_after=1
            )
        seq = await repo.start_attempt(
            uow.session, org_id=org_id, notification_id=nid, provider=providers[0].name, now=now
        )
        counters = self.policy.limits.counters(
            org_id=org_id, channel=command.channel.value, recipient=command.to.address, now=now
        )
        if await ratelimits.charge(uow.session, counters) is not None:
            raise _OverLimit
        return Call(providers, seq, resumed=False, unannounced=True)

    async def _again(
        self, session: AsyncSession, org_id: str, row: Notification, command: SendNotificationV1
    ) -> Prepared | None:
        """A redelivery or a repeat of the same key: the content to send, or None if done."""
        if row.request_hash != request_hash(command):
            raise MimicError(
                MimicErrorCode.IDEMPOTENCY_CONFLICT,
                "this idempotency key was used before with a different request",
                details={"notification_id": row.id},
            )
        if NotificationStatus(row.status) in HANDED_OVER:
            return None
        pinned = (row.template_key, row.template_version) if row.template_key else None
        return await self._prepare(session, org_id, command, pinned)

    async def _prepare(
        self,
        session: AsyncSession,
        org_id: str,
        command: SendNotificationV1,
        pinned: tuple[str, int] | None,
    ) -> Prepared:
        compiled = None
        if command.content is None:
            assert command.template is not None
            ref = command.template
            if pinned is not None:
                ref = ref.model_copy(update={"key": pinned[0], "version": pinned[1]})
            compiled = await self.catalog.resolve(session, org_id, ref)
        return self._prepared(command, compiled)

    def _prepared(self, command: SendNotificationV1, compiled: CompiledTemplate | None) -> Prepared:
        """The content to send: inline, or rendered from `compiled` (the command's template)."""
        to = reply_to = None
        if command.channel is Channel.EMAIL:
            to = Mailbox.checked(command.to.address, command.to.name, field="recipient")
            if command.reply_to is not None:
                reply_to = Mailbox.parse(command.reply_to, field="reply_to")
        if command.content is not None:
            content = command.content
            subject = check_header_value(content.subject, field="subject")
            return Prepared(to, reply_to, subject, content.text, content.html)
        assert compiled is not None
        rendered = compiled.render(command.variables)
        return Prepared(
            to,
            reply_to,
            rendered.subject,
            rendered.text,
            rendered.html,
            compiled.spec.key,
            compiled.spec.version,
        )

    async def _decide(self, uow: UnitOfWork, row: Notification, *, last: bool) -> Plan:
        session, now = uow.session, self.clock()
        pending = await repo.open_attempt(session, row.id)
        live = pending if pending is not None and pending.outcome == "calling" else None
        if live is not None and live.started_at > now - self.policy.lease:
            # Someone is talking to the provider right now; it settles (and announces). The
            # consumer's backoff brings this back: soon, and past the lease if it comes to that.
            return Later(
                MimicErrorCode.SEND_IN_PROGRESS,
                f"{live.provider} is being called for this notification",
                None,
            )
        if not row.announced:
            # An earlier delivery recorded a call and stopped before its outcome (a crash):
            # what it did not announce is announced now, before anything else happens.
            row = await self._catch_up(uow, row)
        providers = list(self.providers.get(Channel(row.channel), ()))
        if not providers:
            await self._fail(
                uow, row, MimicErrorCode.CHANNEL_UNAVAILABLE, f"no provider for {row.channel}"
            )
            return Done()
        if pending is not None:
            return await self._resume(uow, row, pending, providers, now)
        if not row.rate_charged:
            refused = await self._charge(uow, row, now, last=last)
            if refused is not None:
                return refused
        seq = await repo.start_attempt(
            session, org_id=row.org_id, notification_id=row.id, provider=providers[0].name, now=now
        )
        await self._sending(uow, row, now)
        return Call(providers, seq, resumed=False)

    async def _resume(
        self,
        uow: UnitOfWork,
        row: Notification,
        pending: Any,
        providers: list[EmailProvider],
        now: datetime,
    ) -> Plan:
        """An unsettled call, past its lease: ask again only where that cannot duplicate."""
        provider = next((p for p in providers if p.name == pending.provider), None)
        if provider is None or not provider.idempotent:
            await repo.finish_attempt(
                uow.session,
                row.id,
                pending.seq,
                outcome="in_doubt",
                detail="never answered",
                now=now,
            )
            await self._fail(
                uow,
                row,
                MimicErrorCode.OUTCOME_UNKNOWN,
                f"a call to {pending.provider} was never answered; it may have been sent, so it "
                "is not sent again",
            )
            return Done()
        await repo.restart_attempt(uow.session, row.id, pending.seq, now)
        await self._sending(uow, row, now)
        return Call([provider], pending.seq, resumed=True)

    async def _charge(
        self, uow: UnitOfWork, row: Notification, now: datetime, *, last: bool
    ) -> Plan | None:
        counters = self.policy.limits.counters(
            org_id=row.org_id, channel=row.channel, recipient=row.recipient, now=now
        )
        full = await ratelimits.charge(uow.session, counters)
        if full is None:
            await repo.change(uow.session, row.id, rate_charged=True, deferred_until=None)
            return None
        why = over(full)
        # On the consumer's last delivery a deferral would never come back: refuse instead, so
        # the notification still ends in a final state.
        exhausted = row.deferrals >= self.policy.max_deferrals or last
        if Priority(row.priority) is Priority.HIGH or exhausted:
            await self._fail(uow, row, MimicErrorCode.RATE_LIMITED, why)
            return Done()
        changed = await repo.change(
            uow.session,
            row.id,
            deferrals=row.deferrals + 1,
            deferred_until=full.window_end,
            updated_at=now,
        )
        self.events.stage(uow, NOTIFICATION_DEFERRED, changed)
        wait = (full.window_end - now).total_seconds()
        return Later(MimicErrorCode.RATE_LIMITED, why, max(wait, 1.0))

    async def _sending(self, uow: UnitOfWork, row: Notification, now: datetime) -> None:
        values: dict[str, Any] = {"attempts": row.attempts + 1, "updated_at": now}
        first = row.status == NotificationStatus.QUEUED.value
        if first:
            values.update(status=NotificationStatus.SENDING.value, sending_at=now)
        changed = await repo.change(uow.session, row.id, **values)
        if first:
            self.events.stage(uow, NOTIFICATION_SEND_STARTED, changed)

    async def _catch_up(self, uow: UnitOfWork, row: Notification) -> Notification:
        """Stage the `queued` and `send_started` events a first delivery left unpublished."""
        self.events.publish(uow, NOTIFICATION_QUEUED, as_queued(row), org_id=row.org_id)
        self.events.publish(uow, NOTIFICATION_SEND_STARTED, as_sending(row), org_id=row.org_id)
        return await repo.change(uow.session, row.id, announced=True)

    async def _fail(
        self, uow: UnitOfWork, row: Notification, code: MimicErrorCode, message: str
    ) -> None:
        now = self.clock()
        changed = await repo.change(
            uow.session,
            row.id,
            status=NotificationStatus.FAILED.value,
            error_code=code.value,
            error_message=message[:1000],
            failed_at=now,
            updated_at=now,
        )
        log.info("notification.failed", notification_id=row.id, code=code.value)
        self.events.stage(uow, NOTIFICATION_FAILED, changed)

    # ------------------------------------------------------------------ calling providers
    def _email(self, nid: str, prepared: Prepared) -> OutgoingEmail:
        assert prepared.to is not None, "only email has providers"
        return OutgoingEmail(
            notification_id=nid,
            sender=self.policy.sender,
            to=prepared.to,
            subject=prepared.subject,
            text=prepared.text,
            html=prepared.html,
            reply_to=prepared.reply_to,
        )

    async def _send(
        self, org_id: str, nid: str, email: OutgoingEmail, plan: Call, delivery: Delivery
    ) -> None:
        waits: list[float] = []
        doubt = plan.resumed
        unannounced = plan.unannounced
        recorded = plan.recorded
        seq = plan.seq
        for index, provider in enumerate(plan.providers):
            if index:
                seq = await self._journal(org_id, nid, provider.name)
            outcome = await provider.send(email, idempotency_key=nid)
            log.info(
                "notification.provider_called",
                notification_id=nid,
                provider=provider.name,
                outcome=type(outcome).__name__,
            )
            verdict = await self._settle(
                org_id,
                nid,
                seq,
                provider,
                outcome,
                doubt=doubt,
                announce=unannounced,
                recorded=recorded if index == 0 else None,
            )
            unannounced = False
            if verdict == "done":
                return
            if isinstance(outcome, Unavailable) and outcome.retry_after is not None:
                waits.append(outcome.retry_after)
            if verdict == "stay":
                # The message may be at this provider already: only it may be asked again.
                doubt = True
                break
        code = MimicErrorCode.OUTCOME_UNKNOWN if doubt else MimicErrorCode.PROVIDERS_UNAVAILABLE
        if delivery.last_attempt:
            async with self.db.transaction(org_id=org_id) as uow:
                row = await repo.lock(uow.session, nid)
                if row is not None and NotificationStatus(row.status) not in HANDED_OVER:
                    await self._fail(uow, row, code, "no provider took it in any attempt")
            return
        raise RetryLater(
            code,
            f"no provider took the message ({', '.join(p.name for p in plan.providers)})",
            retry_after=max(waits) if waits else None,
        )

    async def _journal(self, org_id: str, nid: str, provider: str) -> int:
        async with self.db.transaction(org_id=org_id) as uow:
            await repo.lock(uow.session, nid)
            return await repo.start_attempt(
                uow.session,
                org_id=org_id,
                notification_id=nid,
                provider=provider,
                now=self.clock(),
            )

    async def _settle(
        self,
        org_id: str,
        nid: str,
        seq: int,
        provider: EmailProvider,
        outcome: Outcome,
        *,
        doubt: bool,
        announce: bool,
        recorded: Mapping[str, Any] | None = None,
    ) -> Literal["done", "next", "stay"]:
        """Record the call's outcome and say what follows: nothing more ("done"), the next
        provider ("next"), or only this provider again, later ("stay"). With `announce`, the
        `queued` and `send_started` events are published first, in the same transaction."""
        if isinstance(outcome, Accepted):
            await self._accepted(
                org_id, nid, seq, provider, outcome, announce=announce, recorded=recorded
            )
            return "done"
        async with self.db.transaction(org_id=org_id) as uow:
            session, now = uow.session, self.clock()
            if announce:
                current = await _locked(session, nid)
                if not current.announced:  # a redelivery may have announced meanwhile
                    await self._catch_up(uow, current)
            match outcome:
                case Rejected(code, message):
                    await repo.finish_attempt(
                        session, nid, seq, outcome="rejected", detail=message, now=now
                    )
                    locked = await _locked(session, nid)
                    await self._fail(uow, locked, MimicErrorCode(code), message)
                    return "done"
                case Unavailable(message, _) if doubt:
                    # "Not now" says nothing about the earlier unanswered call.
                    await repo.finish_attempt(
                        session, nid, seq, outcome="in_doubt", detail=message, now=now
                    )
                    return "stay"
                case Unavailable(message, _):
                    await repo.finish_attempt(
                        session, nid, seq, outcome="unavailable", detail=message, now=now
                    )
                    return "next"
                case InDoubt(message):
                    await repo.finish_attempt(
                        session, nid, seq, outcome="in_doubt", detail=message, now=now
                    )
                    if provider.idempotent:
                        return "stay"
                    await self._fail(
                        uow,
                        await _locked(session, nid),
                        MimicErrorCode.OUTCOME_UNKNOWN,
                        f"{provider.name}: {message}; it may have been sent, so it is not "
                        "sent again",
                    )
                    return "done"
        raise AssertionError(f"unmatched outcome {outcome!r}")  # pragma: no cover

    async def _accepted(
        self,
        org_id: str,
        nid: str,
        seq: int,
        provider: EmailProvider,
        outcome: Accepted,
        *,
        announce: bool,
        recorded: Mapping[str, Any] | None,
    ) -> None:
        """Record an accepted call and publish what it changed, on the send store (every email
        that goes out comes this way): after a fast first write, in one statement when the row
        is still as it recorded it; otherwise the accept and the outbox insert in a
        transaction."""
        delivered = outcome.delivered
        params = repo.accept_params(
            org_id=org_id,
            notification_id=nid,
            seq=seq,
            provider=provider.name,
            provider_message_id=outcome.provider_message_id,
            delivered=delivered,
            now=self.clock(),
        )
        if recorded is not None and announce:
            predicted = send_writes.accepted_row(recorded, params)
            async with self.store.statement(org_id) as one:
                self._stage_accepted(one, predicted, org_id, announce=True, delivered=delivered)
                if await send_writes.accept_first(one, params, recorded):
                    return
        async with self.store.transaction(org_id) as tx:
            row = await send_writes.accept(tx, params)
            if row is not None:
                self._stage_accepted(tx, row, org_id, announce=announce, delivered=delivered)

    def _stage_accepted(
        self, tx: Staging, row: Notification, org_id: str, *, announce: bool, delivered: bool
    ) -> None:
        model = to_model(row)  # read once: every event below is it or a copy of it
        if announce and not row.was_announced:
            self.events.publish(tx, NOTIFICATION_QUEUED, queued_of(model), org_id=org_id)
            self.events.publish(tx, NOTIFICATION_SEND_STARTED, sending_of(model), org_id=org_id)
        sent = model
        if delivered:
            sent = model.model_copy(
                update={"status": NotificationStatus.SENT, "delivered_at": None}
            )
        self.events.publish(tx, NOTIFICATION_SENT, sent, org_id=org_id)
        if delivered:
            self.events.publish(tx, NOTIFICATION_DELIVERED, model, org_id=org_id)
