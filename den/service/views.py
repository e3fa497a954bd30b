"""Rows as the contract's models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from contracts.den.models import FileV1, FolderV1, LinkV1, UploadState, UploadV1
from contracts.envelope import Actor, ActorKind
from den.service.urls import Urls


def _actor(row: Row[Any]) -> Actor:
    return Actor(kind=ActorKind(row.created_by_kind), id=row.created_by_id)


def folder_view(row: Row[Any]) -> FolderV1:
    return FolderV1(
        folder_id=str(row.id),
        parent_id=None if row.parent_id is None else str(row.parent_id),
        name=row.name,
        created_by=_actor(row),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def file_view(row: Row[Any], urls: Urls) -> FileV1:
    file_id = str(row.id)
    return FileV1(
        file_id=file_id,
        folder_id=None if row.folder_id is None else str(row.folder_id),
        name=row.name,
        size=row.size,
        sha256=bytes(row.sha256).hex(),
        content_type=row.content_type,
        tags=list(row.tags),
        public=row.public,
        public_url=urls.public_file(row.org_id, file_id) if row.public else None,
        created_by=_actor(row),
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


def upload_view(row: Row[Any]) -> UploadV1:
    return UploadV1(
        upload_id=str(row.id),
        state=UploadState(row.state),
        folder_id=None if row.folder_id is None else str(row.folder_id),
        name=row.name,
        public=row.public,
        tags=list(row.tags),
        length=row.length,
        offset=row.byte_offset,
        max_bytes=row.max_bytes,
        expires_at=row.expires_at,
        file_id=None if row.file_id is None else str(row.file_id),
        failure=row.failure,
    )


def link_view(row: Row[Any], urls: Urls) -> LinkV1:
    link_id, file_id = str(row.id), str(row.file_id)
    expires = int(row.expires_at.timestamp())
    return LinkV1(
        link_id=link_id,
        file_id=file_id,
        url=urls.link(row.org_id, file_id, link_id, expires),
        expires_at=row.expires_at,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
