"""Agents as capabilities: discover them, and register an organisation's own (YAML)."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.models import (
    CapabilityListV1,
    CapabilityV1,
    ListCapabilitiesV1,
    RegisterAgentV1,
)
from tentacle.adapters.agent_store import AgentDefinitionError, parse_agent
from tentacle.domain.agents import Runtime
from tentacle.service.deps import Deps, require_org


async def list_capabilities(
    deps: Deps, request: ListCapabilitiesV1, meta: Meta
) -> CapabilityListV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        found = await deps.catalog.capabilities(tx.conn, request)
    return CapabilityListV1(capabilities=found)


async def register_agent(deps: Deps, request: RegisterAgentV1, meta: Meta) -> CapabilityV1:
    org_id = require_org(meta)
    spec = parse_agent(request.yaml)
    unusable = [t for t in spec.tools if not _tool_agent(deps, t)]
    if unusable:
        raise AgentDefinitionError(
            f"not tools: {', '.join(unusable)} (a tool is a built-in agent that is not a model)"
        )
    async with deps.db.transaction(org_id=org_id) as tx:
        await deps.catalog.register(tx.conn, org_id, spec)
        found = await deps.catalog.capabilities(tx.conn, ListCapabilitiesV1(detail=True))
    return next(c for c in found if c.name == spec.name and not c.builtin)


def _tool_agent(deps: Deps, name: str) -> bool:
    agent = deps.catalog.builtin.get(name)
    return agent is not None and agent.runtime is not Runtime.LLM
