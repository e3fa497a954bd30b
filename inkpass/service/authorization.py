"""Building what a decision needs (principal, policies) and deciding, with caches.

Used by the `authz.check` request that every service asks, and by inkpass's own administrative
requests, so both follow the same rules: roles, scopes, then ABAC policies with deny first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.inkpass.types import Role
from inkpass.adapters import apikeys, factors, members, orgs, policies, users
from inkpass.domain.errors import forbidden
from inkpass.domain.policy import Decision, Policy, Principal, evaluate
from inkpass.service.caches import KnownPrincipal, OrgPolicies
from inkpass.service.deps import Deps


async def org_policies(deps: Deps, session: AsyncSession, org_id: str) -> OrgPolicies:
    cached = deps.authz.policies(org_id)
    if cached is not None:
        return cached
    generation = deps.authz.generation
    org = await orgs.get(session, org_id)
    stored = await policies.in_org(session, org_id)
    value = OrgPolicies(
        epoch=org.authz_epoch if org is not None else 0,
        policies=[Policy(p.id, p.spec) for p in stored],
    )
    deps.authz.put_policies(org_id, value, generation)
    return value


async def user_principal(
    deps: Deps, session: AsyncSession, org_id: str, user_id: str
) -> Principal | None:
    """The member as inkpass knows them, or None (not a member, or not an active account)."""
    cached = deps.authz.principal(org_id, "user", user_id)
    if cached is not None:
        return cached.principal
    generation = deps.authz.generation
    membership = await members.get(session, org_id, user_id)
    user = await users.by_id(session, user_id) if membership is not None else None
    principal = None
    if membership is not None and user is not None and user.active:
        principal = Principal(
            user_id=user_id,
            roles=(membership.role,),
            attributes=membership.attributes,
            email_verified=user.email_verified,
            mfa_enrolled=await factors.is_enabled(session, user_id),
        )
    deps.authz.put_principal(org_id, "user", user_id, KnownPrincipal(principal), generation)
    return principal


async def key_principal(
    deps: Deps, session: AsyncSession, org_id: str, key_id: str
) -> Principal | None:
    """The key with its creator's current role; None if unusable or its creator is gone."""
    cached = deps.authz.principal(org_id, "api_key", key_id)
    if cached is not None:
        return cached.principal
    generation = deps.authz.generation
    key = await apikeys.by_id(session, key_id)
    principal = None
    if key is not None and key.org_id == org_id and key.usable(deps.now()):
        creator = await user_principal(deps, session, org_id, key.created_by)
        if creator is not None:
            principal = Principal(
                user_id=key.created_by,
                roles=creator.roles,
                attributes=creator.attributes,
                api_key_id=key.id,
                scopes=key.scopes,
                email_verified=creator.email_verified,
                mfa_enrolled=creator.mfa_enrolled,
            )
    deps.authz.put_principal(org_id, "api_key", key_id, KnownPrincipal(principal), generation)
    return principal


async def decide(
    deps: Deps,
    session: AsyncSession,
    org_id: str,
    principal: Principal,
    action: str,
    resource: dict[str, Any],
    context: dict[str, Any],
) -> tuple[Decision, int]:
    loaded = await org_policies(deps, session, org_id)
    decision = evaluate(principal, action, resource, context, loaded.policies, deps.now())
    return decision, loaded.epoch


async def require(
    deps: Deps,
    session: AsyncSession,
    *,
    org_id: str,
    user_id: str,
    role: Role,
    mfa: bool,
    action: str,
    resource: dict[str, Any] | None = None,
) -> Principal:
    """Raise `forbidden` unless the signed-in member may do `action` in their org."""
    principal = await user_principal(deps, session, org_id, user_id)
    if principal is None:
        raise forbidden("not a member of this organisation")
    # The session's own facts win over the cache: its role was read with the session just now.
    principal = Principal(
        user_id=user_id,
        roles=(role,),
        attributes=principal.attributes,
        email_verified=principal.email_verified,
        mfa_enrolled=principal.mfa_enrolled,
        mfa=mfa,
    )
    target = resource or {"type": "org", "id": org_id, "attributes": {}}
    decision, _ = await decide(deps, session, org_id, principal, action, target, {})
    if not decision.allowed:
        raise forbidden(f"{action} is not allowed ({decision.reason})")
    return principal
