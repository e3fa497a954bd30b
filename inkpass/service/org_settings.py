"""An organisation's settings: read by any member, changed by those allowed inkpass.org.update.

Every change is announced (`ORG_SETTINGS_CHANGED`, with a version) so the services that act on
the org's behalf, like tentacle's schedules running in its time zone, keep their copy current.
"""

from __future__ import annotations

from contracts.inkpass.models import (
    AuditKind,
    GetOrgSettingsV1,
    OrgSettingsV1,
    UpdateOrgSettingsV1,
)
from contracts.inkpass.subjects import ORG_SETTINGS_CHANGED
from inkpass.adapters import orgs
from inkpass.adapters.orgs import OrgSettings
from inkpass.domain.errors import not_found
from inkpass.domain.roles import Actions
from inkpass.service.authn import caller, claims_of
from inkpass.service.authorization import require
from inkpass.service.deps import Deps
from inkpass.service.recording import audit
from inkpass.service.tx import transaction


def _view(found: OrgSettings) -> OrgSettingsV1:
    return OrgSettingsV1(
        org_id=found.id, name=found.name, timezone=found.timezone, version=found.version
    )


async def get_org_settings(deps: Deps, request: GetOrgSettingsV1) -> OrgSettingsV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        found = await orgs.settings(tx.session, me.org_id)
    if found is None:
        raise not_found("organisation")
    return _view(found)


async def update_org_settings(deps: Deps, request: UpdateOrgSettingsV1) -> OrgSettingsV1:
    claims = claims_of(deps, request.access_token)
    async with transaction(deps, claims.org_id) as tx:
        me = await caller(tx, claims)
        await require(
            deps,
            tx.session,
            org_id=me.org_id,
            user_id=me.user_id,
            role=me.role,
            mfa=claims.mfa,
            action=Actions.ORG_UPDATE,
        )
        before = await orgs.settings(tx.session, me.org_id)
        if before is None:
            raise not_found("organisation")
        if request.name in (None, before.name) and request.timezone in (None, before.timezone):
            return _view(before)  # nothing changes: no new version, no event
        after = await orgs.change_settings(
            tx.session, me.org_id, name=request.name, timezone=request.timezone
        )
        view = _view(after)
        tx.publish(deps.bus.message(ORG_SETTINGS_CHANGED, view, org_id=me.org_id))
        await audit(
            tx,
            deps,
            AuditKind.ORG_SETTINGS_CHANGED,
            org_id=me.org_id,
            user_id=me.user_id,
            before=f"{before.name} | {before.timezone}",
            after=f"{after.name} | {after.timezone}",
        )
    return view
