"""schedules may follow their org's time zone, kept from inkpass's settings events

Revision ID: t0005
Revises: t0004
Create Date: 2026-11-21 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "t0005"
down_revision: str | None = "t0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_zones",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("org_id", name="pk_org_zones"),
    )
    enable_tenant_rls("org_zones")
    op.add_column(
        "schedules",
        sa.Column(
            "follows_org_zone", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.create_index(
        "ix_schedules_follows_org_zone",
        "schedules",
        ["org_id"],
        postgresql_where=sa.text("follows_org_zone"),
    )


def downgrade() -> None:
    op.drop_index("ix_schedules_follows_org_zone", table_name="schedules")
    op.drop_column("schedules", "follows_org_zone")
    disable_tenant_rls("org_zones")
    op.drop_table("org_zones")
