"""The audit trail: append-only rows (a trigger forbids UPDATE and DELETE).

Events of an organisation go to `audit_log` (tenant, RLS); events of a person outside any
organisation (a failed sign-in, a lockout, a password change) go to `account_audit_log`.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.models import AuditEventV1, AuditKind
from inkpass.adapters.tables import account_audit_log, audit_log


async def store(session: AsyncSession, event: AuditEventV1) -> None:
    values = {
        "id": event.event_id,
        "kind": event.kind.value,
        "user_id": event.user_id,
        "actor_id": event.actor_id,
        "source_ip": event.source_ip,
        "details": dict(event.details),
        "occurred_at": event.occurred_at,
    }
    if event.org_id is not None:
        await session.execute(insert(audit_log).values(org_id=event.org_id, **values))
    else:
        await session.execute(insert(account_audit_log).values(**values))


async def of_org(session: AsyncSession, org_id: str, limit: int) -> list[AuditEventV1]:
    rows = await session.execute(
        select(audit_log)
        .where(audit_log.c.org_id == org_id)
        .order_by(audit_log.c.occurred_at.desc(), audit_log.c.id.desc())
        .limit(limit)
    )
    return [
        AuditEventV1(
            event_id=r.id,
            kind=AuditKind(r.kind),
            org_id=r.org_id,
            user_id=r.user_id,
            actor_id=r.actor_id,
            source_ip=r.source_ip,
            details=dict(r.details),
            occurred_at=r.occurred_at,
        )
        for r in rows
    ]


async def of_account(session: AsyncSession, user_id: str, limit: int) -> list[AuditEventV1]:
    rows = await session.execute(
        select(account_audit_log)
        .where(account_audit_log.c.user_id == user_id)
        .order_by(account_audit_log.c.occurred_at.desc(), account_audit_log.c.id.desc())
        .limit(limit)
    )
    return [
        AuditEventV1(
            event_id=r.id,
            kind=AuditKind(r.kind),
            user_id=r.user_id,
            actor_id=r.actor_id,
            source_ip=r.source_ip,
            details=dict(r.details),
            occurred_at=r.occurred_at,
        )
        for r in rows
    ]
