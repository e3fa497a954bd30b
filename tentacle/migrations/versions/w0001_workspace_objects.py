"""workspace objects and per-type JSON Schemas (the workspace branch)

Revision ID: w0001
Revises: 0001
Create Date: 2026-11-21 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "w0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("workspace",)
depends_on: str | Sequence[str] | None = None

SEARCH = "jsonb_to_tsvector('english'::regconfig, data, '[\"string\"]'::jsonb)"


def upgrade() -> None:
    op.create_table(
        "workspace_objects",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "dates",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tags",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "search", postgresql.TSVECTOR(), sa.Computed(SEARCH, persisted=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_workspace_objects"),
    )
    op.create_index(
        "ix_workspace_objects_data",
        "workspace_objects",
        ["data"],
        postgresql_using="gin",
        postgresql_ops={"data": "jsonb_path_ops"},
    )
    op.create_index(
        "ix_workspace_objects_tags", "workspace_objects", ["tags"], postgresql_using="gin"
    )
    op.create_index(
        "ix_workspace_objects_search", "workspace_objects", ["search"], postgresql_using="gin"
    )
    op.create_index(
        "ix_workspace_objects_type_updated",
        "workspace_objects",
        ["org_id", "type", "updated_at", "id"],
    )
    op.create_index(
        "ix_workspace_objects_type_created",
        "workspace_objects",
        ["org_id", "type", "created_at", "id"],
    )
    op.create_index(
        "ix_workspace_objects_updated", "workspace_objects", ["org_id", "updated_at", "id"]
    )
    op.create_table(
        "workspace_object_types",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("json_schema", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("org_id", "type", name="pk_workspace_object_types"),
    )
    enable_tenant_rls("workspace_objects")
    enable_tenant_rls("workspace_object_types")


def downgrade() -> None:
    disable_tenant_rls("workspace_object_types")
    disable_tenant_rls("workspace_objects")
    op.drop_table("workspace_object_types")
    op.drop_index("ix_workspace_objects_updated", table_name="workspace_objects")
    op.drop_index("ix_workspace_objects_type_created", table_name="workspace_objects")
    op.drop_index("ix_workspace_objects_type_updated", table_name="workspace_objects")
    op.drop_index(
        "ix_workspace_objects_search", table_name="workspace_objects", postgresql_using="gin"
    )
    op.drop_index(
        "ix_workspace_objects_tags", table_name="workspace_objects", postgresql_using="gin"
    )
    op.drop_index(
        "ix_workspace_objects_data", table_name="workspace_objects", postgresql_using="gin"
    )
    op.drop_table("workspace_objects")
