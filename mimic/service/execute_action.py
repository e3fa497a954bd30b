"""Carry out an outbound action once: journalled like a send (see `send_notification`).

The action row (unique per org and idempotency key) is `pending` until a call is about to be
made, `calling` while it is (committed before the call), then `completed` or `failed`. A
`calling` row older than the lease means a call that was never answered: none of these APIs
(Discord, Slack, GitHub, a custom URL) can be asked "did that go through?", so the action fails
as `mimic.outcome_unknown` instead of posting twice. A call that certainly did not go out
(refused connection, 429, 5xx) returns the row to `pending` and is retried by JetStream.

A well-formed command that breaks a rule (no such integration, 2,001 characters for Discord, a
private URL) ends as a `failed` action with its code, so whoever asked hears why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from contracts.envelope import ErrorV1
from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    ActionResultV1,
    ActionStatus,
    ExecuteActionV1,
    IntegrationProvider,
    IntegrationStatus,
    action_id,
)
from contracts.mimic.subjects import ACTION_COMPLETED, ACTION_FAILED
from mimic.adapters import integrations
from mimic.adapters.outbound import Outbound
from mimic.adapters.rows import AnyRow
from mimic.adapters.tables import actions
from mimic.domain.actions import check_action
from mimic.domain.errors import MimicError, RetryLater
from mimic.domain.outcomes import Completed, InDoubt, Rejected, Unavailable
from mimic.service.context import require_org
from mimic.service.events import Events
from shared.bus import Delivery
from shared.crypto import Keyring
from shared.db import Database, UnitOfWork
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class _Target:
    integration: AnyRow
    secrets: dict[str, str]


class ExecuteAction:
    def __init__(
        self,
        db: Database,
        events: Events,
        keyring: Keyring,
        outbound: Outbound,
        *,
        lease: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.events = events
        self.keyring = keyring
        self.outbound = outbound
        self.lease = lease
        self.clock = clock

    async def __call__(self, command: ExecuteActionV1, delivery: Delivery) -> None:
        org_id = require_org(delivery.meta.org_id)
        aid = action_id(org_id, command.idempotency_key)
        async with self.db.transaction(org_id=org_id) as uow:
            target = await self._claim(uow, org_id, aid, command)
        if target is None:
            return
        provider = IntegrationProvider(target.integration.provider)
        outcome = await self.outbound.run(
            provider,
            command.action,
            action_id=aid,
            public=target.integration.settings,
            secrets=target.secrets,
        )
        log.info("action.called", action_id=aid, outcome=type(outcome).__name__)
        async with self.db.transaction(org_id=org_id) as uow:
            match outcome:
                case Completed(result):
                    await self._finish(uow, aid, ActionStatus.COMPLETED, result=dict(result))
                    return
                case Rejected(code, message):
                    await self._finish(uow, aid, ActionStatus.FAILED, code=code, message=message)
                    return
                case InDoubt(message):
                    await self._finish(
                        uow,
                        aid,
                        ActionStatus.FAILED,
                        code=MimicErrorCode.OUTCOME_UNKNOWN.value,
                        message=f"{message}; it may have been carried out, so it is not repeated",
                    )
                    return
                case Unavailable(message, wait):
                    if delivery.last_attempt:
                        await self._finish(
                            uow,
                            aid,
                            ActionStatus.FAILED,
                            code=MimicErrorCode.PROVIDERS_UNAVAILABLE.value,
                            message=message,
                        )
                        return
                    # Certainly not carried out: safe to call again on the next delivery.
                    await uow.session.execute(
                        update(actions)
                        .where(actions.c.id == aid)
                        .values(status="pending", calling_since=None)
                    )
        raise RetryLater(MimicErrorCode.PROVIDERS_UNAVAILABLE, message, retry_after=wait)

    async def _claim(
        self, uow: UnitOfWork, org_id: str, aid: str, command: ExecuteActionV1
    ) -> _Target | None:
        """Lock (or create) the action and mark it `calling`; None when there is nothing to do."""
        session, now = uow.session, self.clock()
        digest = _hash(command)
        await session.execute(
            insert(actions)
            .values(
                id=aid,
                org_id=org_id,
                idempotency_key=command.idempotency_key,
                request_hash=digest,
                action_type=command.action.type,
                status="pending",
                metadata=dict(command.metadata),
                requested_at=now,
            )
            .on_conflict_do_nothing(index_elements=[actions.c.id])
        )
        row = (
            await session.execute(select(actions).where(actions.c.id == aid).with_for_update())
        ).one()
        if row.request_hash != digest:
            raise MimicError(
                MimicErrorCode.IDEMPOTENCY_CONFLICT,
                "this idempotency key was used before with a different action",
            )
        if row.status in (ActionStatus.COMPLETED.value, ActionStatus.FAILED.value):
            return None
        if row.status == "calling":
            if row.calling_since > now - self.lease:
                # The consumer's backoff brings this back: soon, and past the lease if need be.
                raise RetryLater(MimicErrorCode.SEND_IN_PROGRESS, "the action is being carried out")
            await self._finish(
                uow,
                aid,
                ActionStatus.FAILED,
                code=MimicErrorCode.OUTCOME_UNKNOWN.value,
                message="an earlier call was never answered; it may have been carried out",
            )
            return None
        try:
            target = await self._target(uow, command)
            check_action(
                IntegrationProvider(target.integration.provider),
                command.action,
                public=target.integration.settings,
                secrets=target.secrets,
            )
        except MimicError as exc:
            await self._finish(uow, aid, ActionStatus.FAILED, code=exc.code, message=exc.message)
            return None
        await session.execute(
            update(actions)
            .where(actions.c.id == aid)
            .values(
                status="calling",
                calling_since=now,
                attempts=row.attempts + 1,
                integration_id=target.integration.id,
                provider=target.integration.provider,
            )
        )
        return target

    async def _target(self, uow: UnitOfWork, command: ExecuteActionV1) -> _Target:
        if command.integration_id is not None:
            row = await integrations.get(uow.session, command.integration_id)
            if row is None:
                raise MimicError(MimicErrorCode.NOT_FOUND, "no such integration")
            if command.provider is not None and row.provider != command.provider.value:
                raise MimicError(
                    MimicErrorCode.ACTION_INVALID,
                    f"integration {row.id} is {row.provider}, not {command.provider.value}",
                )
        else:
            rows = await integrations.listing(
                uow.session, provider=command.provider, include_disabled=False
            )
            if not rows:
                assert command.provider is not None
                raise MimicError(
                    MimicErrorCode.NOT_FOUND, f"no active {command.provider.value} integration"
                )
            if len(rows) > 1:
                raise MimicError(
                    MimicErrorCode.INTEGRATION_AMBIGUOUS,
                    f"{len(rows)} active integrations of this provider: name one",
                    details={"integration_ids": [r.id for r in rows]},
                )
            row = rows[0]
        if row.status != IntegrationStatus.ACTIVE.value:
            raise MimicError(MimicErrorCode.INTEGRATION_DISABLED, "the integration is disabled")
        return _Target(row, integrations.unseal(self.keyring, row))

    async def _finish(
        self,
        uow: UnitOfWork,
        aid: str,
        status: ActionStatus,
        *,
        result: dict[str, Any] | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        now = self.clock()
        row = (
            await uow.session.execute(
                update(actions)
                .where(actions.c.id == aid)
                .values(
                    status=status.value,
                    result=result or {},
                    error_code=code,
                    error_message=message[:1000] if message else None,
                    completed_at=now,
                    calling_since=None,
                )
                .returning(*actions.c)
            )
        ).one()
        event = ActionResultV1(
            action_id=row.id,
            idempotency_key=row.idempotency_key,
            integration_id=row.integration_id,
            provider=IntegrationProvider(row.provider) if row.provider else None,
            action_type=row.action_type,
            status=status,
            result=row.result,
            error=ErrorV1(code=code, message=message or "") if code else None,
            metadata=dict(row.metadata),
            requested_at=row.requested_at,
            completed_at=now,
        )
        subject = ACTION_COMPLETED if status is ActionStatus.COMPLETED else ACTION_FAILED
        self.events.publish(uow, subject, event, org_id=row.org_id)


def _hash(command: ExecuteActionV1) -> str:
    canonical = json.dumps(command.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
