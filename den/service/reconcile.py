"""The reconciler: what crashed writers, expired uploads and interrupted purges left behind.

It visits the organisations listed as due in `den_sweeps` (every write that could leave
something behind schedules its org there, in the same transaction) and, per org:

* expires uploads past their lifetime: reservation released, bytes removed;
* for an upload whose writer's lease ran out (the process died mid-request), removes the parts
  that writer never committed (objects first, rows after) so the client can resume cleanly;
* completes uploads whose bytes are all stored but whose completion never committed;
* finishes purging blobs marked `purging`;
* empties the trash of files older than the retention (as a purge by the platform);
* forgets finished uploads and expired links after a while.

`sweep_orphans` is the second line: it lists the bucket itself and removes objects (and chunk
subjects) that no row knows and that are older than a grace period, the trace of a crash
between storing bytes and recording them or of a database restored from an older backup.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contracts.den.models import PurgeFileV1, UploadState
from contracts.den.subjects import SERVICE
from contracts.ids import is_token
from den.adapters import repository as repo
from den.adapters.objectstore import object_name, parse_object_name
from den.service import lookups
from den.service.cancel_upload import end_upload
from den.service.complete_upload import complete_upload
from den.service.context import Caller, Den
from den.service.purge_blob import purge_blob
from den.service.purge_file import purge_file
from shared.context import system_actor
from shared.logging import get_logger

log = get_logger(__name__)

_BATCH = 500
_KEEP_FINISHED = timedelta(days=7)
_KEEP_EXPIRED_LINKS = timedelta(days=1)


@dataclass
class Report:
    orgs: int = 0
    expired_uploads: int = 0
    released_leases: int = 0
    removed_parts: int = 0
    completed_uploads: int = 0
    purged_blobs: int = 0
    emptied_trash: int = 0
    orphan_objects: int = 0
    orphan_chunks: int = 0
    errors: list[str] = field(default_factory=list)


async def reconcile(den: Den, *, now: datetime | None = None) -> Report:
    now = now or den.now()
    report = Report()
    async with den.db.transaction() as uow:
        orgs = await repo.due_sweeps(uow.session, now, _BATCH)
    for org_id in orgs:
        report.orgs += 1
        try:
            await reconcile_org(den, org_id, now, report)
        except Exception as exc:  # one org's trouble must not stop the others
            log.warning("den.reconcile_failed", org=org_id, error=str(exc), exc_info=True)
            report.errors.append(f"{org_id}: {exc}")
    return report


async def reconcile_org(den: Den, org_id: str, now: datetime, report: Report) -> None:
    async with den.db.transaction(org_id=org_id) as uow:
        stale = await repo.stale_uploads(uow.session, now, _BATCH)
    for upload_id in stale:
        await _settle_stale(den, org_id, upload_id, now, report)
    retention = den.settings.trash_retention_s
    if retention:
        async with den.db.transaction(org_id=org_id) as uow:
            old = await repo.trash_before(uow.session, now - timedelta(seconds=retention), _BATCH)
        caller = Caller(org_id, system_actor(SERVICE))
        for file_id in old:
            await purge_file(den, caller, PurgeFileV1(file_id=file_id))
            report.emptied_trash += 1
    async with den.db.transaction(org_id=org_id) as uow:
        purging = await repo.purging_blob_ids(uow.session, _BATCH)
    for blob_id in purging:
        if await purge_blob(den, org_id, blob_id):
            report.purged_blobs += 1
    async with den.db.transaction(org_id=org_id) as uow:
        await repo.prune_finished_uploads(uow.session, now - _KEEP_FINISHED)
        await repo.prune_expired_links(uow.session, now - _KEEP_EXPIRED_LINKS)
    await _reschedule(den, org_id, now)


async def _settle_stale(
    den: Den, org_id: str, upload_id: str, now: datetime, report: Report
) -> None:
    async with den.db.transaction(org_id=org_id) as uow:
        row = await lookups.upload(uow.session, upload_id)
    if row.expires_at < now:
        await end_upload(den, org_id, upload_id, state=UploadState.EXPIRED, strict=False)
        report.expired_uploads += 1
        return
    if row.lease_until is None or row.lease_until >= now:
        return
    async with den.db.transaction(org_id=org_id) as uow:
        row = await lookups.upload(uow.session, upload_id, lock=True)
        if row.lease_until is None or row.lease_until >= now:
            return  # a writer renewed it meanwhile
        await repo.update_upload(uow.session, upload_id, lease_owner=None, lease_until=None)
        parts = await repo.parts_of(uow.session, upload_id)
    report.released_leases += 1
    leftovers = [p for p in parts if not p.written or p.byte_offset + p.size > row.byte_offset]
    for part in leftovers:
        await den.store.purge(part.nuid, object_name(org_id, upload_id, part.part_no))
    async with den.db.transaction(org_id=org_id) as uow:
        await repo.delete_parts(uow.session, upload_id, [p.part_no for p in leftovers])
    report.removed_parts += len(leftovers)
    if row.state == UploadState.RECEIVING.value and row.byte_offset == row.length:
        await complete_upload(den, org_id, upload_id)
        report.completed_uploads += 1


async def _reschedule(den: Den, org_id: str, now: datetime) -> None:
    """Next visit: the earliest upload deadline; soon if a purge is still pending; else never.

    Under the sweep row's lock, so a write scheduling this org concurrently is never lost."""
    retry = now + timedelta(seconds=den.settings.reconcile_interval_s)
    async with den.db.transaction(org_id=org_id) as uow:
        await repo.lock_sweep(uow.session, org_id)
        deadline = await repo.next_upload_deadline(uow.session)
        oldest = await repo.oldest_trash(uow.session)
        if oldest is not None and den.settings.trash_retention_s:
            due = oldest + timedelta(seconds=den.settings.trash_retention_s)
            deadline = due if deadline is None else min(deadline, due)
        if await repo.purging_blob_ids(uow.session, 1):
            deadline = retry if deadline is None else min(deadline, retry)
        if deadline is not None and deadline <= now:
            deadline = retry
        await repo.set_sweep(uow.session, org_id, deadline)


async def sweep_orphans(den: Den, *, now: datetime | None = None) -> Report:
    """Remove stored objects and chunks no row knows, once older than the grace period."""
    now = now or den.now()
    grace = timedelta(seconds=den.settings.orphan_grace_s)
    report = Report()
    objects = await den.store.list_objects()
    by_org: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for obj in objects:
        key = _key_of(obj.name)
        if key is not None:
            by_org[key[0]].append((key[1], key[2]))
    known: set[tuple[str, str, int]] = set()
    for org_id, keys in by_org.items():
        try:
            async with den.db.transaction(org_id=org_id) as uow:
                found = await repo.known_part_names(uow.session, keys)
        except Exception as exc:
            report.errors.append(f"{org_id}: {exc}")
            known.update((org_id, b, p) for b, p in keys)  # unsure: keep
            continue
        known.update((org_id, b, p) for b, p in found)
    for obj in objects:
        key = _key_of(obj.name)
        if key is not None and key in known:
            continue
        if obj.mtime is not None and now - obj.mtime < grace:
            continue
        await den.store.purge(obj.nuid, obj.name)
        report.orphan_objects += 1
    # Chunks without any metadata: a writer died before finishing its part.
    referenced = {obj.nuid for obj in objects}
    writing: set[str] = set()
    async with den.db.transaction() as uow:
        swept = await repo.swept_orgs(uow.session)
    for org_id in swept:
        async with den.db.transaction(org_id=org_id) as uow:
            writing |= await repo.unwritten_nuids(uow.session)
    for nuid in await den.store.chunk_nuids() - referenced - writing:
        last = await den.store.last_write(nuid)
        if last is not None and now - last < grace:
            continue
        await den.store.purge(nuid)
        report.orphan_chunks += 1
    return report


def _key_of(name: str) -> tuple[str, str, int] | None:
    """(org, blob, part) of an object den named; None for anything else in the bucket."""
    parsed = parse_object_name(name)
    if parsed is None or not is_token(parsed[0]):
        return None
    blob_id = repo.as_uuid(parsed[1])
    return None if blob_id is None else (parsed[0], blob_id, parsed[2])
