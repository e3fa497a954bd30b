"""What mimic is made of, built when the service starts (never at import or construction).

The composition root (`app.py`) creates one `Components`, hands it to the entrypoints, and lets
the service runtime start it once the database and the bus are up. Handlers only run after
that, so they can rely on every part being present.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import TypeVar

from contracts.mimic.models import Channel
from mimic.adapters import ratelimits, receipts
from mimic.adapters.dev_sink import DevSmtpSink
from mimic.adapters.outbound import Outbound
from mimic.adapters.providers.base import EmailProvider
from mimic.adapters.providers.postmark import PostmarkProvider
from mimic.adapters.providers.resend import ResendProvider
from mimic.adapters.providers.smtp import SmtpProvider, SmtpServer
from mimic.adapters.send_store import SendStore
from mimic.adapters.webhook_receipts import WebhookReceipts
from mimic.domain.email import Mailbox
from mimic.domain.ratelimit import Limits
from mimic.service.apply_status import ApplyProviderStatus
from mimic.service.catalog import TemplateCatalog
from mimic.service.events import Events
from mimic.service.execute_action import ExecuteAction
from mimic.service.integration_cache import IntegrationCache
from mimic.service.manage_integrations import ManageIntegrations
from mimic.service.receive_webhook import ReceiveWebhook
from mimic.service.send_notification import SendNotification, SendPolicy
from mimic.settings import MimicSettings
from shared.crypto import Keyring
from shared.db import Database
from shared.db.urls import to_asyncpg_dsn
from shared.logging import get_logger
from shared.net import OutboundPolicy
from shared.service import ServiceApp

log = get_logger(__name__)

T = TypeVar("T")


def _started(part: T | None) -> T:
    if part is None:
        raise RuntimeError("mimic is not started")
    return part


HOUSEKEEPING_EVERY_S = 60.0


class Components:
    def __init__(self, settings: MimicSettings, app: ServiceApp) -> None:
        self.settings = settings
        self.app = app
        self.catalog = TemplateCatalog()
        self.dev_sink: DevSmtpSink | None = None
        self.providers: list[EmailProvider] = []
        self.outbound: Outbound | None = None
        self.store: SendStore | None = None
        self._send: SendNotification | None = None
        self._receive: ReceiveWebhook | None = None
        self._statuses: ApplyProviderStatus | None = None
        self._integrations: ManageIntegrations | None = None
        self._execute: ExecuteAction | None = None

    # ------------------------------------------------------------------ parts
    @property
    def db(self) -> Database:
        return self.app.db

    @property
    def send(self) -> SendNotification:
        return _started(self._send)

    @property
    def receive(self) -> ReceiveWebhook:
        return _started(self._receive)

    @property
    def statuses(self) -> ApplyProviderStatus:
        return _started(self._statuses)

    @property
    def integrations(self) -> ManageIntegrations:
        return _started(self._integrations)

    @property
    def execute(self) -> ExecuteAction:
        return _started(self._execute)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        s = self.settings
        self.providers = [await self._provider(name) for name in s.email_providers]
        policy = SendPolicy(
            sender=Mailbox.parse(s.email_from, field="MIMIC_EMAIL_FROM"),
            limits=Limits.of(
                recipient_per_hour=s.rate_recipient_per_hour,
                org_per_minute=s.rate_org_per_minute,
                channel_per_minute=s.rate_channel_per_minute,
            ),
            max_deferrals=s.max_deferrals,
            lease=timedelta(seconds=s.send_lease_seconds),
        )
        events = Events(self.app.bus)
        keyring = Keyring.from_settings(s.platform)
        db = self.db
        self.store = SendStore(
            lambda: to_asyncpg_dsn(db.url),
            lambda: db.publisher,
            size=s.send_pool_size,
            lease=db.publish_lease,
            application_name=f"mimic-send-{s.instance_id}",
        )
        await self.store.connect()
        self._send = SendNotification(
            db, self.store, events, self.catalog, {Channel.EMAIL: self.providers}, policy
        )
        webhook_receipts = WebhookReceipts(
            retention=timedelta(days=s.receipt_retention_days),
            replicas=s.platform.stream_replicas,
        )
        await webhook_receipts.start(self.app.bus.js)
        self._receive = ReceiveWebhook(
            self.app.bus,
            IntegrationCache(self.db, ttl=s.integration_cache_seconds),
            webhook_receipts,
            keyring,
            tolerance=s.webhook_tolerance_seconds,
        )
        postmark = (
            (s.postmark_webhook_username, s.postmark_webhook_password.get_secret_value())
            if s.postmark_webhook_username and s.postmark_webhook_password
            else None
        )
        self._statuses = ApplyProviderStatus(
            self.db,
            events,
            resend_secret=s.resend_webhook_secret.get_secret_value()
            if s.resend_webhook_secret
            else None,
            postmark_credentials=postmark,
            tolerance=s.webhook_tolerance_seconds,
        )
        outbound_policy = OutboundPolicy.from_settings(
            allow_private=s.outbound_allow_private, allowed=s.outbound_allowed_networks
        )
        self._integrations = ManageIntegrations(
            self.db, keyring, outbound_policy, public_url=s.public_url
        )
        self.outbound = Outbound(
            outbound_policy,
            timeout=s.outbound_timeout_seconds,
            discord_api=s.discord_api_base,
            slack_api=s.slack_api_base,
            github_api=s.github_api_base,
        )
        self._execute = ExecuteAction(
            self.db,
            events,
            keyring,
            self.outbound,
            lease=timedelta(seconds=s.send_lease_seconds),
        )

    async def _provider(self, name: str) -> EmailProvider:
        s = self.settings
        timeout = s.provider_timeout_seconds
        if name == "dev":
            self.dev_sink = DevSmtpSink(s.maildir, host=s.dev_smtp_host, port=s.dev_smtp_port)
            await self.dev_sink.start()
            server = SmtpServer(s.dev_smtp_host, self.dev_sink.port, "none", timeout=timeout)
            # Its own pool size: a real server's (`smtp_pool_size`, a provider's connection
            # limit) capped the local sink's throughput at what four fsyncs in a row allow.
            return SmtpProvider(server, name="dev", pool_size=s.dev_smtp_pool_size, delivers=True)
        if name == "smtp":
            password = s.smtp_password.get_secret_value() if s.smtp_password else None
            server = SmtpServer(
                s.smtp_host, s.smtp_port, s.smtp_security, s.smtp_username, password, timeout
            )
            return SmtpProvider(server, pool_size=s.smtp_pool_size)
        if name == "postmark":
            assert s.postmark_server_token is not None  # checked by the settings
            return PostmarkProvider(
                token=s.postmark_server_token.get_secret_value(),
                base_url=s.postmark_base_url,
                message_stream=s.postmark_message_stream,
                timeout=timeout,
            )
        assert name == "resend"
        assert s.resend_api_key is not None
        return ResendProvider(
            api_key=s.resend_api_key.get_secret_value(), base_url=s.resend_base_url, timeout=timeout
        )

    async def run(self) -> None:
        """While the service runs: housekeeping. When it stops: close what start opened."""
        try:
            while True:
                await asyncio.sleep(HOUSEKEEPING_EVERY_S)
                try:
                    await self.housekeeping()
                except Exception as exc:  # the next round tries again
                    log.warning("mimic.housekeeping_failed", error=str(exc))
        finally:
            await self.close()

    async def housekeeping(self) -> None:
        await ratelimits.prune(self.db.engine)
        await receipts.prune(
            self.db.engine, older_than=timedelta(days=self.settings.receipt_retention_days)
        )

    async def close(self) -> None:
        if self.outbound is not None:
            with contextlib.suppress(Exception):
                await self.outbound.close()
        for provider in self.providers:
            with contextlib.suppress(Exception):
                await provider.close()
        if self.dev_sink is not None:
            await self.dev_sink.stop()
        if self.store is not None:
            await self.store.close()
