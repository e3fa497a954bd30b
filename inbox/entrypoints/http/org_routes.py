"""The organisation's own settings (name, time zone), fronting inkpass, which decides on the
caller's token who may change them (inkpass.org.update: owners and admins)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from contracts.inkpass import subjects as ip
from contracts.inkpass.models import GetOrgSettingsV1, OrgSettingsV1, UpdateOrgSettingsV1
from contracts.inkpass.types import OrgName, TimeZone
from inbox.entrypoints.http.auth_routes import ask, revealed, user_token
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep

router = APIRouter(prefix="/api/v1", tags=["organisation"])


class OrgSettingsChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: OrgName | None = None
    timezone: TimeZone | None = None


@router.get("/org/settings", response_model=OrgSettingsV1)
async def get_settings(principal: PrincipalDep, inbox: InboxDep) -> dict[str, Any]:
    payload = GetOrgSettingsV1(access_token=user_token(principal))
    return revealed(await ask(inbox, ip.GET_ORG_SETTINGS, payload))


@router.patch("/org/settings", response_model=OrgSettingsV1)
async def change_settings(
    body: OrgSettingsChange, principal: PrincipalDep, inbox: InboxDep
) -> dict[str, Any]:
    """Rename the organisation or change its time zone; schedules that follow it move too."""
    payload = UpdateOrgSettingsV1(access_token=user_token(principal), **body.model_dump())
    return revealed(await ask(inbox, ip.UPDATE_ORG_SETTINGS, payload))
