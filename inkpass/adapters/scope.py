"""Moving a transaction between row-level-security scopes, deliberately.

`db.transaction(org_id=...)` fixes one organisation. A few person-level operations (revoke every
session, delete an account) must touch the person's rows in each of their organisations within
one transaction; they switch scope explicitly, one organisation at a time, and always through
these helpers, so the switch is visible in review.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.rls import set_org

_ACT_AS = text("select set_config('inkpass.user_id', :user, true)")
_NO_ORG = text("select set_config('fluxos.org_id', '', true)")


async def act_as(session: AsyncSession, user_id: str) -> None:
    """Let this transaction read the person's own memberships in every organisation."""
    await session.execute(_ACT_AS, {"user": user_id})


async def enter_org(session: AsyncSession, org_id: str | None) -> None:
    """Scope the rest of this transaction to `org_id` (None: platform scope, no tenant rows)."""
    if org_id is None:
        await session.execute(_NO_ORG)
    else:
        await set_org(session, org_id)
