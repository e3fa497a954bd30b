"""What every use case checks first."""

from __future__ import annotations

from contracts.mimic.errors import MimicErrorCode
from mimic.domain.errors import MimicError


def require_org(org_id: str | None) -> str:
    """Everything in mimic belongs to an organisation; platform-scoped messages are refused."""
    if org_id is None:
        raise MimicError(MimicErrorCode.ORG_REQUIRED, "the message names no organisation")
    return org_id
