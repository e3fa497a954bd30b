"""Organisation templates, versioned: a save inserts version n+1, nothing is ever updated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.mimic.models import VariableSpecV1
from mimic.adapters.rows import AnyRow
from mimic.adapters.tables import templates
from mimic.domain.templates import TemplateSpec


async def find(session: AsyncSession, key: str, version: int | None) -> TemplateSpec | None:
    query = select(templates).where(templates.c.key == key)
    if version is None:
        query = query.order_by(templates.c.version.desc()).limit(1)
    else:
        query = query.where(templates.c.version == version)
    row = (await session.execute(query)).first()
    return spec_of(row) if row is not None else None


async def latest_all(session: AsyncSession) -> Sequence[tuple[TemplateSpec, Any]]:
    newest = (
        select(templates.c.key, func.max(templates.c.version).label("version"))
        .group_by(templates.c.key)
        .subquery()
    )
    query = (
        select(templates)
        .join(
            newest,
            (templates.c.key == newest.c.key) & (templates.c.version == newest.c.version),
        )
        .order_by(templates.c.key)
    )
    return [(spec_of(row), row.created_at) for row in (await session.execute(query)).all()]


async def add_version(session: AsyncSession, org_id: str, spec: TemplateSpec) -> tuple[int, Any]:
    """Store `spec` as the next version of its key; (version, created_at)."""
    # Two saves of one key at once: the second waits on this lock and numbers after it.
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"{org_id}/{spec.key}", 0)))
    )
    current = await session.scalar(
        select(func.coalesce(func.max(templates.c.version), 0)).where(templates.c.key == spec.key)
    )
    version = int(current or 0) + 1
    result = await session.execute(
        insert(templates)
        .values(
            org_id=org_id,
            key=spec.key,
            version=version,
            subject=spec.subject,
            text_body=spec.text,
            html_body=spec.html,
            variables={k: v.model_dump(mode="json") for k, v in spec.variables.items()},
            description=spec.description,
        )
        .returning(templates.c.created_at)
    )
    return version, result.scalar_one()


def spec_of(row: AnyRow) -> TemplateSpec:
    """A template row (read by attribute) as the spec it stores."""
    return TemplateSpec(
        key=row.key,
        version=row.version,
        subject=row.subject,
        text=row.text_body,
        html=row.html_body,
        variables={k: VariableSpecV1.model_validate(v) for k, v in row.variables.items()},
        description=row.description,
    )
