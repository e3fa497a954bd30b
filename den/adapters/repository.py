"""Queries over den's tables. Every function runs inside the caller's unit of work, whose
transaction is scoped to one organisation (row-level security), so none filters by org itself
except where it writes the org into a new row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from den.adapters.tables import blobs, files, folders, links, parts, sweeps, uploads, usage

ACTIVE_UPLOAD_STATES = ("authorized", "receiving")


def as_uuid(value: str | None) -> str | None:
    """The canonical form of a UUID id, or None if `value` is not one (so it cannot exist)."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# ----------------------------------------------------------------------------- folders
async def get_folder(
    session: AsyncSession, folder_id: str, *, share: bool = False
) -> Row[Any] | None:
    """`share` holds the folder until commit against deletion (not against renames/moves)."""
    query = select(folders).where(folders.c.id == folder_id)
    if share:
        query = query.with_for_update(key_share=True, read=True)
    return (await session.execute(query)).first()


async def lock_folder(session: AsyncSession, folder_id: str) -> None:
    await session.execute(select(folders.c.id).where(folders.c.id == folder_id).with_for_update())


async def folder_name_taken(
    session: AsyncSession, parent_id: str | None, name: str, *, except_id: str | None = None
) -> bool:
    query = select(folders.c.id).where(
        folders.c.parent_id.is_(None) if parent_id is None else folders.c.parent_id == parent_id,
        folders.c.name == name,
    )
    if except_id is not None:
        query = query.where(folders.c.id != except_id)
    return (await session.execute(query.limit(1))).first() is not None


async def insert_folder(session: AsyncSession, **values: Any) -> Row[Any]:
    result = await session.execute(folders.insert().values(**values).returning(folders))
    row: Row[Any] = result.one()
    return row


async def update_folder(session: AsyncSession, folder_id: str, **values: Any) -> Row[Any]:
    result = await session.execute(
        update(folders)
        .where(folders.c.id == folder_id)
        .values(**values, updated_at=func.now())
        .returning(folders)
    )
    row: Row[Any] = result.one()
    return row


async def ancestor_ids(session: AsyncSession, folder_id: str) -> list[str]:
    """`folder_id` and every folder above it, nearest first."""
    chain = (
        select(folders.c.id, folders.c.parent_id)
        .where(folders.c.id == folder_id)
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        select(folders.c.id, folders.c.parent_id).join(chain, folders.c.id == chain.c.parent_id)
    )
    result = await session.execute(select(chain.c.id))
    return [str(r) for r in result.scalars()]


async def folder_is_empty(session: AsyncSession, folder_id: str) -> bool:
    """No subfolder, no live file and no upload in progress targets it."""
    busy = select(
        or_(
            exists().where(folders.c.parent_id == folder_id),
            exists().where(files.c.folder_id == folder_id, files.c.deleted_at.is_(None)),
            exists().where(
                uploads.c.folder_id == folder_id, uploads.c.state.in_(ACTIVE_UPLOAD_STATES)
            ),
        )
    )
    return not (await session.execute(busy)).scalar_one()


async def delete_folder(session: AsyncSession, folder_id: str) -> None:
    # Trashed files of the folder fall back to the root: restoring them must still work.
    await session.execute(
        update(files).where(files.c.folder_id == folder_id).values(folder_id=None)
    )
    await session.execute(delete(folders).where(folders.c.id == folder_id))


async def child_folders(
    session: AsyncSession, parent_id: str | None, after: tuple[str, str] | None, limit: int
) -> Sequence[Row[Any]]:
    query = select(folders).where(
        folders.c.parent_id.is_(None) if parent_id is None else folders.c.parent_id == parent_id
    )
    if after is not None:
        query = query.where(
            or_(
                folders.c.name > after[0], and_(folders.c.name == after[0], folders.c.id > after[1])
            )
        )
    query = query.order_by(folders.c.name, folders.c.id).limit(limit)
    return (await session.execute(query)).all()


# ----------------------------------------------------------------------------- files
async def get_file(session: AsyncSession, file_id: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(files).where(files.c.id == file_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def live_names_like(session: AsyncSession, folder_id: str | None, stem: str) -> set[str]:
    """Live file names in a folder that start with `stem` (candidates for a clash)."""
    query = select(files.c.name).where(
        files.c.folder_id.is_(None) if folder_id is None else files.c.folder_id == folder_id,
        files.c.deleted_at.is_(None),
        files.c.name.like(_like_prefix(stem), escape="\\"),
    )
    return set((await session.execute(query)).scalars())


async def file_name_taken(
    session: AsyncSession, folder_id: str | None, name: str, *, except_id: str | None = None
) -> bool:
    query = select(files.c.id).where(
        files.c.folder_id.is_(None) if folder_id is None else files.c.folder_id == folder_id,
        files.c.name == name,
        files.c.deleted_at.is_(None),
    )
    if except_id is not None:
        query = query.where(files.c.id != except_id)
    return (await session.execute(query.limit(1))).first() is not None


async def insert_file(session: AsyncSession, **values: Any) -> Row[Any]:
    row: Row[Any] = (await session.execute(files.insert().values(**values).returning(files))).one()
    return row


async def update_file(session: AsyncSession, file_id: str, **values: Any) -> Row[Any]:
    result = await session.execute(
        update(files)
        .where(files.c.id == file_id)
        .values(**values, updated_at=func.now())
        .returning(files)
    )
    row: Row[Any] = result.one()
    return row


async def delete_file(session: AsyncSession, file_id: str) -> None:
    await session.execute(delete(files).where(files.c.id == file_id))


async def files_in_folder(
    session: AsyncSession, folder_id: str | None, after: tuple[str, str] | None, limit: int
) -> Sequence[Row[Any]]:
    query = select(files).where(
        files.c.folder_id.is_(None) if folder_id is None else files.c.folder_id == folder_id,
        files.c.deleted_at.is_(None),
    )
    if after is not None:
        query = query.where(
            or_(files.c.name > after[0], and_(files.c.name == after[0], files.c.id > after[1]))
        )
    return (await session.execute(query.order_by(files.c.name, files.c.id).limit(limit))).all()


async def find_files(
    session: AsyncSession,
    *,
    folder_id: str | None,
    tag: str | None,
    name_prefix: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> Sequence[Row[Any]]:
    query = select(files).where(files.c.deleted_at.is_(None))
    if folder_id is not None:
        query = query.where(files.c.folder_id == folder_id)
    if tag is not None:
        query = query.where(files.c.tags.contains([tag]))
    if name_prefix:
        query = query.where(files.c.name.like(_like_prefix(name_prefix), escape="\\"))
    if after is not None:
        query = query.where(
            or_(files.c.name > after[0], and_(files.c.name == after[0], files.c.id > after[1]))
        )
    return (await session.execute(query.order_by(files.c.name, files.c.id).limit(limit))).all()


async def trashed_files(
    session: AsyncSession, after: tuple[datetime, str] | None, limit: int
) -> Sequence[Row[Any]]:
    query = select(files).where(files.c.deleted_at.is_not(None))
    if after is not None:
        query = query.where(
            or_(
                files.c.deleted_at < after[0],
                and_(files.c.deleted_at == after[0], files.c.id < after[1]),
            )
        )
    query = query.order_by(files.c.deleted_at.desc(), files.c.id.desc()).limit(limit)
    return (await session.execute(query)).all()


async def trash_before(session: AsyncSession, before: datetime, limit: int) -> list[str]:
    query = (
        select(files.c.id)
        .where(files.c.deleted_at.is_not(None), files.c.deleted_at < before)
        .order_by(files.c.deleted_at)
        .limit(limit)
    )
    return [str(f) for f in (await session.execute(query)).scalars()]


async def oldest_trash(session: AsyncSession) -> datetime | None:
    value = (
        await session.execute(
            select(func.min(files.c.deleted_at)).where(files.c.deleted_at.is_not(None))
        )
    ).scalar_one()
    return value if isinstance(value, datetime) else None


async def blob_is_referenced(session: AsyncSession, blob_id: str) -> bool:
    query = select(exists().where(files.c.blob_id == blob_id))
    return bool((await session.execute(query)).scalar_one())


# ----------------------------------------------------------------------------- blobs, parts
async def insert_blob(session: AsyncSession, **values: Any) -> None:
    await session.execute(blobs.insert().values(**values))


async def get_blob(session: AsyncSession, blob_id: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(blobs).where(blobs.c.id == blob_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def update_blob(session: AsyncSession, blob_id: str, **values: Any) -> None:
    await session.execute(update(blobs).where(blobs.c.id == blob_id).values(**values))


async def delete_blob(session: AsyncSession, blob_id: str) -> None:
    await session.execute(delete(blobs).where(blobs.c.id == blob_id))


async def purging_blob_ids(session: AsyncSession, limit: int) -> list[str]:
    query = select(blobs.c.id).where(blobs.c.state == "purging").limit(limit)
    return [str(b) for b in (await session.execute(query)).scalars()]


async def parts_of(
    session: AsyncSession,
    blob_id: str,
    *,
    written: bool | None = None,
    start: int | None = None,
    end: int | None = None,
) -> Sequence[Row[Any]]:
    query = select(parts).where(parts.c.blob_id == blob_id)
    if written is not None:
        query = query.where(parts.c.written.is_(written))
    if start is not None and end is not None:
        query = query.where(parts.c.byte_offset <= end, parts.c.byte_offset + parts.c.size > start)
    return (await session.execute(query.order_by(parts.c.part_no))).all()


async def insert_part(session: AsyncSession, **values: Any) -> None:
    await session.execute(parts.insert().values(**values))


async def mark_part_written(
    session: AsyncSession,
    blob_id: str,
    part_no: int,
    *,
    size: int,
    sha256: bytes,
    chunk_seqs: list[int],
) -> None:
    await session.execute(
        update(parts)
        .where(parts.c.blob_id == blob_id, parts.c.part_no == part_no)
        .values(size=size, sha256=sha256, chunk_seqs=chunk_seqs, written=True)
    )


async def delete_parts(session: AsyncSession, blob_id: str, part_nos: Sequence[int]) -> None:
    if part_nos:
        await session.execute(
            delete(parts).where(parts.c.blob_id == blob_id, parts.c.part_no.in_(part_nos))
        )


async def unwritten_nuids(session: AsyncSession) -> set[str]:
    query = select(parts.c.nuid).where(parts.c.written.is_(False))
    return set((await session.execute(query)).scalars())


async def known_part_names(
    session: AsyncSession, keys: Sequence[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Which of (blob_id, part_no) exist, among `keys`."""
    if not keys:
        return set()
    ids = sorted({b for b, _ in keys})
    query = select(parts.c.blob_id, parts.c.part_no).where(parts.c.blob_id.in_(ids))
    return {(str(b), int(p)) for b, p in (await session.execute(query)).all()}


# ----------------------------------------------------------------------------- uploads
async def get_upload(
    session: AsyncSession, upload_id: str, *, lock: bool = False
) -> Row[Any] | None:
    query = select(uploads).where(uploads.c.id == upload_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def insert_upload(session: AsyncSession, **values: Any) -> Row[Any]:
    row: Row[Any] = (
        await session.execute(uploads.insert().values(**values).returning(uploads))
    ).one()
    return row


async def update_upload(session: AsyncSession, upload_id: str, **values: Any) -> Row[Any]:
    result = await session.execute(
        update(uploads)
        .where(uploads.c.id == upload_id)
        .values(**values, updated_at=func.now())
        .returning(uploads)
    )
    row: Row[Any] = result.one()
    return row


async def update_held_upload(
    session: AsyncSession, upload_id: str, owner: str, **values: Any
) -> Row[Any] | None:
    """Update a receiving upload only while `owner` holds its lease; None if it does not."""
    result = await session.execute(
        update(uploads)
        .where(
            uploads.c.id == upload_id,
            uploads.c.lease_owner == owner,
            uploads.c.state == "receiving",
        )
        .values(**values, updated_at=func.now())
        .returning(uploads)
    )
    row: Row[Any] | None = result.first()
    return row


async def reserved_total(session: AsyncSession, *, except_id: str | None = None) -> int:
    query = select(func.coalesce(func.sum(uploads.c.reserved_bytes), 0)).where(
        uploads.c.state.in_(ACTIVE_UPLOAD_STATES)
    )
    if except_id is not None:
        query = query.where(uploads.c.id != except_id)
    return int((await session.execute(query)).scalar_one())


async def stale_uploads(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Active uploads past their expiry, or writing with nobody holding the lease."""
    query = (
        select(uploads.c.id)
        .where(
            uploads.c.state.in_(ACTIVE_UPLOAD_STATES),
            or_(
                uploads.c.expires_at < now,
                and_(uploads.c.lease_until.is_not(None), uploads.c.lease_until < now),
            ),
        )
        .limit(limit)
    )
    return [str(u) for u in (await session.execute(query)).scalars()]


async def next_upload_deadline(session: AsyncSession) -> datetime | None:
    query = select(
        func.least(func.min(uploads.c.expires_at), func.min(uploads.c.lease_until))
    ).where(uploads.c.state.in_(ACTIVE_UPLOAD_STATES))
    value = (await session.execute(query)).scalar_one()
    return value if isinstance(value, datetime) else None


async def prune_finished_uploads(session: AsyncSession, before: datetime) -> None:
    await session.execute(
        delete(uploads).where(
            uploads.c.state.not_in(ACTIVE_UPLOAD_STATES), uploads.c.updated_at < before
        )
    )


# ----------------------------------------------------------------------------- links
async def insert_link(session: AsyncSession, **values: Any) -> Row[Any]:
    row: Row[Any] = (await session.execute(links.insert().values(**values).returning(links))).one()
    return row


async def get_link(session: AsyncSession, link_id: str) -> Row[Any] | None:
    return (await session.execute(select(links).where(links.c.id == link_id))).first()


async def revoke_link(session: AsyncSession, link_id: str) -> Row[Any]:
    result = await session.execute(
        update(links)
        .where(links.c.id == link_id)
        .values(revoked_at=func.coalesce(links.c.revoked_at, func.now()))
        .returning(links)
    )
    row: Row[Any] = result.one()
    return row


async def revoke_file_links(session: AsyncSession, file_id: str, now: datetime) -> int:
    result = await session.execute(
        update(links)
        .where(links.c.file_id == file_id, links.c.revoked_at.is_(None), links.c.expires_at > now)
        .values(revoked_at=func.now())
    )
    return int(cast(CursorResult[Any], result).rowcount)


async def prune_expired_links(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(links).where(links.c.expires_at < before))


# ----------------------------------------------------------------------------- usage
async def lock_usage(session: AsyncSession, org_id: str) -> Row[Any]:
    """The org's usage row, created if missing, locked until the transaction ends: quota
    checks and reservations of one org are serialised on it."""
    await session.execute(insert(usage).values(org_id=org_id).on_conflict_do_nothing())
    result = await session.execute(select(usage).where(usage.c.org_id == org_id).with_for_update())
    row: Row[Any] = result.one()
    return row


async def get_usage(session: AsyncSession, org_id: str) -> Row[Any] | None:
    return (await session.execute(select(usage).where(usage.c.org_id == org_id))).first()


async def add_used(session: AsyncSession, org_id: str, delta: int) -> None:
    await session.execute(
        update(usage).where(usage.c.org_id == org_id).values(used_bytes=usage.c.used_bytes + delta)
    )


async def set_quota(session: AsyncSession, org_id: str, quota: int | None) -> None:
    await session.execute(update(usage).where(usage.c.org_id == org_id).values(quota_bytes=quota))


# ----------------------------------------------------------------------------- sweeps
async def schedule_sweep(session: AsyncSession, org_id: str, due_at: datetime) -> None:
    """Make sure the reconciler visits `org_id` no later than `due_at`."""
    statement = insert(sweeps).values(org_id=org_id, due_at=due_at)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[sweeps.c.org_id],
            set_={"due_at": func.least(sweeps.c.due_at, statement.excluded.due_at)},
        )
    )


async def lock_sweep(session: AsyncSession, org_id: str) -> datetime | None:
    result = await session.execute(
        select(sweeps.c.due_at).where(sweeps.c.org_id == org_id).with_for_update()
    )
    value = result.scalar_one_or_none()
    return value if isinstance(value, datetime) else None


async def set_sweep(session: AsyncSession, org_id: str, due_at: datetime | None) -> None:
    if due_at is None:
        await session.execute(delete(sweeps).where(sweeps.c.org_id == org_id))
    else:
        await session.execute(update(sweeps).where(sweeps.c.org_id == org_id).values(due_at=due_at))


async def due_sweeps(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    query = select(sweeps.c.org_id).where(sweeps.c.due_at <= now).order_by(sweeps.c.due_at)
    return list((await session.execute(query.limit(limit))).scalars())


async def swept_orgs(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(sweeps.c.org_id))).scalars())
