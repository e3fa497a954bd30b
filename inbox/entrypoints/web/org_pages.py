"""The organisation section of the settings page: its name and time zone (inkpass decides, on
the person's own token, whether they may change them: owners and admins)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import SecretStr, ValidationError

from contracts.inkpass import subjects as ip
from contracts.inkpass.models import UpdateOrgSettingsV1
from inbox.domain.errors import InboxError
from inbox.entrypoints.http.auth_routes import ask
from inbox.entrypoints.http.deps import get_inbox
from inbox.entrypoints.web.pages import form, login_redirect, person, redirect, settings_page
from inbox.entrypoints.web.refusals import refusal

router = APIRouter(include_in_schema=False)


@router.post("/settings/org")
async def change_org(request: Request) -> Response:
    principal = await person(request)
    if principal is None:
        return login_redirect(request)
    data = await form(request)
    try:
        payload = UpdateOrgSettingsV1(
            access_token=SecretStr(principal.access_token or ""),
            name=data.get("name") or None,
            timezone=data.get("timezone") or None,
        )
    except ValidationError as exc:
        refused = refusal(exc, "Give a name and a time zone from the list (e.g. Europe/Paris).")
        return await settings_page(request, principal, **refused)
    try:
        await ask(get_inbox(request), ip.UPDATE_ORG_SETTINGS, payload)
    except InboxError as exc:
        return await settings_page(request, principal, **refusal(exc))
    return redirect(request, "/settings#organisation")
