"""Den's messages: files, folders, links and uploads. Bytes never travel on the bus (HTTP only).

The organisation of every request is the envelope's `meta.org_id` (the inbox authenticates the
user before forwarding; agents act inside their task's org), and the actor recorded as a
file's creator is `meta.actor`. Names are checked by den itself (`den.invalid_name`): the limits
here only bound the payload.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from contracts.envelope import Actor
from contracts.ids import SubjectToken
from contracts.model import ContractModel

Name = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
"""A file or folder name; den rejects separators, controls, `.`/`..` and more than 255 bytes."""

Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tags = Annotated[list[Tag], Field(max_length=32)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Limit = Annotated[int, Field(ge=1, le=1000)]
Lifetime = Annotated[int, Field(ge=1, description="Seconds; at most den's configured maximum.")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


# ----------------------------------------------------------------------------- read models
class FolderV1(ContractModel):
    folder_id: SubjectToken
    parent_id: SubjectToken | None = Field(description="None: the organisation's root.")
    name: str
    created_by: Actor
    created_at: AwareDatetime
    updated_at: AwareDatetime


class FileV1(ContractModel):
    file_id: SubjectToken
    folder_id: SubjectToken | None = Field(description="None: the organisation's root.")
    name: str
    size: int = Field(ge=0)
    sha256: Sha256Hex
    content_type: str = Field(description="Sniffed from the bytes; never the client's claim.")
    tags: list[str] = Field(default_factory=list)
    public: bool = Field(description="Readable by anyone at `public_url`, without a signature.")
    public_url: str | None = None
    created_by: Actor
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None = Field(default=None, description="Set while in the trash.")


class UploadState(StrEnum):
    AUTHORIZED = "authorized"
    """Issued; no byte and no length yet."""
    RECEIVING = "receiving"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


class ConflictPolicy(StrEnum):
    RENAME = "rename"
    """Keep both: the new file becomes `name (1).ext`, `name (2).ext`, ..."""
    FAIL = "fail"
    """Refuse with `den.name_taken`."""


class UploadV1(ContractModel):
    upload_id: SubjectToken
    state: UploadState
    folder_id: SubjectToken | None
    name: str | None
    public: bool
    tags: list[str] = Field(default_factory=list)
    length: int | None = Field(description="Declared total size; None until the client says.")
    offset: int = Field(ge=0, description="Bytes stored so far.")
    max_bytes: int
    expires_at: AwareDatetime
    file_id: SubjectToken | None = None
    failure: str | None = Field(default=None, description="Error code when state is failed.")


class LinkV1(ContractModel):
    link_id: SubjectToken
    file_id: SubjectToken
    url: str
    method: str = "GET"
    expires_at: AwareDatetime
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None = None


class QuotaV1(ContractModel):
    quota_bytes: int
    used_bytes: int = Field(description="Bytes stored, counted once per stored copy.")
    reserved_bytes: int = Field(description="Held for uploads in progress.")
    available_bytes: int


# ----------------------------------------------------------------------------- folders
class CreateFolderV1(ContractModel):
    parent_id: SubjectToken | None = None
    name: Name


class GetFolderV1(ContractModel):
    folder_id: SubjectToken


class RenameFolderV1(ContractModel):
    folder_id: SubjectToken
    name: Name


class MoveFolderV1(ContractModel):
    folder_id: SubjectToken
    parent_id: SubjectToken | None = Field(description="The new parent; None: the root.")


class DeleteFolderV1(ContractModel):
    folder_id: SubjectToken


class FolderDeletedV1(ContractModel):
    folder_id: SubjectToken
    parent_id: SubjectToken | None
    name: str
    deleted_at: AwareDatetime


class ListFolderV1(ContractModel):
    folder_id: SubjectToken | None = Field(default=None, description="None: the root.")
    cursor: Cursor | None = None
    limit: Limit = 100


class FolderListingV1(ContractModel):
    folder: FolderV1 | None = Field(description="The folder listed; None for the root.")
    folders: list[FolderV1]
    files: list[FileV1]
    next_cursor: str | None = Field(description="Pass back for the next page; None at the end.")


class FolderCreatedV1(ContractModel):
    folder: FolderV1


class FolderUpdatedV1(ContractModel):
    folder: FolderV1
    changed: list[str]


# ----------------------------------------------------------------------------- files
class GetFileV1(ContractModel):
    file_id: SubjectToken


class ListFilesV1(ContractModel):
    """Live files across the organisation, by name; optionally by folder, tag or name prefix."""

    folder_id: SubjectToken | None = None
    tag: Tag | None = None
    name_prefix: Annotated[str, StringConstraints(max_length=255)] | None = None
    cursor: Cursor | None = None
    limit: Limit = 100


class FileListingV1(ContractModel):
    files: list[FileV1]
    next_cursor: str | None


class UpdateFileV1(ContractModel):
    """Rename, retag or change visibility; fields left out stay as they are."""

    file_id: SubjectToken
    name: Name | None = None
    tags: Tags | None = None
    public: bool | None = None


class MoveFileV1(ContractModel):
    file_id: SubjectToken
    folder_id: SubjectToken | None = Field(description="The new folder; None: the root.")


class DuplicateFileV1(ContractModel):
    """A new file with the same bytes (stored once, shared)."""

    file_id: SubjectToken
    folder_id: SubjectToken | None = Field(description="Where the copy goes; None: the root.")
    name: Name | None = Field(
        default=None, description="Default: the original's name, made unique in the folder."
    )


class DeleteFileV1(ContractModel):
    """Move to the trash: the file stops being served but can be restored."""

    file_id: SubjectToken


class RestoreFileV1(ContractModel):
    file_id: SubjectToken
    name: Name | None = Field(default=None, description="A new name if the old one is taken.")


class PurgeFileV1(ContractModel):
    """Delete for good (from the trash or not); its bytes go once nothing else shares them."""

    file_id: SubjectToken


class FilePurgedV1(ContractModel):
    file_id: SubjectToken
    folder_id: SubjectToken | None
    name: str
    size: int
    purged_at: AwareDatetime


class ListTrashV1(ContractModel):
    cursor: Cursor | None = None
    limit: Limit = 100


class FileCreatedV1(ContractModel):
    file: FileV1
    upload_id: SubjectToken | None = None
    copied_from: SubjectToken | None = None


class FileUpdatedV1(ContractModel):
    file: FileV1
    changed: list[str]


class FileDeletedV1(ContractModel):
    file: FileV1


class FileRestoredV1(ContractModel):
    file: FileV1


# ----------------------------------------------------------------------------- links
class CreateLinkV1(ContractModel):
    """A signed download URL for one file, valid for GET (and HEAD) until it expires."""

    file_id: SubjectToken
    lifetime_s: Lifetime | None = Field(default=None, description="Default: den's setting.")
    attachment: bool = Field(default=False, description="Ask browsers to save, not display.")


class RevokeLinkV1(ContractModel):
    link_id: SubjectToken


class RevokeFileLinksV1(ContractModel):
    file_id: SubjectToken


class LinksRevokedV1(ContractModel):
    file_id: SubjectToken
    revoked: int = Field(description="How many live links stopped working.")


# ----------------------------------------------------------------------------- uploads
class AuthorizeUploadV1(ContractModel):
    """Permission to upload one file over HTTP; the reply's URLs are signed and expire.

    `create_url` is a tus 1.0 creation endpoint (resumable; `filename` in Upload-Metadata
    names the file when `name` is not given here); `put_url` takes the whole body in one PUT.
    """

    folder_id: SubjectToken | None = None
    name: Name | None = None
    public: bool = False
    tags: Tags = Field(default_factory=list)
    max_bytes: int | None = Field(
        default=None, ge=0, description="Cap below den's own upload limit."
    )
    lifetime_s: Lifetime | None = None
    on_conflict: ConflictPolicy = ConflictPolicy.RENAME


class UploadAuthorizationV1(ContractModel):
    upload: UploadV1
    create_url: str = Field(description="tus creation endpoint (POST).")
    put_url: str = Field(description="Single-request upload (PUT the bytes).")
    expires_at: AwareDatetime


class GetUploadV1(ContractModel):
    upload_id: SubjectToken


class CancelUploadV1(ContractModel):
    upload_id: SubjectToken


# ----------------------------------------------------------------------------- quota
class GetQuotaV1(ContractModel):
    pass


class SetQuotaV1(ContractModel):
    """Only the platform (a system actor) may set an organisation's quota."""

    quota_bytes: int | None = Field(ge=0, description="None: back to den's default.")


__all__ = [
    "AuthorizeUploadV1",
    "CancelUploadV1",
    "ConflictPolicy",
    "CreateFolderV1",
    "CreateLinkV1",
    "DeleteFileV1",
    "DeleteFolderV1",
    "DuplicateFileV1",
    "FileCreatedV1",
    "FileDeletedV1",
    "FileListingV1",
    "FilePurgedV1",
    "FileRestoredV1",
    "FileUpdatedV1",
    "FileV1",
    "FolderCreatedV1",
    "FolderDeletedV1",
    "FolderListingV1",
    "FolderUpdatedV1",
    "FolderV1",
    "GetFileV1",
    "GetFolderV1",
    "GetQuotaV1",
    "GetUploadV1",
    "LinkV1",
    "LinksRevokedV1",
    "ListFilesV1",
    "ListFolderV1",
    "ListTrashV1",
    "MoveFileV1",
    "MoveFolderV1",
    "PurgeFileV1",
    "QuotaV1",
    "RenameFolderV1",
    "RestoreFileV1",
    "RevokeFileLinksV1",
    "RevokeLinkV1",
    "SetQuotaV1",
    "UpdateFileV1",
    "UploadAuthorizationV1",
    "UploadState",
    "UploadV1",
]
