"""Settings of tentacle (environment prefix TENTACLE_), read once at start."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from contracts.tentacle.checkpoints import DefaultAction
from shared.llm.settings import LLMSettings
from shared.settings import ServiceSettings


class TentacleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TENTACLE_", extra="ignore", frozen=True)

    service_name: ClassVar[str] = "tentacle"

    llm: LLMSettings = Field(
        default_factory=LLMSettings,
        description="The model per task type (FLUXOS_LLM_*); offline by default.",
    )

    # ------------------------------------------------------------------ orchestration
    max_parallel_steps: int = Field(default=4, ge=1, le=64, description="Per task, by default.")
    max_replans: int = Field(default=2, ge=0, le=10, description="Strategic replans per task.")
    planner_repairs: int = Field(
        default=1, ge=0, le=5, description="Rounds telling the planner what was wrong."
    )
    planner_fresh_attempts: int = Field(
        default=1, ge=0, le=5, description="Plans asked for afresh once repairs are used up."
    )
    recovery_after_seconds: float = Field(
        default=60.0,
        gt=0,
        description="An unfinished task is looked at again after this long without a cycle.",
    )
    timer_interval_seconds: float = Field(default=2.0, gt=0, description="Timer sweep period.")

    orchestration_pool_size: int = Field(
        default=20,
        ge=2,
        le=200,
        description="Connections of the orchestration pool (asyncpg, adapters/pg.py); "
        "TENTACLE_DB_POOL_SIZE sizes only the platform engine (migrations, outbox relay).",
    )
    orchestration_group_commits: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Group commits of cycle writes in flight at once, each on a connection of "
        "its own (adapters/group_commit.py). One makes the biggest batches (the least database "
        "and bus work per step, measured with `python -m bench orchestration`); more let a "
        "batch start while another commits or waits for a row lock.",
    )

    agent_memory_tokens: int = Field(
        default=800,
        ge=0,
        le=32_000,
        description="Token budget of the organisation's memory in a task agent's prompt (0: none).",
    )

    # ------------------------------------------------------------------ budgets
    default_task_budget_usd: Decimal = Field(default=Decimal("5"), ge=0)
    daily_org_budget_usd: Decimal = Field(default=Decimal("50"), ge=0)

    # ------------------------------------------------------------------ checkpoints
    checkpoint_ttl_seconds: float = Field(default=86_400.0, gt=0)
    checkpoint_default_action: DefaultAction = DefaultAction.REJECT
    checkpoint_cost_threshold_usd: Decimal = Field(default=Decimal("0.50"), ge=0)
    preference_threshold: float = Field(
        default=2.5, gt=0, description="Decayed approvals after which a kind is auto-approved."
    )
    preference_half_life_days: float = Field(default=30.0, gt=0)

    # ------------------------------------------------------------------ http_fetch
    http_allow_private: bool = Field(
        default=False, description="Let http_fetch reach private addresses (development only)."
    )
    http_allowed_networks: list[str] = Field(
        default_factory=list, description="Private networks http_fetch may reach anyway."
    )
    http_max_bytes: int = Field(default=2_000_000, ge=1024, description="Largest body read.")
    http_max_text_chars: int = Field(default=100_000, ge=100, description="Text kept per fetch.")

    # ------------------------------------------------------------------ workspace
    workspace_query_timeout_ms: int = Field(
        default=2_000,
        ge=1,
        le=60_000,
        description="Statement timeout of an object query or search (a tenant's filter must not "
        "hold a database connection for long).",
    )

    # ------------------------------------------------------------------ retention
    retention_hours: float = Field(
        default=168.0, gt=0, description="Finished tasks' step outputs are pruned after this."
    )
    retention_interval_seconds: float = Field(default=600.0, gt=0)
