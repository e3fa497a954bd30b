"""An integrator's webhook, from raw bytes to one published event.

Order matters, and each step refuses before anything is written: find the integration by its
path (unknown: 404), verify the signature over the raw body with its secret (unsigned or wrong:
401; stale timestamp: 400), read the body (malformed: 400), then in the same transaction claim
the delivery id (seen before: 409, a replay) and stage the event. Commit publishes it. A
provider's handshake (Discord PING, Slack url_verification, GitHub ping) is verified and
answered, and publishes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from contracts.envelope import Actor, ActorKind
from contracts.ids import is_token, new_id
from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import IntegrationEventV1, IntegrationProvider
from contracts.mimic.subjects import WEBHOOK_RECEIVED
from mimic.adapters import integrations as repo
from mimic.domain.errors import WebhookRejected
from mimic.domain.inbound import READERS, malformed
from mimic.domain.integrations import verify_inbound
from mimic.service.events import Events
from shared.crypto import Keyring
from shared.db import Database
from shared.logging import get_logger

log = get_logger(__name__)

MAX_DELIVERY_ID: Final = 200


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | None


def unknown() -> WebhookRejected:
    return WebhookRejected(
        MimicErrorCode.WEBHOOK_UNKNOWN, "no integration listens here", status=404
    )


class ReceiveWebhook:
    def __init__(
        self,
        db: Database,
        events: Events,
        keyring: Keyring,
        *,
        tolerance: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.events = events
        self.keyring = keyring
        self.tolerance = tolerance
        self.clock = clock

    async def __call__(
        self, org_id: str, route_key: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if not is_token(org_id) or not is_token(route_key):
            raise unknown()
        async with self.db.transaction(org_id=org_id) as uow:
            row = await repo.by_route(uow.session, route_key)
            if row is None:
                raise unknown()
            provider = IntegrationProvider(row.provider)
            verify_inbound(
                provider,
                headers,
                body,
                public=row.settings,
                secrets=repo.unseal(self.keyring, row),
                now=self.clock(),
                tolerance=self.tolerance,
            )
            inbound = READERS[provider](headers, body)
            if inbound.handshake:
                return Answer(200, inbound.response or {"ok": True})
            if len(inbound.delivery_id) > MAX_DELIVERY_ID:
                raise malformed("the delivery id is too long")
            event = IntegrationEventV1(
                event_id=new_id(),
                integration_id=row.id,
                provider=provider.value,
                event_type=inbound.event_type,
                delivery_id=inbound.delivery_id,
                received_at=datetime.now(UTC),
                occurred_at=inbound.occurred_at,
                actor=inbound.actor,
                channel_id=inbound.channel_id,
                text=inbound.text,
                command=inbound.command,
                options=inbound.options,
                reply=inbound.reply,
                payload=inbound.payload,
            )
            fresh = await repo.claim_delivery(
                uow.session,
                org_id=org_id,
                integration_id=row.id,
                delivery_id=inbound.delivery_id,
                event_id=event.event_id,
            )
            if not fresh:
                raise WebhookRejected(
                    MimicErrorCode.WEBHOOK_REPLAYED,
                    "this delivery was received before",
                    status=409,
                )
            self.events.publish(
                uow,
                WEBHOOK_RECEIVED,
                event,
                org_id=org_id,
                actor=Actor(kind=ActorKind.INTEGRATION, id=row.id),
            )
        log.info(
            "webhook.received",
            integration_id=event.integration_id,
            provider=provider.value,
            event_type=event.event_type,
        )
        return Answer(200, inbound.response or {"ok": True, "event_id": event.event_id})
