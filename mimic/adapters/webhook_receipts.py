"""Which inbound deliveries were received: replay protection for webhooks, kept in JetStream.

The ingress writes no database row. A delivery is published to MIMIC_WEBHOOKS with a
`Nats-Msg-Id` derived from (integration, delivery id), so JetStream itself drops a second copy
within the stream's duplicate window (this also settles two identical posts racing each other);
a receipt in this key-value bucket then refuses replays for the retention period after that.
Order: look for a receipt, publish, write the receipt. A crash between the last two leaves no
receipt, so the provider's retry is published again, which the duplicate window drops if it
comes soon; nothing is ever lost, which the opposite order could not promise.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Final

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

BUCKET: Final = "mimic_webhook_receipts"


def delivery_digest(integration_id: str, delivery_id: str) -> str:
    return hashlib.sha256(f"{integration_id}\x00{delivery_id}".encode()).hexdigest()[:48]


class WebhookReceipts:
    def __init__(self, *, retention: timedelta, replicas: int = 1) -> None:
        self.retention = retention
        self.replicas = replicas
        self._kv: KeyValue | None = None

    async def start(self, js: JetStreamContext) -> None:
        try:
            self._kv = await js.key_value(BUCKET)
        except BucketNotFoundError:
            self._kv = await js.create_key_value(
                KeyValueConfig(
                    bucket=BUCKET,
                    description="Inbound webhook deliveries mimic received (replay protection).",
                    history=1,
                    ttl=self.retention.total_seconds(),
                    storage=StorageType.FILE,
                    replicas=self.replicas,
                )
            )

    @property
    def _bucket(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError("webhook receipts are not started")
        return self._kv

    async def seen(self, integration_id: str, digest: str) -> bool:
        try:
            await self._bucket.get(f"{integration_id}.{digest}")
        except KeyNotFoundError:
            return False
        return True

    async def remember(self, integration_id: str, digest: str, event_id: str) -> None:
        await self._bucket.put(f"{integration_id}.{digest}", event_id.encode())
