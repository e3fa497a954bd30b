"""Organisations and members: invitations by email, roles, last owner, removal, tenancy."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from pydantic import SecretStr

from contracts.inkpass import subjects as s
from contracts.inkpass.models import (
    AcceptInvitationV1,
    InviteMemberV1,
    ListMembersV1,
    ListOrgsV1,
    RemoveMemberV1,
    SetMemberAttributesV1,
    SetMemberRoleV1,
    VerifyTokenV1,
)
from contracts.inkpass.types import Role
from shared.bus import Bus
from shared.service import ServiceApp
from tests.inkpass.conftest import (
    Db,
    Mailbox,
    join_as,
    new_account,
    remote_error,
    snapshot,
    tokens,
)


async def test_invite_accept_and_list(inkpass: ServiceApp, bus: Bus, mailbox: Mailbox) -> None:
    owner = await new_account(bus, mailbox, "owner")
    dev = await join_as(bus, mailbox, owner, "developer", "dev")
    assert dev.tokens.org_id == owner.org_id
    assert [r.value for r in dev.tokens.roles] == ["developer"]
    members = await bus.request(s.LIST_MEMBERS, ListMembersV1(access_token=owner.access))
    assert {(m.email, m.role.value) for m in members.members} == {
        (owner.email, "owner"),
        (dev.email, "developer"),
    }
    orgs = await bus.request(s.LIST_ORGS, ListOrgsV1(access_token=dev.access))
    assert len(orgs.orgs) == 2  # their own, and the one they joined


async def test_an_invitation_is_for_its_address_only_and_once(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    invited = await new_account(bus, mailbox, "invited")
    mallory = await new_account(bus, mailbox, "mallory")
    invitation = await bus.request(
        s.INVITE_MEMBER,
        InviteMemberV1(access_token=owner.access, email=invited.email, role=Role.ADMIN),
    )
    mail = await mailbox.wait_for(invited.email, "invitation")
    accept_url = urlparse(str(mail.variables["accept_url"]))
    assert f"{accept_url.scheme}://{accept_url.netloc}{accept_url.path}" == (
        "http://localhost:8080/invitations/accept"
    )
    link = parse_qs(accept_url.query)
    assert link["org_id"] == [owner.org_id]
    assert link["invitation_id"] == [invitation.invitation_id]
    token = link["token"][0]

    def accept(who: SecretStr, org_id: str, secret: str) -> AcceptInvitationV1:
        return AcceptInvitationV1(
            access_token=who,
            org_id=org_id,
            invitation_id=invitation.invitation_id,
            token=SecretStr(secret),
        )

    before = await snapshot(db)
    for attempt in (
        accept(mallory.access, owner.org_id, token),  # someone else's invitation
        accept(invited.access, owner.org_id, token[:-2] + "xx"),  # wrong token
        accept(invited.access, mallory.org_id, token),  # another org's id
    ):
        err = await remote_error(bus.request(s.ACCEPT_INVITATION, attempt))
        assert err.code == "inkpass.invitation_invalid"
    assert await snapshot(db) == before
    joined = await bus.request(s.ACCEPT_INVITATION, accept(invited.access, owner.org_id, token))
    assert joined.role is Role.ADMIN
    err = await remote_error(
        bus.request(s.ACCEPT_INVITATION, accept(invited.access, owner.org_id, token))
    )
    assert err.code == "inkpass.invitation_invalid"


async def test_roles_limit_who_may_invite_and_promote(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    admin = await join_as(bus, mailbox, owner, "admin", "admin")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    before = await snapshot(db)
    err = await remote_error(
        bus.request(
            s.INVITE_MEMBER,
            InviteMemberV1(access_token=viewer.access, email="x@example.com", role=Role.VIEWER),
        )
    )
    assert err.code == "inkpass.forbidden"
    # An admin cannot make an owner, nor promote themselves to one.
    for target in (viewer.user_id, admin.user_id):
        err = await remote_error(
            bus.request(
                s.SET_MEMBER_ROLE,
                SetMemberRoleV1(access_token=admin.access, user_id=target, role=Role.OWNER),
            )
        )
        assert err.code == "inkpass.forbidden"
    # Nor touch the owner.
    err = await remote_error(
        bus.request(
            s.SET_MEMBER_ROLE,
            SetMemberRoleV1(access_token=admin.access, user_id=owner.user_id, role=Role.VIEWER),
        )
    )
    assert err.code == "inkpass.forbidden"
    assert await snapshot(db) == before


async def test_a_role_change_ends_the_members_sessions_there(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    dev = await join_as(bus, mailbox, owner, "developer", "dev")
    changed = await bus.request(
        s.SET_MEMBER_ROLE,
        SetMemberRoleV1(access_token=owner.access, user_id=dev.user_id, role=Role.VIEWER),
    )
    assert changed.role is Role.VIEWER
    err = await remote_error(bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=dev.access)))
    assert err.code == "inkpass.token_revoked"
    fresh = await tokens(bus, dev.email, org_id=owner.org_id)
    assert [r.value for r in fresh.roles] == ["viewer"]


async def test_the_last_owner_stays(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    before = await snapshot(db)
    for request in (
        bus.request(
            s.SET_MEMBER_ROLE,
            SetMemberRoleV1(access_token=owner.access, user_id=owner.user_id, role=Role.ADMIN),
        ),
        bus.request(
            s.REMOVE_MEMBER,
            RemoveMemberV1(access_token=owner.access, user_id=owner.user_id),
        ),
    ):
        assert (await remote_error(request)).code == "inkpass.last_owner"
    assert await snapshot(db) == before


async def test_removal_ends_access_and_members_can_leave(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox
) -> None:
    owner = await new_account(bus, mailbox, "owner")
    dev = await join_as(bus, mailbox, owner, "developer", "dev")
    viewer = await join_as(bus, mailbox, owner, "viewer", "viewer")
    await bus.request(
        s.REMOVE_MEMBER,
        RemoveMemberV1(access_token=owner.access, user_id=dev.user_id),
    )
    err = await remote_error(bus.request(s.VERIFY_TOKEN, VerifyTokenV1(token=dev.access)))
    assert err.code == "inkpass.token_revoked"
    assert (await remote_error(tokens(bus, dev.email, org_id=owner.org_id))).code == (
        "inkpass.not_a_member"
    )
    await bus.request(
        s.REMOVE_MEMBER,
        RemoveMemberV1(access_token=viewer.access, user_id=viewer.user_id),
    )
    members = await bus.request(s.LIST_MEMBERS, ListMembersV1(access_token=owner.access))
    assert [m.user_id for m in members.members] == [owner.user_id]


async def test_ids_of_another_tenant_are_simply_not_found(
    inkpass: ServiceApp, bus: Bus, mailbox: Mailbox, db: Db
) -> None:
    alice = await new_account(bus, mailbox, "alice")
    alice_dev = await join_as(bus, mailbox, alice, "developer", "dev")
    mallory = await new_account(bus, mailbox, "mallory")
    before = await snapshot(db)
    attempts = [
        bus.request(
            s.SET_MEMBER_ROLE,
            SetMemberRoleV1(
                access_token=mallory.access, user_id=alice_dev.user_id, role=Role.VIEWER
            ),
        ),
        bus.request(
            s.SET_MEMBER_ATTRIBUTES,
            SetMemberAttributesV1(
                access_token=mallory.access,
                user_id=alice_dev.user_id,
                attributes={"clearance": "top"},
            ),
        ),
        bus.request(
            s.REMOVE_MEMBER,
            RemoveMemberV1(access_token=mallory.access, user_id=alice.user_id),
        ),
    ]
    for attempt in attempts:
        assert (await remote_error(attempt)).code == "inkpass.not_found"
    members = await bus.request(s.LIST_MEMBERS, ListMembersV1(access_token=mallory.access))
    assert [m.user_id for m in members.members] == [mallory.user_id]
    assert await snapshot(db) == before
