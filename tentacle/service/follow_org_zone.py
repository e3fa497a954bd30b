"""An org changed its time zone: keep it, and move the schedules that follow it.

A schedule created without a zone of its own runs in its org's; when inkpass announces a new
zone, each such schedule carries on from its next occurrence in that zone (as an update of its
zone would). Settings events carry a version, so a late or repeated one changes nothing.
"""

from __future__ import annotations

from contracts.inkpass.models import OrgSettingsV1
from shared.logging import get_logger
from tentacle.adapters import schedule_store as store
from tentacle.service.manage_schedules import rescheduled
from tentacle.service.trigger_deps import TriggerDeps

log = get_logger(__name__)


async def follow_org_zone(deps: TriggerDeps, settings: OrgSettingsV1) -> None:
    async with deps.db.transaction(org_id=settings.org_id) as tx:
        if not await store.keep_org_zone(
            tx.conn, settings.org_id, settings.timezone, settings.version
        ):
            return
        now = deps.clock()
        moved = 0
        for schedule in await store.zone_followers(tx.conn, settings.org_id, settings.timezone):
            changed = schedule.model_copy(update={"timezone": settings.timezone})
            await store.save_schedule(tx.conn, rescheduled(changed, now), at=now)
            moved += 1
    log.info("schedules.org_zone_changed", org=settings.org_id, zone=settings.timezone, moved=moved)
