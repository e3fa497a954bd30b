"""Templates an organisation can use: its own (latest versions) and the built-in ones."""

from __future__ import annotations

from datetime import datetime

from contracts.mimic.models import (
    GetTemplateV1,
    ListTemplatesV1,
    PreviewTemplateV1,
    RenderedV1,
    TemplateListV1,
    TemplateRefV1,
    TemplateV1,
)
from mimic.adapters import templates
from mimic.domain import system_templates
from mimic.domain.templates import TemplateSpec
from mimic.service.catalog import TemplateCatalog
from shared.db import Database


def as_model(spec: TemplateSpec, created_at: datetime | None = None) -> TemplateV1:
    return TemplateV1(
        key=spec.key,
        version=spec.version,
        subject=spec.subject,
        text=spec.text,
        html=spec.html,
        variables=dict(spec.variables),
        description=spec.description,
        system=spec.system,
        created_at=created_at,
    )


async def get_template(
    db: Database, catalog: TemplateCatalog, org_id: str, query: GetTemplateV1
) -> TemplateV1:
    async with db.transaction(org_id=org_id) as uow:
        compiled = await catalog.resolve(
            uow.session, org_id, TemplateRefV1(key=query.key, version=query.version)
        )
    return as_model(compiled.spec)


async def list_templates(db: Database, org_id: str, query: ListTemplatesV1) -> TemplateListV1:
    async with db.transaction(org_id=org_id) as uow:
        own = await templates.latest_all(uow.session)
    found = [as_model(spec, created) for spec, created in own]
    if query.include_system:
        found += [as_model(c.spec) for c in system_templates.COMPILED.values()]
    return TemplateListV1(templates=found)


async def preview_template(
    db: Database, catalog: TemplateCatalog, org_id: str, query: PreviewTemplateV1
) -> RenderedV1:
    async with db.transaction(org_id=org_id) as uow:
        compiled = await catalog.resolve(uow.session, org_id, query.template)
    return compiled.render(query.variables)
