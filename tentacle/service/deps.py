"""What every use case is given: the database and bus (once started), stores, policies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from contracts.envelope import Meta
from contracts.tentacle.errors import TentacleErrorCode
from shared.bus import Bus
from tentacle.adapters.agent_store import AgentCatalog
from tentacle.adapters.pg import TaskDb
from tentacle.adapters.task_store import TaskStore
from tentacle.domain.agents import Runtime
from tentacle.domain.errors import TentacleError
from tentacle.domain.policy import Policy
from tentacle.service.ports import AgentRuntime, WorkspaceQueries
from tentacle.settings import TentacleSettings

if TYPE_CHECKING:
    from shared.llm import LLMGateway


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    settings: TentacleSettings
    db: TaskDb
    bus: Bus
    store: TaskStore
    catalog: AgentCatalog
    policy: Policy
    gateway: LLMGateway
    workspace: WorkspaceQueries
    runtimes: Mapping[Runtime, AgentRuntime] = field(default_factory=dict)
    clock: Callable[[], datetime] = _now


def require_org(meta: Meta) -> str:
    if meta.org_id is None:
        raise TentacleError(
            TentacleErrorCode.ORG_REQUIRED, "the message names no organisation (meta.org_id)"
        )
    return meta.org_id
