"""May this actor do this action on this resource, now? The request every service asks.

The actor is only a reference; its attributes are inkpass's own (role, trusted membership
attributes, key scopes). The resource's attributes come from the service that owns it; the time
is inkpass's. Decisions that depended on the time or the request context are not cacheable.
"""

from __future__ import annotations

from typing import Any

from contracts.inkpass.models import ActorType, AuthzCheckV1, AuthzDecisionV1
from inkpass.service.authorization import decide, key_principal, org_policies, user_principal
from inkpass.service.deps import Deps
from inkpass.service.throttling import normalised_ip
from inkpass.service.tx import transaction


async def check_authz(deps: Deps, request: AuthzCheckV1) -> AuthzDecisionV1:
    async with transaction(deps, request.org_id) as tx:
        if request.actor.type is ActorType.USER:
            principal = await user_principal(deps, tx.session, request.org_id, request.actor.id)
        else:
            principal = await key_principal(deps, tx.session, request.org_id, request.actor.id)
        if principal is None:
            epoch = (await org_policies(deps, tx.session, request.org_id)).epoch
            return AuthzDecisionV1(
                allowed=False,
                reason="not_a_member",
                epoch=epoch,
                cache_ttl_s=deps.settings.authz_decision_ttl_s,
            )
        resource: dict[str, Any] = {
            "type": request.resource.type,
            "id": request.resource.id,
            "attributes": dict(request.resource.attributes),
        }
        context: dict[str, Any] = {}
        ip = normalised_ip(request.context.source_ip)
        if ip is not None:
            context["source_ip"] = ip
        decision, epoch = await decide(
            deps, tx.session, request.org_id, principal, request.action, resource, context
        )
    return AuthzDecisionV1(
        allowed=decision.allowed,
        reason=decision.reason,
        policy_id=decision.policy_id,
        epoch=epoch,
        cache_ttl_s=0 if decision.time_dependent else deps.settings.authz_decision_ttl_s,
    )
