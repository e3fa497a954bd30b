"""Save a new version of an organisation's template, after proving it compiles and renders."""

from __future__ import annotations

from types import MappingProxyType

from contracts.mimic.models import SaveTemplateV1, TemplateV1
from mimic.adapters import templates
from mimic.domain.templates import TemplateSpec, compile_template, trial_render
from shared.db import Database


async def save_template(db: Database, org_id: str, request: SaveTemplateV1) -> TemplateV1:
    spec = TemplateSpec(
        key=request.key,
        version=0,
        subject=request.subject,
        text=request.text,
        html=request.html,
        variables=MappingProxyType(dict(request.variables)),
        description=request.description,
    )
    # Refused before anything is stored: syntax, undeclared variables, sandbox violations.
    trial_render(compile_template(spec))
    async with db.transaction(org_id=org_id) as uow:
        version, created_at = await templates.add_version(uow.session, org_id, spec)
    return TemplateV1(
        key=spec.key,
        version=version,
        subject=spec.subject,
        text=spec.text,
        html=spec.html,
        variables=dict(spec.variables),
        description=spec.description,
        created_at=created_at,
    )
