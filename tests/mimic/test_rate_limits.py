"""Rate limits held in PostgreSQL: shared by replicas, deferring or refusing with a code."""

from __future__ import annotations

from pathlib import Path

from contracts.mimic.errors import MimicErrorCode
from contracts.mimic.models import NotificationStatus, Priority
from shared.bus import Bus
from tests.mimic.conftest import (
    StartMimic,
    eventually,
    mail_in,
    notification_events,
    otp_email,
    send,
    wait_status,
)


async def test_over_the_recipient_limit_a_high_priority_send_is_refused(
    start_mimic: StartMimic, probe: Bus, maildir: Path
) -> None:
    await start_mimic(rate_recipient_per_hour=2)
    first = [await send(probe, otp_email(f"r-{n}")) for n in range(2)]
    for nid in first:
        await wait_status(probe, nid, NotificationStatus.DELIVERED)
    urgent = otp_email("r-urgent").model_copy(update={"priority": Priority.HIGH})
    refused = await wait_status(probe, await send(probe, urgent), NotificationStatus.FAILED)
    assert refused.error is not None
    assert refused.error.code == MimicErrorCode.RATE_LIMITED
    assert "recipient" in refused.error.message
    # Another recipient is not affected.
    other = await send(probe, otp_email("r-other", to="bob@example.com"))
    await wait_status(probe, other, NotificationStatus.DELIVERED)
    assert len(mail_in(maildir)) == 3


async def test_over_the_org_limit_a_normal_send_is_deferred_then_refused(
    start_mimic: StartMimic, probe: Bus, maildir: Path
) -> None:
    await start_mimic(rate_org_per_minute=1, max_deferrals=0)
    ok = await send(probe, otp_email("o-1", to="a1@example.com"))
    await wait_status(probe, ok, NotificationStatus.DELIVERED)
    over = await send(probe, otp_email("o-2", to="a2@example.com"))
    refused = await wait_status(probe, over, NotificationStatus.FAILED)
    assert refused.error is not None
    assert refused.error.code == MimicErrorCode.RATE_LIMITED
    assert "org" in refused.error.message
    assert len(mail_in(maildir)) == 1


async def test_a_normal_send_over_a_limit_is_deferred_to_the_end_of_its_window(
    start_mimic: StartMimic, probe: Bus, maildir: Path
) -> None:
    await start_mimic(rate_org_per_minute=1, max_deferrals=2)
    ok = await send(probe, otp_email("d-1", to="a1@example.com"))
    await wait_status(probe, ok, NotificationStatus.DELIVERED)
    later = await send(probe, otp_email("d-2", to="a2@example.com"))

    async def deferred() -> bool:
        return any(e.subject.endswith(".deferred") for e in await notification_events(probe))

    await eventually(deferred)
    queued = await wait_status(probe, later, NotificationStatus.QUEUED)
    assert queued.deferred_until is not None
    assert queued.deferred_until.second == 0, "the org window is a whole minute"
    assert queued.error is None
    assert len(mail_in(maildir)) == 1


async def test_limits_are_shared_by_replicas(start_mimic: StartMimic, probe: Bus) -> None:
    await start_mimic(rate_recipient_per_hour=3, max_deferrals=0)
    await start_mimic(rate_recipient_per_hour=3, max_deferrals=0)
    nids = [await send(probe, otp_email(f"shared-{n}")) for n in range(5)]
    final = [
        await wait_status(probe, nid, NotificationStatus.DELIVERED, NotificationStatus.FAILED)
        for nid in nids
    ]
    assert sorted(n.status for n in final) == ["delivered"] * 3 + ["failed"] * 2
