"""Integrations and their webhook receipts. Secrets are sealed with the platform keyring, bound
to the row (org, table, id, column): copied anywhere else, they no longer open."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.mimic.models import IntegrationProvider, IntegrationStatus
from mimic.adapters.rows import AnyRow
from mimic.adapters.tables import integrations
from shared.crypto import Binding, Keyring


def _binding(org_id: str, integration_id: str) -> Binding:
    return Binding(org_id=org_id, table="integrations", row_id=integration_id, column="secrets")


def seal(keyring: Keyring, org_id: str, integration_id: str, secrets: Mapping[str, str]) -> bytes:
    plain = json.dumps(dict(secrets), sort_keys=True).encode()
    return keyring.encrypt(plain, _binding(org_id, integration_id))


def unseal(keyring: Keyring, row: AnyRow) -> dict[str, str]:
    plain = keyring.decrypt(bytes(row.secrets), _binding(row.org_id, row.id))
    values: dict[str, str] = json.loads(plain)
    return values


async def create(session: AsyncSession, values: Mapping[str, Any]) -> AnyRow:
    result = await session.execute(insert(integrations).values(**values).returning(*integrations.c))
    row: AnyRow = result.one()
    return row


async def get(session: AsyncSession, integration_id: str) -> AnyRow | None:
    result = await session.execute(select(integrations).where(integrations.c.id == integration_id))
    row: AnyRow | None = result.first()
    return row


async def by_route(session: AsyncSession, route_key: str) -> AnyRow | None:
    result = await session.execute(
        select(integrations).where(
            integrations.c.route_key == route_key,
            integrations.c.status == IntegrationStatus.ACTIVE.value,
        )
    )
    row: AnyRow | None = result.first()
    return row


async def listing(
    session: AsyncSession, *, provider: IntegrationProvider | None, include_disabled: bool
) -> Sequence[AnyRow]:
    query = select(integrations).order_by(integrations.c.created_at)
    if provider is not None:
        query = query.where(integrations.c.provider == provider.value)
    if not include_disabled:
        query = query.where(integrations.c.status == IntegrationStatus.ACTIVE.value)
    return (await session.execute(query)).all()


async def disable(session: AsyncSession, integration_id: str, now: datetime) -> AnyRow | None:
    result = await session.execute(
        update(integrations)
        .where(integrations.c.id == integration_id)
        .values(status=IntegrationStatus.DISABLED.value, updated_at=now)
        .returning(*integrations.c)
    )
    row: AnyRow | None = result.first()
    return row
