"""Connecting a service from the settings page: one small form per provider, its fields those of
mimic's settings model for it (mimic checks them, keeps the secrets encrypted and answers with
the URL the service posts its webhooks to)."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from contracts.ids import is_token
from contracts.mimic.models import CreateIntegrationV1, DisableIntegrationV1
from contracts.mimic.subjects import INTEGRATION_CREATE, INTEGRATION_DISABLE
from inbox.domain.errors import InboxError, NotFound
from inbox.entrypoints.http.deps import get_inbox
from inbox.entrypoints.http.task_routes import as_caller
from inbox.entrypoints.web.pages import form, login_redirect, person, redirect, settings_page
from inbox.entrypoints.web.provider_forms import PROVIDER_FORMS
from inbox.entrypoints.web.refusals import refusal
from inbox.service.auth import authorize

router = APIRouter(include_in_schema=False)

_FIELDS: Final = {provider: [f for f, _, _ in fields] for provider, _, fields in PROVIDER_FORMS}
_CREATE: Final = TypeAdapter(CreateIntegrationV1)


@router.post("/settings/integrations")
async def connect(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    data = await form(request)
    provider = data.get("provider", "")
    settings = {f: data[f] for f in _FIELDS.get(provider, []) if data.get(f, "").strip()}
    try:
        command = _CREATE.validate_python(
            {"name": data.get("name", ""), "settings": {"provider": provider, **settings}}
        )
    except ValidationError as exc:
        where = ", ".join(str(e["loc"][-1]) for e in exc.errors()[:3])
        refused = refusal(exc, f"Check these fields: {where}.")
        return await settings_page(request, principal, **refused)
    inbox = get_inbox(request)
    try:
        await authorize(inbox, principal, "mimic.integration.create", "integration")
        created = await as_caller(inbox, principal, INTEGRATION_CREATE, command)
    except InboxError as exc:
        return await settings_page(request, principal, **refusal(exc))
    return await settings_page(request, principal, connected=created.model_dump(mode="json"))


@router.post("/settings/integrations/{integration_id}/disable")
async def disable(request: Request, integration_id: str) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    if not is_token(integration_id):
        raise NotFound("no such integration")
    inbox = get_inbox(request)
    await authorize(inbox, principal, "mimic.integration.update", "integration", integration_id)
    payload = DisableIntegrationV1(integration_id=integration_id)
    await as_caller(inbox, principal, INTEGRATION_DISABLE, payload)
    return redirect(request, "/settings#integrations")
