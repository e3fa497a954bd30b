"""Connecting, listing and disabling integrations (never revealing a secret once stored)."""

from __future__ import annotations

import secrets as random
from collections.abc import Callable
from datetime import UTC, datetime

from contracts.ids import new_id
from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import (
    CreateIntegrationV1,
    DisableIntegrationV1,
    GetIntegrationV1,
    IntegrationListV1,
    IntegrationProvider,
    IntegrationStatus,
    IntegrationV1,
    ListIntegrationsV1,
)
from mimic.adapters import integrations as repo
from mimic.adapters.rows import AnyRow
from mimic.domain.errors import MimicError
from mimic.domain.integrations import URL_FIELDS, split_settings
from shared.crypto import Keyring
from shared.db import Database
from shared.net import BlockedDestination, InvalidUrl, OutboundPolicy, check_url


def ingress_path(org_id: str, route_key: str) -> str:
    return f"/hooks/{org_id}/{route_key}"


def as_model(
    row: AnyRow, *, public_url: str | None = None, generated_secret: str | None = None
) -> IntegrationV1:
    path = ingress_path(row.org_id, row.route_key)
    return IntegrationV1(
        integration_id=row.id,
        provider=IntegrationProvider(row.provider),
        name=row.name,
        status=IntegrationStatus(row.status),
        ingress_path=path,
        ingress_url=public_url.rstrip("/") + path if public_url else None,
        settings=dict(row.settings),
        secrets_set=list(row.secret_names),
        generated_secret=generated_secret,
        created_at=row.created_at,
    )


class ManageIntegrations:
    def __init__(
        self,
        db: Database,
        keyring: Keyring,
        outbound: OutboundPolicy,
        *,
        public_url: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.keyring = keyring
        self.outbound = outbound
        self.public_url = public_url
        self.clock = clock

    async def create(self, org_id: str, request: CreateIntegrationV1) -> IntegrationV1:
        split = split_settings(request.settings)
        for name in URL_FIELDS:
            url = split.public.get(name) or split.secrets.get(name)
            if url is not None:
                self._check_url(name, url)
        integration_id = new_id()
        async with self.db.transaction(org_id=org_id) as uow:
            row = await repo.create(
                uow.session,
                {
                    "id": integration_id,
                    "org_id": org_id,
                    "provider": request.settings.provider,
                    "name": request.name,
                    "status": IntegrationStatus.ACTIVE.value,
                    # URL-safe and a valid path segment; 192 bits, so paths are not guessable.
                    "route_key": random.token_urlsafe(24),
                    "settings": split.public,
                    "secret_names": sorted(split.secrets),
                    "secrets": repo.seal(self.keyring, org_id, integration_id, split.secrets),
                    "key_version": self.keyring.current,
                },
            )
        return self._model(row, generated_secret=split.generated_secret)

    def _model(self, row: AnyRow, *, generated_secret: str | None = None) -> IntegrationV1:
        return as_model(row, public_url=self.public_url, generated_secret=generated_secret)

    def _check_url(self, name: str, url: str) -> None:
        try:
            check_url(url, self.outbound)
        except (InvalidUrl, BlockedDestination) as exc:
            code = (
                MimicErrorCode.DESTINATION_BLOCKED
                if isinstance(exc, BlockedDestination)
                else MimicErrorCode.INTEGRATION_INVALID
            )
            raise MimicError(code, f"{name}: {exc.message}") from None

    async def get(self, org_id: str, query: GetIntegrationV1) -> IntegrationV1:
        async with self.db.transaction(org_id=org_id) as uow:
            row = await repo.get(uow.session, query.integration_id)
        if row is None:
            raise MimicError(MimicErrorCode.NOT_FOUND, "no such integration")
        return self._model(row)

    async def list(self, org_id: str, query: ListIntegrationsV1) -> IntegrationListV1:
        async with self.db.transaction(org_id=org_id) as uow:
            rows = await repo.listing(
                uow.session, provider=query.provider, include_disabled=query.include_disabled
            )
        return IntegrationListV1(integrations=[self._model(r) for r in rows])

    async def disable(self, org_id: str, command: DisableIntegrationV1) -> IntegrationV1:
        async with self.db.transaction(org_id=org_id) as uow:
            row = await repo.disable(uow.session, command.integration_id, self.clock())
        if row is None:
            raise MimicError(MimicErrorCode.NOT_FOUND, "no such integration")
        return self._model(row)
