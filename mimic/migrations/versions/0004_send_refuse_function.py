"""mimic_refuse(reason): raises, so one autocommit statement can undo all it wrote.

The send path records a first delivery, journals its call and charges its rate limits in one
statement; when a limit turns out full, the statement calls this to fail as a whole (charges
of the limits that had room included), instead of needing BEGIN and ROLLBACK round trips.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # VOLATILE (the default): never folded or run ahead of the CASE that guards it.
    op.execute(
        "CREATE FUNCTION mimic_refuse(reason text) RETURNS boolean LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = reason; END $$"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION mimic_refuse(text)")
