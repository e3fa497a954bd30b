"""The tables of den's own database (alembic autogenerates from this metadata).

Every tenant table has row-level security by `org_id` (see the migration), and references
between tenant tables carry the org in the foreign key, so a row can never point into another
organisation even where a check in code was forgotten (foreign keys bypass RLS, composite keys
do not let them cross orgs). `den_sweeps` alone is platform-scoped: it names the organisations
the reconciler must look at, and holds nothing else.

Bytes: `den_blobs` are stored byte sequences, `den_parts` their Object Store objects. Files
point at blobs; duplicates share one. A blob is `writing` while an upload fills it, `stored`
once complete, `purging` while its objects are being removed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()


def _stamp(name: str) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


folders = Table(
    "den_folders",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("parent_id", Uuid(as_uuid=False)),
    Column("name", Text, nullable=False),
    Column("created_by_kind", Text, nullable=False),
    Column("created_by_id", Text, nullable=False),
    _stamp("created_at"),
    _stamp("updated_at"),
    UniqueConstraint("org_id", "id", name="uq_den_folders_org_id"),
    ForeignKeyConstraint(
        ["org_id", "parent_id"],
        ["den_folders.org_id", "den_folders.id"],
        name="fk_den_folders_parent",
    ),
)
Index(
    "uq_den_folders_name",
    folders.c.org_id,
    folders.c.parent_id,
    folders.c.name,
    unique=True,
    postgresql_nulls_not_distinct=True,
)

blobs = Table(
    "den_blobs",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("size", BigInteger),
    Column("sha256", LargeBinary),
    Column("content_type", Text),
    _stamp("created_at"),
    Column("stored_at", DateTime(timezone=True)),
    UniqueConstraint("org_id", "id", name="uq_den_blobs_org_id"),
    CheckConstraint("state in ('writing', 'stored', 'purging')", name="ck_den_blobs_state"),
)
Index("ix_den_blobs_purging", blobs.c.org_id, postgresql_where=text("state = 'purging'"))

parts = Table(
    "den_parts",
    metadata,
    Column("blob_id", Uuid(as_uuid=False), nullable=False),
    Column("part_no", Integer, nullable=False),
    Column("org_id", Text, nullable=False),
    Column("nuid", Text, nullable=False, unique=True),
    Column("byte_offset", BigInteger, nullable=False),
    Column("size", BigInteger),
    Column("chunk_bytes", Integer, nullable=False),
    Column("chunk_seqs", ARRAY(BigInteger)),
    Column("sha256", LargeBinary),
    Column("written", Boolean, nullable=False, server_default=text("false")),
    _stamp("created_at"),
    PrimaryKeyConstraint("blob_id", "part_no", name="pk_den_parts"),
    ForeignKeyConstraint(
        ["org_id", "blob_id"],
        ["den_blobs.org_id", "den_blobs.id"],
        name="fk_den_parts_blob",
        ondelete="CASCADE",
    ),
)

files = Table(
    "den_files",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("folder_id", Uuid(as_uuid=False)),
    Column("name", Text, nullable=False),
    Column("blob_id", Uuid(as_uuid=False), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", LargeBinary, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("public", Boolean, nullable=False),
    Column("created_by_kind", Text, nullable=False),
    Column("created_by_id", Text, nullable=False),
    _stamp("created_at"),
    _stamp("updated_at"),
    Column("deleted_at", DateTime(timezone=True)),
    UniqueConstraint("org_id", "id", name="uq_den_files_org_id"),
    ForeignKeyConstraint(
        ["org_id", "folder_id"],
        ["den_folders.org_id", "den_folders.id"],
        name="fk_den_files_folder",
    ),
    ForeignKeyConstraint(
        ["org_id", "blob_id"], ["den_blobs.org_id", "den_blobs.id"], name="fk_den_files_blob"
    ),
)
Index(
    "uq_den_files_live_name",
    files.c.org_id,
    files.c.folder_id,
    files.c.name,
    unique=True,
    postgresql_nulls_not_distinct=True,
    postgresql_where=text("deleted_at IS NULL"),
)
Index("ix_den_files_name", files.c.org_id, files.c.name, files.c.id)
Index(
    "ix_den_files_trash",
    files.c.org_id,
    files.c.deleted_at,
    files.c.id,
    postgresql_where=text("deleted_at IS NOT NULL"),
)
Index("ix_den_files_blob", files.c.org_id, files.c.blob_id)
Index("ix_den_files_tags", files.c.tags, postgresql_using="gin")

uploads = Table(
    "den_uploads",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("folder_id", Uuid(as_uuid=False)),
    Column("name", Text),
    Column("public", Boolean, nullable=False),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("on_conflict", Text, nullable=False),
    Column("max_bytes", BigInteger, nullable=False),
    Column("length", BigInteger),
    Column("byte_offset", BigInteger, nullable=False, server_default=text("0")),
    Column("reserved_bytes", BigInteger, nullable=False, server_default=text("0")),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_by_kind", Text, nullable=False),
    Column("created_by_id", Text, nullable=False),
    _stamp("created_at"),
    _stamp("updated_at"),
    Column("file_id", Uuid(as_uuid=False)),
    Column("failure", Text),
    Column("lease_owner", Text),
    Column("lease_until", DateTime(timezone=True)),
    UniqueConstraint("org_id", "id", name="uq_den_uploads_org_id"),
    CheckConstraint(
        "state in ('authorized', 'receiving', 'completed', 'cancelled', 'expired', 'failed')",
        name="ck_den_uploads_state",
    ),
)
Index(
    "ix_den_uploads_active",
    uploads.c.org_id,
    uploads.c.expires_at,
    postgresql_where=text("state in ('authorized', 'receiving')"),
)

links = Table(
    "den_links",
    metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("org_id", Text, nullable=False),
    Column("file_id", Uuid(as_uuid=False), nullable=False),
    Column("attachment", Boolean, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_by_kind", Text, nullable=False),
    Column("created_by_id", Text, nullable=False),
    _stamp("created_at"),
    Column("revoked_at", DateTime(timezone=True)),
    ForeignKeyConstraint(
        ["org_id", "file_id"],
        ["den_files.org_id", "den_files.id"],
        name="fk_den_links_file",
        ondelete="CASCADE",
    ),
)
Index("ix_den_links_file", links.c.org_id, links.c.file_id)
Index("ix_den_links_expires", links.c.org_id, links.c.expires_at)

usage = Table(
    "den_org_usage",
    metadata,
    Column("org_id", Text, primary_key=True),
    Column("used_bytes", BigInteger, nullable=False, server_default=text("0")),
    Column("quota_bytes", BigInteger),
)

sweeps = Table(
    "den_sweeps",
    metadata,
    Column("org_id", Text, primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
)
Index("ix_den_sweeps_due", sweeps.c.due_at)

TENANT_TABLES = (
    "den_folders",
    "den_blobs",
    "den_parts",
    "den_files",
    "den_uploads",
    "den_links",
    "den_org_usage",
)
