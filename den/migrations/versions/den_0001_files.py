"""Folders, files, blobs and their parts, uploads, links, usage; the reconciler's sweep list.

Revision ID: den_0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "den_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "den_folders",
    "den_blobs",
    "den_parts",
    "den_files",
    "den_uploads",
    "den_links",
    "den_org_usage",
)


def _stamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "den_folders",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_by_kind", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Text(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.UniqueConstraint("org_id", "id", name="uq_den_folders_org_id"),
        sa.ForeignKeyConstraint(
            ["org_id", "parent_id"],
            ["den_folders.org_id", "den_folders.id"],
            name="fk_den_folders_parent",
        ),
    )
    op.create_index(
        "uq_den_folders_name",
        "den_folders",
        ["org_id", "parent_id", "name"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )

    op.create_table(
        "den_blobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.Text(), nullable=True),
        _stamp("created_at"),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("org_id", "id", name="uq_den_blobs_org_id"),
        sa.CheckConstraint("state in ('writing', 'stored', 'purging')", name="ck_den_blobs_state"),
    )
    op.create_index(
        "ix_den_blobs_purging",
        "den_blobs",
        ["org_id"],
        postgresql_where=sa.text("state = 'purging'"),
    )

    op.create_table(
        "den_parts",
        sa.Column("blob_id", sa.Uuid(), nullable=False),
        sa.Column("part_no", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("nuid", sa.Text(), nullable=False, unique=True),
        sa.Column("byte_offset", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("chunk_bytes", sa.Integer(), nullable=False),
        sa.Column("chunk_seqs", postgresql.ARRAY(sa.BigInteger()), nullable=True),
        sa.Column("sha256", sa.LargeBinary(), nullable=True),
        sa.Column("written", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("blob_id", "part_no", name="pk_den_parts"),
        sa.ForeignKeyConstraint(
            ["org_id", "blob_id"],
            ["den_blobs.org_id", "den_blobs.id"],
            name="fk_den_parts_blob",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "den_files",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("folder_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("blob_id", sa.Uuid(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_by_kind", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Text(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("org_id", "id", name="uq_den_files_org_id"),
        sa.ForeignKeyConstraint(
            ["org_id", "folder_id"],
            ["den_folders.org_id", "den_folders.id"],
            name="fk_den_files_folder",
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "blob_id"],
            ["den_blobs.org_id", "den_blobs.id"],
            name="fk_den_files_blob",
        ),
    )
    # A name is unique among a folder's live files; the trash may hold several.
    op.create_index(
        "uq_den_files_live_name",
        "den_files",
        ["org_id", "folder_id", "name"],
        unique=True,
        postgresql_nulls_not_distinct=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("ix_den_files_name", "den_files", ["org_id", "name", "id"])
    op.create_index(
        "ix_den_files_trash",
        "den_files",
        ["org_id", "deleted_at", "id"],
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )
    op.create_index("ix_den_files_blob", "den_files", ["org_id", "blob_id"])
    op.create_index("ix_den_files_tags", "den_files", ["tags"], postgresql_using="gin")

    op.create_table(
        "den_uploads",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("folder_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
        sa.Column("on_conflict", sa.Text(), nullable=False),
        sa.Column("max_bytes", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=True),
        sa.Column("byte_offset", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("reserved_bytes", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_kind", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Text(), nullable=False),
        _stamp("created_at"),
        _stamp("updated_at"),
        sa.Column("file_id", sa.Uuid(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("org_id", "id", name="uq_den_uploads_org_id"),
        sa.CheckConstraint(
            "state in ('authorized', 'receiving', 'completed', 'cancelled', 'expired', 'failed')",
            name="ck_den_uploads_state",
        ),
    )
    op.create_index(
        "ix_den_uploads_active",
        "den_uploads",
        ["org_id", "expires_at"],
        postgresql_where=sa.text("state in ('authorized', 'receiving')"),
    )

    op.create_table(
        "den_links",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("attachment", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_kind", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Text(), nullable=False),
        _stamp("created_at"),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "file_id"],
            ["den_files.org_id", "den_files.id"],
            name="fk_den_links_file",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_den_links_file", "den_links", ["org_id", "file_id"])
    op.create_index("ix_den_links_expires", "den_links", ["org_id", "expires_at"])

    op.create_table(
        "den_org_usage",
        sa.Column("org_id", sa.Text(), primary_key=True),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
    )

    # Platform scope on purpose (no RLS): which orgs the reconciler must visit, and when.
    op.create_table(
        "den_sweeps",
        sa.Column("org_id", sa.Text(), primary_key=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_den_sweeps_due", "den_sweeps", ["due_at"])

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        disable_tenant_rls(table)
    op.drop_table("den_sweeps")
    op.drop_table("den_org_usage")
    op.drop_table("den_links")
    op.drop_table("den_uploads")
    op.drop_table("den_files")
    op.drop_table("den_parts")
    op.drop_table("den_blobs")
    op.drop_table("den_folders")
