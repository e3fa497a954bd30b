"""The base of every message model on the bus."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContractModel(BaseModel):
    """Frozen, versioned in its class name (`TaskCreatedV1`).

    Readers are tolerant by default (unknown fields are ignored, so a producer may add an
    optional field without breaking older consumers); tests read strictly by validating with
    `extra="forbid"`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)
