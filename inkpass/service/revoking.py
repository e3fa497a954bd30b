"""Ending sessions: rows marked, one event per org, and this process's cache after commit.

The event (`SessionsRevokedV1`) goes through the outbox and is published right after the commit;
every local verifier, in every process, refuses the sessions' tokens as soon as it arrives.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial

from contracts.inkpass.models import RevocationReason, SessionsRevokedV1
from contracts.inkpass.subjects import SESSIONS_REVOKED
from inkpass.adapters import members, sessions
from inkpass.adapters.scope import act_as, enter_org
from inkpass.adapters.sessions import Ended
from inkpass.service.deps import Deps
from inkpass.service.tx import Tx

# Slack on top of each token's own expiry: verifiers accept tokens within their leeway.
_MARGIN = timedelta(seconds=30)


def announce(
    tx: Tx, deps: Deps, user_id: str, ended: list[Ended], reason: RevocationReason
) -> None:
    by_org: dict[str, list[Ended]] = defaultdict(list)
    for item in ended:
        by_org[item.org_id].append(item)
    cache = deps.verifier.cache
    for org_id, items in by_org.items():
        until: datetime = max(i.tokens_expire_by for i in items) + _MARGIN
        ids = [i.session_id for i in items]
        payload = SessionsRevokedV1(
            org_id=org_id, user_id=user_id, session_ids=ids, reason=reason, tokens_expire_by=until
        )
        tx.publish(deps.bus.message(SESSIONS_REVOKED, payload, org_id=org_id))
        tx.after_commit(partial(cache.revoke, ids, until.timestamp()))


async def end_session(
    tx: Tx, deps: Deps, user_id: str, session_id: str, reason: RevocationReason
) -> list[Ended]:
    ended = await sessions.revoke(tx.session, reason=reason.value, session_id=session_id)
    announce(tx, deps, user_id, ended, reason)
    return ended


async def end_in_org(
    tx: Tx, deps: Deps, user_id: str, reason: RevocationReason, *, except_id: str | None = None
) -> list[Ended]:
    """Every live session of the user in the transaction's org."""
    ended = await sessions.revoke(
        tx.session, reason=reason.value, user_id=user_id, except_id=except_id
    )
    announce(tx, deps, user_id, ended, reason)
    return ended


async def end_everywhere(
    tx: Tx, deps: Deps, user_id: str, reason: RevocationReason, *, except_id: str | None = None
) -> list[Ended]:
    """Every live session of the user in every org they belong to, in this one transaction."""
    home = tx.org_id
    await act_as(tx.session, user_id)
    orgs = [m.org_id for m in await members.of_user(tx.session, user_id)]
    ended: list[Ended] = []
    try:
        for org_id in orgs:
            await enter_org(tx.session, org_id)
            ended += await sessions.revoke(
                tx.session, reason=reason.value, user_id=user_id, except_id=except_id
            )
    finally:
        await enter_org(tx.session, home)
    announce(tx, deps, user_id, ended, reason)
    return ended
