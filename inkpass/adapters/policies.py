"""ABAC policies of an organisation (tenant rows); the spec is the contract model as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.models import PolicySpecV1
from inkpass.adapters.tables import policies


@dataclass(frozen=True)
class StoredPolicy:
    id: str
    org_id: str
    version: int
    spec: PolicySpecV1
    updated_at: datetime


def _policy(row: Any) -> StoredPolicy:
    return StoredPolicy(
        row.id, row.org_id, row.version, PolicySpecV1.model_validate(row.spec), row.updated_at
    )


async def in_org(session: AsyncSession, org_id: str) -> list[StoredPolicy]:
    rows = await session.execute(
        select(policies).where(policies.c.org_id == org_id).order_by(policies.c.created_at)
    )
    return [_policy(r) for r in rows]


async def create(
    session: AsyncSession, *, policy_id: str, org_id: str, spec: PolicySpecV1, created_by: str
) -> StoredPolicy:
    row = (
        await session.execute(
            insert(policies)
            .values(
                id=policy_id,
                org_id=org_id,
                spec=spec.model_dump(mode="json"),
                created_by=created_by,
            )
            .returning(*policies.c)
        )
    ).one()
    return _policy(row)


async def replace(session: AsyncSession, policy_id: str, spec: PolicySpecV1) -> StoredPolicy | None:
    row = (
        await session.execute(
            update(policies)
            .where(policies.c.id == policy_id)
            .values(
                spec=spec.model_dump(mode="json"),
                version=policies.c.version + 1,
                updated_at=func.now(),
            )
            .returning(*policies.c)
        )
    ).first()
    return _policy(row) if row is not None else None


async def remove(session: AsyncSession, policy_id: str) -> bool:
    result = await session.execute(
        delete(policies).where(policies.c.id == policy_id).returning(policies.c.id)
    )
    return result.first() is not None
