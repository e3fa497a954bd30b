"""Remove a blob marked `purging`: its objects first, then its rows.

A blob is marked in the same transaction that drops its last reference (or ends its upload),
so a crash before its objects are gone leaves the mark, and the reconciler finishes the job.
"""

from __future__ import annotations

from den.adapters import repository as repo
from den.adapters.objectstore import object_name
from den.service.context import Den
from shared.logging import get_logger

log = get_logger(__name__)


async def purge_blob(den: Den, org_id: str, blob_id: str) -> bool:
    """True when the blob is gone; False when the store failed (the mark stays for later)."""
    async with den.db.transaction(org_id=org_id) as uow:
        blob = await repo.get_blob(uow.session, blob_id)
        if blob is None or blob.state != "purging":
            return blob is None
        victims = [(p.part_no, p.nuid) for p in await repo.parts_of(uow.session, blob_id)]
    try:
        for part_no, nuid in victims:
            await den.store.purge(nuid, object_name(org_id, blob_id, part_no))
    except Exception as exc:
        log.warning("den.purge_deferred", blob=blob_id, error=str(exc))
        return False
    async with den.db.transaction(org_id=org_id) as uow:
        blob = await repo.get_blob(uow.session, blob_id, lock=True)
        if blob is not None and blob.state == "purging":
            await repo.delete_blob(uow.session, blob_id)
    return True
