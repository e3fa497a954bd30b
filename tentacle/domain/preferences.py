"""Learned approvals: a person who keeps approving one kind of operation stops being asked.

Each approval adds one to a score that halves every `half_life_days` since the last approval;
at `threshold` the kind is approved automatically. A rejection resets the score, a revocation
switches it off until approvals build it up again; "remember" switches it on at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PreferencePolicy:
    threshold: float = 2.5
    """Three approvals close together pass it; left unused, it decays below it in about a week
    (with the default half-life), and one more approval lifts it again."""
    half_life_days: float = 30.0


@dataclass(frozen=True, slots=True)
class Preference:
    approvals: int
    score: float
    remembered: bool
    last_approved_at: datetime | None
    revoked_at: datetime | None


def decayed(pref: Preference, now: datetime, policy: PreferencePolicy) -> float:
    if pref.last_approved_at is None:
        return 0.0
    days = max((now - pref.last_approved_at).total_seconds(), 0.0) / 86400
    return float(pref.score * 0.5 ** (days / policy.half_life_days))


def auto_approves(pref: Preference | None, now: datetime, policy: PreferencePolicy) -> bool:
    if pref is None:
        return False
    if pref.revoked_at is not None and (
        pref.last_approved_at is None or pref.last_approved_at <= pref.revoked_at
    ):
        return False
    return pref.remembered or decayed(pref, now, policy) >= policy.threshold


def approved(
    pref: Preference | None, now: datetime, policy: PreferencePolicy, *, remember: bool
) -> Preference:
    if pref is None:
        return Preference(1, 1.0, remember, now, None)
    # After a revocation the count starts again from nothing.
    revoked = pref.revoked_at is not None and (
        pref.last_approved_at is None or pref.last_approved_at <= pref.revoked_at
    )
    base = 0.0 if revoked else decayed(pref, now, policy)
    return Preference(
        approvals=(0 if revoked else pref.approvals) + 1,
        score=base + 1.0,
        remembered=remember or (pref.remembered and not revoked),
        last_approved_at=now,
        revoked_at=pref.revoked_at,
    )


def rejected(pref: Preference | None, now: datetime) -> Preference:
    return Preference(0, 0.0, False, pref.last_approved_at if pref else None, now)


def revoked(pref: Preference, now: datetime) -> Preference:
    return Preference(0, 0.0, False, pref.last_approved_at, now)
