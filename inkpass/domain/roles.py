"""Built-in roles: what each one may do, before any policy is consulted.

Each role is a list of granted action patterns minus a list of excepted ones. Actions are
`<service>.<noun>.<verb>`; inkpass's own administrative actions are named here so that the same
evaluation guards inkpass's requests and everyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from contracts.inkpass.types import Role
from inkpass.domain.actions import any_matches


class Actions:
    """inkpass's own actions."""

    MEMBER_INVITE: Final = "inkpass.member.invite"
    MEMBER_LIST: Final = "inkpass.member.list"
    MEMBER_UPDATE: Final = "inkpass.member.update"
    MEMBER_REMOVE: Final = "inkpass.member.remove"
    APIKEY_CREATE: Final = "inkpass.apikey.create"
    APIKEY_REVOKE: Final = "inkpass.apikey.revoke"
    APIKEY_LIST: Final = "inkpass.apikey.list"
    POLICY_WRITE: Final = "inkpass.policy.write"
    POLICY_LIST: Final = "inkpass.policy.list"
    AUDIT_READ: Final = "inkpass.audit.inspect"
    ORG_UPDATE: Final = "inkpass.org.update"


@dataclass(frozen=True)
class RoleGrant:
    allow: tuple[str, ...]
    deny: tuple[str, ...] = ()

    def allows(self, action: str) -> bool:
        return any_matches(self.allow, action) and not any_matches(self.deny, action)


_READ: Final = ("*.*.read", "*.*.list", "*.*.get", "*.*.search")
_WRITE: Final = ("*.*.create", "*.*.update", "*.*.delete", "*.*.run", "*.*.write")

GRANTS: Final[dict[Role, RoleGrant]] = {
    Role.OWNER: RoleGrant(allow=("*",)),
    Role.ADMIN: RoleGrant(allow=("*",), deny=("inkpass.org.delete", "inkpass.org.transfer")),
    Role.DEVELOPER: RoleGrant(
        allow=(*_READ, *_WRITE, Actions.APIKEY_CREATE, Actions.APIKEY_REVOKE),
        deny=("inkpass.member.*", "inkpass.policy.*", "inkpass.org.*", "inkpass.audit.*"),
    ),
    Role.VIEWER: RoleGrant(
        allow=_READ,
        deny=("inkpass.apikey.*", "inkpass.policy.*", "inkpass.audit.*"),
    ),
}

RANK: Final = {Role.OWNER: 4, Role.ADMIN: 3, Role.DEVELOPER: 2, Role.VIEWER: 1}


def role_allows(role: Role, action: str) -> bool:
    return GRANTS[role].allows(action)


def grants_of(roles: tuple[Role, ...] | list[Role]) -> list[RoleGrant]:
    return [GRANTS[r] for r in roles]


def may_assign(assigner: Role, role: Role) -> bool:
    """Nobody hands out more than they hold; only an owner makes owners."""
    return RANK[assigner] >= RANK[role] and (role is not Role.OWNER or assigner is Role.OWNER)


def may_manage(manager: Role, target: Role) -> bool:
    """An admin manages developers and viewers and other admins, never an owner."""
    return RANK[manager] >= RANK[target] and (target is not Role.OWNER or manager is Role.OWNER)
