"""Authorization: roles, ABAC policies (operators, attribute references, time windows, deny
first), API keys bounded by their creator, trusted attributes only, cache invalidation."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    ActorRefV1,
    ActorType,
    AuthzCheckV1,
    AuthzContextV1,
    AuthzDecisionV1,
    ConditionOp,
    ConditionV1,
    CreateApiKeyV1,
    DeletePolicyV1,
    ListPoliciesV1,
    PolicyEffect,
    PolicySpecV1,
    PolicyV1,
    PutPolicyV1,
    ResourceRefV1,
    SetMemberAttributesV1,
    SetMemberRoleV1,
    TimeWindowV1,
)
from contracts.inkpass.types import Role
from shared.auth import AuthzClient
from shared.bus import Bus
from shared.service import ServiceApp
from tests.inkpass.conftest import (
    Account,
    Db,
    Mailbox,
    join_as,
    new_account,
    raw_request,
    remote_error,
    snapshot,
)
from tests.shared.bus.conftest import eventually


def _request(
    org_id: str,
    actor_id: str,
    action: str,
    rtype: str = "file",
    attributes: dict[str, Any] | None = None,
    *,
    actor_type: ActorType = ActorType.USER,
    source_ip: str | None = None,
) -> AuthzCheckV1:
    return AuthzCheckV1(
        org_id=org_id,
        actor=ActorRefV1(type=actor_type, id=actor_id),
        action=action,
        resource=ResourceRefV1(type=rtype, id="r-1", attributes=attributes or {}),
        context=AuthzContextV1(source_ip=source_ip),
    )


async def _check(bus: Bus, request: AuthzCheckV1) -> AuthzDecisionV1:
    return await bus.request(s.AUTHZ_CHECK, request)


async def _allowed(bus: Bus, *args: Any, **kwargs: Any) -> bool:
    return (await _check(bus, _request(*args, **kwargs))).allowed


async def _put(
    bus: Bus, admin: Account, spec: PolicySpecV1, policy_id: str | None = None
) -> PolicyV1:
    return await bus.request(
        s.PUT_POLICY, PutPolicyV1(access_token=admin.access, spec=spec, policy_id=policy_id)
    )


async def test_roles_decide_when_no_policy_applies(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    dev = await join_as(bus, mailbox, owner, "developer", "dev")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    stranger = await new_account(bus, mailbox, "stranger")
    org = owner.org_id
    expected = {
        (viewer.user_id, "den.file.read"): True,
        (viewer.user_id, "den.file.delete"): False,
        (dev.user_id, "den.file.delete"): True,
        (dev.user_id, "inkpass.member.invite"): False,
        (owner.user_id, "inkpass.org.delete"): True,
    }
    for (who, action), allowed in expected.items():
        decision = await _check(bus, _request(org, who, action))
        assert decision.allowed is allowed, (who, action, decision)
    outsider = await _check(bus, _request(org, stranger.user_id, "den.file.read"))
    assert not outsider.allowed
    assert outsider.reason == "not_a_member"
    viewer_read = await _check(bus, _request(org, viewer.user_id, "den.file.read"))
    assert viewer_read.reason == "role:viewer"
    assert viewer_read.cache_ttl_s > 0


async def test_policies_extend_and_restrict_roles(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    org = owner.org_id
    # Viewers may update the files they own (an attribute reference, not a constant).
    own = await _put(
        bus,
        owner,
        PolicySpecV1(
            name="owners edit",
            effect=PolicyEffect.ALLOW,
            actions=["den.file.update"],
            resource_types=["file"],
            conditions=[
                ConditionV1(
                    attribute="resource.attributes.owner_id",
                    op=ConditionOp.EQ,
                    value_from="actor.user_id",
                )
            ],
        ),
    )
    mine = {"owner_id": viewer.user_id}
    assert await _allowed(bus, org, viewer.user_id, "den.file.update", "file", mine)
    assert not await _allowed(
        bus, org, viewer.user_id, "den.file.update", "file", {"owner_id": "x"}
    )
    assert not await _allowed(bus, org, viewer.user_id, "den.file.update", "folder", mine)
    # Deny beats every role: nothing under legal hold is deleted, not even by the owner.
    hold = await _put(
        bus,
        owner,
        PolicySpecV1(
            name="legal hold",
            effect=PolicyEffect.DENY,
            actions=["den.*"],
            conditions=[
                ConditionV1(
                    attribute="resource.attributes.path", op=ConditionOp.PREFIX, value="/legal/"
                ),
                ConditionV1(attribute="resource.attributes.size", op=ConditionOp.GTE, value=0),
            ],
        ),
    )
    decision = await _check(
        bus,
        _request(
            org, owner.user_id, "den.file.delete", "file", {"path": "/legal/a.pdf", "size": 3}
        ),
    )
    assert not decision.allowed
    assert decision.reason == f"policy:{hold.policy_id}"
    assert decision.policy_id == hold.policy_id
    assert await _allowed(
        bus, org, owner.user_id, "den.file.delete", "file", {"path": "/tmp/a", "size": 3}
    )
    listed = await bus.request(s.LIST_POLICIES, ListPoliciesV1(access_token=owner.access))
    assert {p.policy_id for p in listed.policies} == {own.policy_id, hold.policy_id}
    await bus.request(
        s.DELETE_POLICY, DeletePolicyV1(access_token=owner.access, policy_id=hold.policy_id)
    )
    assert await _allowed(
        bus, org, owner.user_id, "den.file.delete", "file", {"path": "/legal/a.pdf", "size": 3}
    )


async def test_actor_attributes_come_only_from_inkpass(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    org = owner.org_id
    await _put(
        bus,
        owner,
        PolicySpecV1(
            name="legal reads contracts",
            effect=PolicyEffect.ALLOW,
            actions=["den.file.export"],
            conditions=[
                ConditionV1(
                    attribute="actor.attributes.department",
                    op=ConditionOp.IN,
                    value=["legal", "exec"],
                ),
                ConditionV1(
                    attribute="context.source_ip", op=ConditionOp.IN_CIDR, value="10.0.0.0/8"
                ),
            ],
        ),
    )
    # A caller cannot smuggle actor attributes in: the request has no place for them...
    request = _request(org, viewer.user_id, "den.file.export", source_ip="10.1.2.3")
    before = await snapshot(db)
    reply = await raw_request(
        bus,
        s.AUTHZ_CHECK,
        request,
        actor={"type": "user", "id": viewer.user_id, "attributes": {"department": "legal"}},
    )
    assert reply["error"]["code"] == "bus.invalid_payload"
    assert await snapshot(db) == before
    # ...and resource attributes of the same name are not actor attributes.
    spoof = _request(
        org,
        viewer.user_id,
        "den.file.export",
        "file",
        {"department": "legal"},
        source_ip="10.1.2.3",
    )
    assert not (await _check(bus, spoof)).allowed
    # Set by an admin, the attribute counts (from the right network only).
    await bus.request(
        s.SET_MEMBER_ATTRIBUTES,
        SetMemberAttributesV1(
            access_token=owner.access, user_id=viewer.user_id, attributes={"department": "legal"}
        ),
    )
    decision = await _check(bus, request)
    assert decision.allowed
    assert decision.cache_ttl_s == 0  # it depended on the request's context
    assert not await _allowed(bus, org, viewer.user_id, "den.file.export", source_ip="192.0.2.1")


async def test_time_windows(inkpass: ServiceApp, bus: Bus, mailbox: Mailbox) -> None:
    owner = await new_account(bus, mailbox, "owner")
    dev = await join_as(bus, mailbox, owner, "developer", "dev")
    now = datetime.now(UTC)
    later = (now + timedelta(hours=3)).time()
    much_later = (now + timedelta(hours=4)).time()

    def window(start: time, end: time) -> TimeWindowV1:
        return TimeWindowV1(timezone="UTC", start=start, end=end)

    spec = PolicySpecV1(
        name="no deploys at night",
        effect=PolicyEffect.DENY,
        actions=["tentacle.deploy.run"],
        time_windows=[window(later, much_later)],
    )
    policy = await _put(bus, owner, spec)
    decision = await _check(bus, _request(owner.org_id, dev.user_id, "tentacle.deploy.run"))
    assert decision.allowed  # outside the window: the deny does not apply
    assert decision.cache_ttl_s == 0  # but the answer will change with the time
    around_now = (now - timedelta(minutes=5)).time(), (now + timedelta(minutes=5)).time()
    await _put(
        bus,
        owner,
        spec.model_copy(update={"time_windows": [window(*around_now)]}),
        policy_id=policy.policy_id,
    )
    assert not await _allowed(bus, owner.org_id, dev.user_id, "tentacle.deploy.run")


async def test_api_keys_act_within_their_scopes_and_their_creators_role(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    dev = await join_as(bus, mailbox, owner, "developer", "dev")
    created = await bus.request(
        s.CREATE_API_KEY,
        CreateApiKeyV1(
            access_token=dev.access, name="ci", scopes=["den.file.read", "den.file.delete"]
        ),
    )
    key_id = created.key.key_id
    org = owner.org_id

    async def key_may(action: str) -> bool:
        return await _allowed(bus, org, key_id, action, actor_type=ActorType.API_KEY)

    assert await key_may("den.file.delete")
    assert not await key_may("den.folder.delete")  # outside its scopes
    # Its creator is demoted: the key can do no more than a viewer now.
    await bus.request(
        s.SET_MEMBER_ROLE,
        SetMemberRoleV1(access_token=owner.access, user_id=dev.user_id, role=Role.VIEWER),
    )
    assert not await key_may("den.file.delete")
    assert await key_may("den.file.read")
    # Another org cannot use it.
    other = await new_account(bus, mailbox, "other")
    assert not await _allowed(
        bus, other.org_id, key_id, "den.file.read", actor_type=ActorType.API_KEY
    )


async def test_cached_decisions_are_dropped_when_the_org_changes(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    client = AuthzClient(bus)
    await client.start()
    try:
        request = _request(owner.org_id, viewer.user_id, "den.file.read")
        assert (await client.check(request)).allowed
        assert (await client.check(request)).allowed
        assert (client.hits, client.misses) == (1, 1)
        await _put(
            bus,
            owner,
            PolicySpecV1(name="lockdown", effect=PolicyEffect.DENY, actions=["den.*"]),
        )

        async def sees_the_change() -> bool:
            return not (await client.check(request)).allowed

        await eventually(sees_the_change, timeout=5)
    finally:
        await client.stop()


async def test_policies_are_validated_and_guarded(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    other = await new_account(bus, mailbox, "other")
    spec = PolicySpecV1(name="p", effect=PolicyEffect.ALLOW, actions=["den.file.read"])
    theirs = await _put(bus, other, spec)
    before = await snapshot(db)
    err = await remote_error(_put(bus, viewer, spec))
    assert err.code == "inkpass.forbidden"
    err = await remote_error(_put(bus, owner, spec, policy_id=theirs.policy_id))
    assert err.code == "inkpass.not_found"
    err = await remote_error(
        bus.request(
            s.DELETE_POLICY, DeletePolicyV1(access_token=owner.access, policy_id=theirs.policy_id)
        )
    )
    assert err.code == "inkpass.not_found"
    bad_specs: list[dict[str, Any]] = [
        {"conditions": [{"attribute": "actor.x", "op": "eq", "value": 1, "value_from": "actor.y"}]},
        {"conditions": [{"attribute": "nowhere.x", "op": "eq", "value": 1}]},
        {"time_windows": [{"timezone": "Mars/Olympus_Mons"}]},
        {"actions": ["den..read"]},
        {"effect": "maybe"},
    ]
    for bad in bad_specs:
        reply = await raw_request(
            bus,
            s.PUT_POLICY,
            PutPolicyV1(access_token=owner.access, spec=spec),
            spec={**spec.model_dump(mode="json"), **bad},
        )
        assert reply["error"]["code"] == "bus.invalid_payload", bad
    assert await snapshot(db) == before
