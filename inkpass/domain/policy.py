"""Attribute-based access control: roles first, then policies, deny overriding everything.

Decision for an actor, an action and a resource:

1. A deny policy that applies (action and resource type match, every condition holds, the time
   is inside one of its windows) refuses, whatever the role says.
2. Otherwise the baseline allows: a user's role grants the action, or an API key's scopes cover
   it *and* its creator's current role (or an allow policy) permits it, so a key never exceeds
   the person who made it.
3. Otherwise an allow policy that applies allows.
4. Otherwise: denied by default.

Attributes live in three namespaces, and only trusted sources fill them:

* `actor.*` from inkpass's own records, never from the request: type, user_id, key_id, roles,
  scopes, email_verified, mfa_enrolled, mfa, and attributes.<key> (set by the org's admins);
* `resource.*` from the service that owns the resource: type, id, attributes.<key>;
* `context.*` from inkpass's clock (hour, weekday, UTC) and the edge's view of the client's
  address (source_ip).

A condition on a missing attribute is false, so it neither grants nor, in a deny policy,
refuses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from contracts.inkpass.models import (
    ConditionOp,
    ConditionV1,
    PolicyEffect,
    PolicySpecV1,
    TimeWindowV1,
)
from contracts.inkpass.types import Role
from inkpass.domain.actions import action_matches, any_matches
from inkpass.domain.roles import role_allows

_MISSING: Any = object()


@dataclass(frozen=True)
class Policy:
    policy_id: str
    spec: PolicySpecV1

    @property
    def time_dependent(self) -> bool:
        return bool(self.spec.time_windows) or any(
            c.attribute.startswith("context.") or (c.value_from or "").startswith("context.")
            for c in self.spec.conditions
        )


@dataclass(frozen=True)
class Principal:
    """The actor as inkpass knows it (never as the request describes it)."""

    user_id: str
    roles: tuple[Role, ...]
    attributes: dict[str, Any] = field(default_factory=dict)
    api_key_id: str | None = None
    scopes: tuple[str, ...] = ()
    email_verified: bool = False
    mfa_enrolled: bool = False
    mfa: bool = False
    """Whether the session passed a second factor. authz.check names no session, so there it is
    False: a policy demanding a second factor fails closed, never open."""

    def namespace(self) -> dict[str, Any]:
        return {
            "type": "api_key" if self.api_key_id else "user",
            "user_id": self.user_id,
            "key_id": self.api_key_id,
            "roles": [r.value for r in self.roles],
            "scopes": list(self.scopes),
            "email_verified": self.email_verified,
            "mfa_enrolled": self.mfa_enrolled,
            "mfa": self.mfa,
            "attributes": dict(self.attributes),
        }


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    policy_id: str | None = None
    time_dependent: bool = False


def evaluate(
    subject: Principal,
    action: str,
    resource: dict[str, Any],
    context: dict[str, Any],
    policies: list[Policy],
    now: datetime,
) -> Decision:
    """`resource` is {"type", "id", "attributes"}; `context` e.g. {"source_ip"}."""
    attrs = {
        "actor": subject.namespace(),
        "resource": resource,
        "context": {**context, "hour": now.hour, "weekday": now.isoweekday()},
    }
    rtype = str(resource.get("type", ""))
    relevant = [p for p in policies if _targets(p.spec, action, rtype)]
    time_dependent = any(p.time_dependent for p in relevant)
    holding = [p for p in relevant if _holds(p.spec, attrs, now)]
    for policy in holding:
        if policy.spec.effect is PolicyEffect.DENY:
            return Decision(False, f"policy:{policy.policy_id}", policy.policy_id, time_dependent)
    allow = next((p for p in holding if p.spec.effect is PolicyEffect.ALLOW), None)
    role = next((r for r in subject.roles if role_allows(r, action)), None)
    if subject.api_key_id is not None:
        if not any_matches(subject.scopes, action):
            return Decision(False, "scope", None, time_dependent)
        if role is not None:
            return Decision(True, "scope", None, time_dependent)
    elif role is not None:
        return Decision(True, f"role:{role.value}", None, time_dependent)
    if allow is not None:
        return Decision(True, f"policy:{allow.policy_id}", allow.policy_id, time_dependent)
    return Decision(False, "default_deny", None, time_dependent)


def _targets(spec: PolicySpecV1, action: str, resource_type: str) -> bool:
    return any(action_matches(p, action) for p in spec.actions) and any(
        t in ("*", resource_type) for t in spec.resource_types
    )


def _holds(spec: PolicySpecV1, attrs: dict[str, Any], now: datetime) -> bool:
    if spec.time_windows and not any(in_window(w, now) for w in spec.time_windows):
        return False
    return all(condition_holds(c, attrs) for c in spec.conditions)


def resolve(path: str, attrs: dict[str, Any]) -> Any:
    current: Any = attrs
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return _MISSING if current is None else current


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_kind(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return True
    return type(a) is type(b)


def condition_holds(condition: ConditionV1, attrs: dict[str, Any]) -> bool:
    left = resolve(condition.attribute, attrs)
    if condition.op is ConditionOp.EXISTS:
        return left is not _MISSING
    right = (
        resolve(condition.value_from, attrs)
        if condition.value_from is not None
        else condition.value
    )
    if left is _MISSING or right is _MISSING or right is None:
        return False
    return _compare(condition.op, left, right)


def _compare(op: ConditionOp, left: Any, right: Any) -> bool:
    if op is ConditionOp.EQ:
        return _same_kind(left, right) and bool(left == right)
    if op is ConditionOp.NE:
        return not (_same_kind(left, right) and left == right)
    if op in (ConditionOp.IN, ConditionOp.NOT_IN):
        if not isinstance(right, list) or isinstance(left, list):
            return False
        found = any(_same_kind(left, r) and left == r for r in right)
        return found if op is ConditionOp.IN else not found
    if op is ConditionOp.PREFIX:
        return isinstance(left, str) and isinstance(right, str) and left.startswith(right)
    if op is ConditionOp.CONTAINS:
        return isinstance(left, list) and any(_same_kind(x, right) and x == right for x in left)
    if op is ConditionOp.IN_CIDR:
        return _in_cidr(left, right)
    return _order(op, left, right)


def _order(op: ConditionOp, left: Any, right: Any) -> bool:
    comparable = (_number(left) and _number(right)) or (
        isinstance(left, str) and isinstance(right, str)
    )
    if not comparable:
        return False
    if op is ConditionOp.GT:
        return bool(left > right)
    if op is ConditionOp.GTE:
        return bool(left >= right)
    if op is ConditionOp.LT:
        return bool(left < right)
    return bool(left <= right)


def _in_cidr(left: Any, right: Any) -> bool:
    networks = right if isinstance(right, list) else [right]
    try:
        address = ipaddress.ip_address(str(left))
        return any(address in ipaddress.ip_network(str(n), strict=False) for n in networks)
    except ValueError:
        return False


def in_window(window: TimeWindowV1, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(window.timezone))
    if local.isoweekday() not in window.weekdays:
        return False
    t = local.time().replace(tzinfo=None)
    if window.start <= window.end:
        return window.start <= t <= window.end
    return t >= window.start or t <= window.end  # spans midnight
