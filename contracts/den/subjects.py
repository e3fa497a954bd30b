"""Den's subjects: requests for metadata, folders, links and uploads; events for changes.

Requests are `den.v1.rpc.<noun>.<verb>` (core NATS, one reply); events are
`den.v1.evt.<noun>.{org_id}.<past verb>` on the DEN_EVENTS stream, published after the change
commits (transactional outbox).
"""

from __future__ import annotations

from contracts.den.models import (
    AuthorizeUploadV1,
    CancelUploadV1,
    CreateFolderV1,
    CreateLinkV1,
    DeleteFileV1,
    DeleteFolderV1,
    DuplicateFileV1,
    FileCreatedV1,
    FileDeletedV1,
    FileListingV1,
    FilePurgedV1,
    FileRestoredV1,
    FileUpdatedV1,
    FileV1,
    FolderCreatedV1,
    FolderDeletedV1,
    FolderListingV1,
    FolderUpdatedV1,
    FolderV1,
    GetFileV1,
    GetFolderV1,
    GetQuotaV1,
    GetUploadV1,
    LinksRevokedV1,
    LinkV1,
    ListFilesV1,
    ListFolderV1,
    ListTrashV1,
    MoveFileV1,
    MoveFolderV1,
    PurgeFileV1,
    QuotaV1,
    RenameFolderV1,
    RestoreFileV1,
    RevokeFileLinksV1,
    RevokeLinkV1,
    SetQuotaV1,
    UpdateFileV1,
    UploadAuthorizationV1,
    UploadV1,
)
from contracts.subject import Subject, event, rpc

SERVICE = "den"

# ----------------------------------------------------------------------------- folders
FOLDER_CREATE: Subject[CreateFolderV1, FolderV1] = rpc(
    SERVICE, "folder", "create", CreateFolderV1, FolderV1, summary="Create a folder."
)
FOLDER_GET: Subject[GetFolderV1, FolderV1] = rpc(
    SERVICE, "folder", "get", GetFolderV1, FolderV1, summary="One folder's metadata."
)
FOLDER_RENAME: Subject[RenameFolderV1, FolderV1] = rpc(
    SERVICE, "folder", "rename", RenameFolderV1, FolderV1, summary="Rename a folder."
)
FOLDER_MOVE: Subject[MoveFolderV1, FolderV1] = rpc(
    SERVICE,
    "folder",
    "move",
    MoveFolderV1,
    FolderV1,
    summary="Move a folder under another (never into itself or a descendant).",
)
FOLDER_DELETE: Subject[DeleteFolderV1, FolderDeletedV1] = rpc(
    SERVICE,
    "folder",
    "delete",
    DeleteFolderV1,
    FolderDeletedV1,
    summary="Delete an empty folder (no live files, subfolders or uploads in progress).",
)
FOLDER_LIST: Subject[ListFolderV1, FolderListingV1] = rpc(
    SERVICE,
    "folder",
    "list",
    ListFolderV1,
    FolderListingV1,
    summary="A folder's subfolders then files, by name, a page at a time (cursor).",
)

# ----------------------------------------------------------------------------- files
FILE_GET: Subject[GetFileV1, FileV1] = rpc(
    SERVICE, "file", "get", GetFileV1, FileV1, summary="One file's metadata (trashed too)."
)
FILE_LIST: Subject[ListFilesV1, FileListingV1] = rpc(
    SERVICE,
    "file",
    "list",
    ListFilesV1,
    FileListingV1,
    summary="Live files by name, filtered by folder, tag or name prefix (cursor).",
)
FILE_UPDATE: Subject[UpdateFileV1, FileV1] = rpc(
    SERVICE, "file", "update", UpdateFileV1, FileV1, summary="Rename, retag, publish/unpublish."
)
FILE_MOVE: Subject[MoveFileV1, FileV1] = rpc(
    SERVICE, "file", "move", MoveFileV1, FileV1, summary="Move a file to another folder."
)
FILE_DUPLICATE: Subject[DuplicateFileV1, FileV1] = rpc(
    SERVICE,
    "file",
    "duplicate",
    DuplicateFileV1,
    FileV1,
    summary="Copy a file; the bytes are shared, not stored twice.",
)
FILE_DELETE: Subject[DeleteFileV1, FileV1] = rpc(
    SERVICE, "file", "delete", DeleteFileV1, FileV1, summary="Move a file to the trash."
)
FILE_RESTORE: Subject[RestoreFileV1, FileV1] = rpc(
    SERVICE, "file", "restore", RestoreFileV1, FileV1, summary="Bring a file back from the trash."
)
FILE_PURGE: Subject[PurgeFileV1, FilePurgedV1] = rpc(
    SERVICE, "file", "purge", PurgeFileV1, FilePurgedV1, summary="Delete a file for good."
)
TRASH_LIST: Subject[ListTrashV1, FileListingV1] = rpc(
    SERVICE,
    "trash",
    "list",
    ListTrashV1,
    FileListingV1,
    summary="Files in the trash, most recently deleted first (cursor).",
)

# ----------------------------------------------------------------------------- links
LINK_CREATE: Subject[CreateLinkV1, LinkV1] = rpc(
    SERVICE,
    "link",
    "create",
    CreateLinkV1,
    LinkV1,
    summary="A signed, expiring, revocable download URL for a file.",
)
LINK_REVOKE: Subject[RevokeLinkV1, LinkV1] = rpc(
    SERVICE, "link", "revoke", RevokeLinkV1, LinkV1, summary="Stop one signed URL working."
)
LINK_REVOKE_ALL: Subject[RevokeFileLinksV1, LinksRevokedV1] = rpc(
    SERVICE,
    "link",
    "revoke_all",
    RevokeFileLinksV1,
    LinksRevokedV1,
    summary="Stop every signed URL of a file working.",
)

# ----------------------------------------------------------------------------- uploads
UPLOAD_AUTHORIZE: Subject[AuthorizeUploadV1, UploadAuthorizationV1] = rpc(
    SERVICE,
    "upload",
    "authorize",
    AuthorizeUploadV1,
    UploadAuthorizationV1,
    summary="Signed URLs to upload one file over HTTP (tus 1.0 resumable, or one PUT).",
)
UPLOAD_GET: Subject[GetUploadV1, UploadV1] = rpc(
    SERVICE, "upload", "get", GetUploadV1, UploadV1, summary="Progress and outcome of an upload."
)
UPLOAD_CANCEL: Subject[CancelUploadV1, UploadV1] = rpc(
    SERVICE,
    "upload",
    "cancel",
    CancelUploadV1,
    UploadV1,
    summary="Abandon an upload; its stored bytes are removed.",
)

# ----------------------------------------------------------------------------- quota
QUOTA_GET: Subject[GetQuotaV1, QuotaV1] = rpc(
    SERVICE, "quota", "get", GetQuotaV1, QuotaV1, summary="The organisation's quota and usage."
)
QUOTA_SET: Subject[SetQuotaV1, QuotaV1] = rpc(
    SERVICE,
    "quota",
    "set",
    SetQuotaV1,
    QuotaV1,
    summary="Set an organisation's quota (platform actors only).",
)

# ----------------------------------------------------------------------------- events
FILE_CREATED: Subject[FileCreatedV1, None] = event(
    SERVICE, "file", "created", FileCreatedV1, summary="A file finished uploading or was copied."
)
FILE_UPDATED: Subject[FileUpdatedV1, None] = event(
    SERVICE,
    "file",
    "updated",
    FileUpdatedV1,
    summary="A file was renamed, moved, retagged or published/unpublished.",
)
FILE_DELETED: Subject[FileDeletedV1, None] = event(
    SERVICE, "file", "deleted", FileDeletedV1, summary="A file went to the trash."
)
FILE_RESTORED: Subject[FileRestoredV1, None] = event(
    SERVICE, "file", "restored", FileRestoredV1, summary="A file came back from the trash."
)
FILE_PURGED: Subject[FilePurgedV1, None] = event(
    SERVICE, "file", "purged", FilePurgedV1, summary="A file was deleted for good."
)
FOLDER_CREATED: Subject[FolderCreatedV1, None] = event(
    SERVICE, "folder", "created", FolderCreatedV1, summary="A folder was created."
)
FOLDER_UPDATED: Subject[FolderUpdatedV1, None] = event(
    SERVICE, "folder", "updated", FolderUpdatedV1, summary="A folder was renamed or moved."
)
FOLDER_DELETED: Subject[FolderDeletedV1, None] = event(
    SERVICE, "folder", "deleted", FolderDeletedV1, summary="A folder was deleted."
)

REQUESTS = (
    FOLDER_CREATE,
    FOLDER_GET,
    FOLDER_RENAME,
    FOLDER_MOVE,
    FOLDER_DELETE,
    FOLDER_LIST,
    FILE_GET,
    FILE_LIST,
    FILE_UPDATE,
    FILE_MOVE,
    FILE_DUPLICATE,
    FILE_DELETE,
    FILE_RESTORE,
    FILE_PURGE,
    TRASH_LIST,
    LINK_CREATE,
    LINK_REVOKE,
    LINK_REVOKE_ALL,
    UPLOAD_AUTHORIZE,
    UPLOAD_GET,
    UPLOAD_CANCEL,
    QUOTA_GET,
    QUOTA_SET,
)
EVENTS = (
    FILE_CREATED,
    FILE_UPDATED,
    FILE_DELETED,
    FILE_RESTORED,
    FILE_PURGED,
    FOLDER_CREATED,
    FOLDER_UPDATED,
    FOLDER_DELETED,
)
