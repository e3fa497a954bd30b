"""The agent catalog: built-in agents from YAML files, organisations' own agents from the
database, and the capabilities listing.

Built-in agents are read from `tentacle/agents/*.yaml` when the service is built and seeded into
the database at start (platform scope: rows with no organisation, which every organisation can
read and none can change). An organisation's own agents are rows of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from contracts.ids import new_id
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.models import CapabilityV1, ListCapabilitiesV1
from contracts.tentacle.streams import AGENT_POOLS
from shared.bus.codec import describe
from tentacle.adapters.pg import Conn, TaskDb
from tentacle.domain.agents import AgentRegistry, AgentSpec, Runtime
from tentacle.domain.errors import TentacleError

BUILTIN_DIR: Final = Path(__file__).resolve().parent.parent / "agents"
CUSTOM_POOL: Final = "custom"

_UPSERT: Final = """
    INSERT INTO agents (id, org_id, name, kind, domain, description, spec, spec_hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)
    ON CONFLICT ((coalesce(org_id, '')), name) DO UPDATE
       SET kind = excluded.kind, domain = excluded.domain,
           description = excluded.description, spec = excluded.spec,
           spec_hash = excluded.spec_hash, updated_at = now()
     WHERE agents.spec_hash <> excluded.spec_hash
"""


class AgentDefinitionError(TentacleError):
    def __init__(self, message: str) -> None:
        super().__init__(TentacleErrorCode.AGENT_INVALID, message)


def parse_agent(source: str, *, origin: str = "agent") -> AgentSpec:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise AgentDefinitionError(f"{origin} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise AgentDefinitionError(f"{origin} must be a YAML mapping")
    try:
        return AgentSpec.model_validate(data)
    except ValidationError as exc:
        raise AgentDefinitionError(f"{origin}: {describe(exc)}") from None


def load_builtin(directory: Path = BUILTIN_DIR) -> dict[str, AgentSpec]:
    agents: dict[str, AgentSpec] = {}
    for path in sorted(directory.glob("*.yaml")):
        spec = parse_agent(path.read_text(encoding="utf-8"), origin=path.name)
        if spec.name != path.stem:
            raise AgentDefinitionError(f"{path.name} defines {spec.name}; name the file after it")
        if spec.name not in AGENT_POOLS:
            raise AgentDefinitionError(f"built-in agent {spec.name} has no worker pool")
        agents[spec.name] = spec
    return agents


def _hash(spec: AgentSpec) -> str:
    return hashlib.sha256(spec.model_dump_json(by_alias=True).encode()).hexdigest()


def _row(spec: AgentSpec, org_id: str | None) -> tuple[Any, ...]:
    return (
        new_id(),
        org_id,
        spec.name,
        spec.kind.value,
        spec.domain,
        spec.description,
        spec.model_dump_json(by_alias=True),
        _hash(spec),
    )


class AgentCatalog:
    def __init__(self, builtin: dict[str, AgentSpec]) -> None:
        self.builtin = builtin

    def pools(self) -> dict[str, str]:
        return {name: name for name in self.builtin}

    def pool_of(self, name: str) -> str:
        return name if name in self.builtin else CUSTOM_POOL

    async def seed(self, db: TaskDb) -> int:
        """Make the database's built-in rows match the files; how many rows changed."""
        changed = 0
        async with db.transaction() as tx:
            for spec in self.builtin.values():
                status = await tx.conn.execute(_UPSERT, *_row(spec, None))
                changed += int(status.rsplit(" ", 1)[-1])
            status = await tx.conn.execute(
                "DELETE FROM agents WHERE org_id IS NULL AND NOT (name = ANY($1::text[]))",
                list(self.builtin),
            )
            changed += int(status.rsplit(" ", 1)[-1])
        return changed

    async def custom(self, conn: Conn, names: Iterable[str] | None) -> list[AgentSpec]:
        """The calling organisation's own agents (all, or those named)."""
        if names is not None:
            wanted = [n for n in names if n not in self.builtin]
            if not wanted:
                return []
            rows = await conn.fetch(
                "SELECT spec FROM agents WHERE org_id IS NOT NULL AND name = ANY($1::text[])",
                wanted,
            )
        else:
            rows = await conn.fetch("SELECT spec FROM agents WHERE org_id IS NOT NULL")
        return [AgentSpec.model_validate(row["spec"]) for row in rows]

    async def registry(self, conn: Conn, names: Iterable[str] | None = None) -> AgentRegistry:
        agents = dict(self.builtin)
        for spec in await self.custom(conn, names):
            agents[spec.name] = spec
        return AgentRegistry(agents)

    async def spec(self, conn: Conn, name: str) -> AgentSpec | None:
        found = self.builtin.get(name)
        if found is not None:
            return found
        custom = await self.custom(conn, [name])
        return custom[0] if custom else None

    async def register(self, conn: Conn, org_id: str, spec: AgentSpec) -> None:
        if spec.name in self.builtin:
            raise AgentDefinitionError(f"{spec.name} is a built-in agent and cannot be replaced")
        if spec.runtime is not Runtime.LLM:
            raise AgentDefinitionError(
                "an organisation's agents are prompt-defined: runtime must be llm"
            )
        await conn.execute(_UPSERT, *_row(spec, org_id))

    async def capabilities(self, conn: Conn, query: ListCapabilitiesV1) -> list[CapabilityV1]:
        """Every agent the organisation can use (built-in and its own), filtered."""
        rows = await conn.fetch(
            """
            SELECT org_id, spec FROM agents
             WHERE ($1::text IS NULL OR kind = $1)
               AND ($2::text IS NULL OR domain = $2)
               AND ($3::text IS NULL
                    OR to_tsvector('english', name || ' ' || domain || ' ' || description)
                       @@ websearch_to_tsquery('english', $3)
                    OR name ILIKE $4 OR description ILIKE $4)
             ORDER BY name
            """,
            query.kind.value if query.kind is not None else None,
            query.domain or None,
            query.query or None,
            "%" + _escape_like(query.query or "") + "%",
        )
        return [
            _capability(AgentSpec.model_validate(r["spec"]), r["org_id"] is None, query.detail)
            for r in rows
        ]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _capability(spec: AgentSpec, builtin: bool, detail: bool) -> CapabilityV1:
    return CapabilityV1(
        name=spec.name,
        kind=spec.kind,
        domain=spec.domain,
        description=spec.description,
        builtin=builtin,
        risk=spec.risk,
        side_effects=spec.side_effects,
        asks_approval=spec.asks_approval(),
        task_type=spec.task_type,
        input_schema=json.loads(json.dumps(spec.inputs)) if detail else None,
        output_schema=json.loads(json.dumps(spec.outputs)) if detail else None,
    )
