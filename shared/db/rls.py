"""Row-level security by organisation, set per transaction.

A tenant table gets ENABLE and FORCE ROW LEVEL SECURITY and one policy comparing its org column
with the transaction's `fluxos.org_id` setting. FORCE matters: the service's role owns its tables
and owners bypass plain RLS. With no org set, `current_setting(..., true)` is NULL (or '' on a
connection that had one earlier), which equals no org id, so platform scope sees no tenant rows.

The policy is permissive; further policies a service adds should be RESTRICTIVE, because
permissive policies are OR-ed together and would widen what a tenant sees.
"""

from __future__ import annotations

from typing import Final

from alembic import op
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from contracts.ids import InvalidToken, validate_token
from shared.db.errors import InvalidOrgId
from shared.db.identifiers import quote_identifier, quote_qualified

ORG_SETTING: Final = "fluxos.org_id"
POLICY_NAME: Final = "fluxos_tenant_isolation"

_SET_ORG: Final = text("select set_config('fluxos.org_id', :org, true)")


def checked_org_id(org_id: str | None) -> str | None:
    if org_id is None:
        return None
    try:
        return validate_token(org_id, name="org_id")
    except InvalidToken as exc:
        raise InvalidOrgId(str(exc)) from None


async def set_org(target: AsyncSession | AsyncConnection, org_id: str) -> None:
    """Scope the current transaction to `org_id` (transaction-local: it ends with it)."""
    await target.execute(_SET_ORG, {"org": checked_org_id(org_id)})


def tenant_rls_statements(
    table: str, *, column: str = "org_id", schema: str | None = None
) -> list[str]:
    """DDL that confines `table` to the transaction's organisation."""
    name = quote_qualified(table, schema)
    col = quote_identifier(column, what="column")
    condition = f"{col} = current_setting('{ORG_SETTING}', true)"
    return [
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {POLICY_NAME} ON {name} AS PERMISSIVE FOR ALL "
        f"USING ({condition}) WITH CHECK ({condition})",
    ]


def drop_tenant_rls_statements(table: str, *, schema: str | None = None) -> list[str]:
    name = quote_qualified(table, schema)
    return [
        f"DROP POLICY IF EXISTS {POLICY_NAME} ON {name}",
        f"ALTER TABLE {name} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {name} DISABLE ROW LEVEL SECURITY",
    ]


def enable_tenant_rls(table: str, *, column: str = "org_id", schema: str | None = None) -> None:
    """In an alembic migration: make `table` a tenant table."""
    for statement in tenant_rls_statements(table, column=column, schema=schema):
        op.execute(statement)


def disable_tenant_rls(table: str, *, schema: str | None = None) -> None:
    """In an alembic migration's downgrade: undo `enable_tenant_rls`."""
    for statement in drop_tenant_rls_statements(table, schema=schema):
        op.execute(statement)
