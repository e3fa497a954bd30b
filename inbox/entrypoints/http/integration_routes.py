"""Connecting outside services (Discord, Slack, GitHub, Stripe, custom webhooks), fronting
mimic: it keeps their secrets encrypted and answers with the ingress path integrators post to.
Listing lives with notifications in `files_routes`; these create, read and disable one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from contracts.ids import SubjectToken
from contracts.mimic.models import (
    CreateIntegrationV1,
    DisableIntegrationV1,
    GetIntegrationV1,
    IntegrationV1,
)
from contracts.mimic.subjects import INTEGRATION_CREATE, INTEGRATION_DISABLE, INTEGRATION_GET
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, authorize_caller
from inbox.entrypoints.http.task_routes import as_caller, dump

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])


@router.post("", status_code=201, response_model=IntegrationV1)
async def create_integration(
    body: CreateIntegrationV1, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """Connect a service; post its webhooks to mimic's URL + `ingress_path`."""
    await authorize_caller(inbox, principal, request, "mimic.integration.create", "integration")
    return dump(await as_caller(inbox, principal, INTEGRATION_CREATE, body))


@router.get("/{integration_id}", response_model=IntegrationV1)
async def get_integration(
    integration_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(
        inbox, principal, request, "mimic.integration.get", "integration", integration_id
    )
    payload = GetIntegrationV1(integration_id=integration_id)
    return dump(await as_caller(inbox, principal, INTEGRATION_GET, payload))


@router.post("/{integration_id}/disable", response_model=IntegrationV1)
async def disable_integration(
    integration_id: SubjectToken, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """Stop it: its ingress stops answering and actions through it are refused."""
    await authorize_caller(
        inbox, principal, request, "mimic.integration.update", "integration", integration_id
    )
    payload = DisableIntegrationV1(integration_id=integration_id)
    return dump(await as_caller(inbox, principal, INTEGRATION_DISABLE, payload))
