"""An integrator's webhook, from raw bytes to one published event.

Order matters, and each step refuses before anything is published: find the integration by
its path (unknown: 404), verify the signature over the raw body with its secret (unsigned or
wrong: 401; stale timestamp: 400), read the body (malformed: 400), refuse a delivery id seen
before (409, a replay; see `adapters/webhook_receipts.py`), then publish the event, which is
the only thing the ingress produces: it writes no database row, so it answers fast. A
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
from mimic.adapters.webhook_receipts import WebhookReceipts, delivery_digest
from mimic.domain.errors import WebhookRejected
from mimic.domain.inbound import READERS, malformed
from mimic.domain.integrations import verify_inbound
from mimic.service.integration_cache import IntegrationCache
from shared.bus import Bus
from shared.crypto import Keyring
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
        bus: Bus,
        integrations: IntegrationCache,
        receipts: WebhookReceipts,
        keyring: Keyring,
        *,
        tolerance: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bus = bus
        self.integrations = integrations
        self.receipts = receipts
        self.keyring = keyring
        self.tolerance = tolerance
        self.clock = clock

    async def __call__(
        self, org_id: str, route_key: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if not is_token(org_id) or not is_token(route_key):
            raise unknown()
        row = await self.integrations.by_route(org_id, route_key)
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
        digest = delivery_digest(row.id, inbound.delivery_id)
        if await self.receipts.seen(row.id, digest):
            raise _replayed()
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
        message = self.bus.message(
            WEBHOOK_RECEIVED,
            event,
            org_id=org_id,
            actor=Actor(kind=ActorKind.INTEGRATION, id=row.id),
            # The same delivery always gets the same id: JetStream drops the second copy.
            message_id=f"wh-{digest}",
        )
        published = await self.bus.publish_message(message)
        if published.duplicate:
            raise _replayed()
        try:
            await self.receipts.remember(row.id, digest, event.event_id)
        except Exception as exc:
            # The event is out, which is what counts; without the receipt, a replay after the
            # duplicate window would get through, so say so loudly.
            log.error("webhook.receipt_not_kept", integration_id=row.id, error=str(exc))
        log.info(
            "webhook.received",
            integration_id=row.id,
            provider=provider.value,
            event_type=event.event_type,
        )
        return Answer(200, inbound.response or {"ok": True, "event_id": event.event_id})


def _replayed() -> WebhookRejected:
    return WebhookRejected(
        MimicErrorCode.WEBHOOK_REPLAYED, "this delivery was received before", status=409
    )
