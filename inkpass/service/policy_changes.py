"""What follows a policy change: a new epoch, an event for every cache, an audit record."""

from __future__ import annotations

from contracts.inkpass.models import AuthzChangedV1, PolicyV1
from contracts.inkpass.subjects import AUTHZ_CHANGED
from inkpass.adapters import orgs
from inkpass.adapters.policies import StoredPolicy
from inkpass.service.deps import Deps
from inkpass.service.tx import Tx


async def announce(tx: Tx, deps: Deps, org_id: str, reason: str) -> None:
    epoch = await orgs.bump_epoch(tx.session, org_id)
    tx.publish(
        deps.bus.message(
            AUTHZ_CHANGED, AuthzChangedV1(org_id=org_id, epoch=epoch, reason=reason), org_id=org_id
        )
    )
    tx.after_commit(lambda: deps.authz.drop_org(org_id))


def view(policy: StoredPolicy) -> PolicyV1:
    return PolicyV1(
        policy_id=policy.id,
        org_id=policy.org_id,
        version=policy.version,
        spec=policy.spec,
        updated_at=policy.updated_at,
    )
