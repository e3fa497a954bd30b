"""Counting attempts before they are checked (see `domain.lockout`), in their own transaction."""

from __future__ import annotations

import ipaddress

from contracts.inkpass.models import AuditKind
from inkpass.adapters import throttle
from inkpass.domain.errors import TooManyAttempts
from inkpass.domain.lockout import Limit
from inkpass.service.deps import Deps
from inkpass.service.recording import audit, subject_hash
from inkpass.service.tx import transaction


def normalised_ip(source_ip: str | None) -> str | None:
    """The address in canonical form, or None if it is not one (then it is not used)."""
    if source_ip is None:
        return None
    try:
        return str(ipaddress.ip_address(source_ip))
    except ValueError:
        return None


def login_limits(deps: Deps, email: str, source_ip: str | None) -> dict[str, Limit]:
    account = subject_hash(deps, email)
    limits = {f"login:account:{account}": deps.limits.login_account}
    ip = normalised_ip(source_ip)
    if ip is not None:
        limits[f"login:source:{ip}"] = deps.limits.login_source
        limits[f"login:account-source:{account}:{ip}"] = deps.limits.login_account_source
    else:
        limits[f"login:account-source:{account}:-"] = deps.limits.login_account_source
    return limits


def success_key(limits: dict[str, Limit]) -> list[str]:
    """The per-account-and-source counter, which a success resets."""
    return [k for k in limits if k.startswith("login:account-source:")]


async def reserve(
    deps: Deps, limits: dict[str, Limit], *, user_id: str | None = None, source_ip: str | None
) -> tuple[str, ...]:
    """Count this attempt; TooManyAttempts (after committing nothing new) if a key is locked.

    Returns the keys this attempt locked behind itself (a success unlocks them again).
    """
    async with transaction(deps) as tx:
        outcome = await throttle.reserve_all(tx.session, limits, deps.now())
        for key in outcome.locked:
            await audit(
                tx,
                deps,
                AuditKind.LOCKED_OUT,
                user_id=user_id,
                source_ip=normalised_ip(source_ip),
                key=key.split(":")[0] + ":" + key.split(":")[1],
            )
    if not outcome.allowed:
        raise TooManyAttempts(outcome.retry_after_s)
    return outcome.locked


async def succeeded(deps: Deps, *, reset: list[str], locked: tuple[str, ...]) -> None:
    """The attempt passed: forget the per-source count, lift the locks it placed itself."""
    async with transaction(deps) as tx:
        if reset:
            await throttle.clear(tx.session, *reset)
        rest = [k for k in locked if k not in reset]
        if rest:
            await throttle.unlock(tx.session, *rest)
