"""The composition root of tentacle: settings in, a runnable service out. Nothing connects here."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from shared.bus import Router
from shared.db.urls import to_asyncpg_dsn
from shared.llm import LLMGateway, OfflineResponders
from shared.net import OutboundPolicy
from shared.service import ServiceApp
from tentacle.adapters import offline
from tentacle.adapters.agent_store import AgentCatalog, load_builtin
from tentacle.adapters.agents.file_storage import FileStorageRuntime
from tentacle.adapters.agents.http_fetch import HttpFetchRuntime
from tentacle.adapters.agents.llm import LLMRuntime
from tentacle.adapters.agents.noop import NoopRuntime
from tentacle.adapters.agents.notify import NotifyRuntime
from tentacle.adapters.agents.tools import ToolBox
from tentacle.adapters.embeddings import embedder_from
from tentacle.adapters.journal import Journal
from tentacle.adapters.js_publisher import PipelinedPublisher
from tentacle.adapters.ledger import TaskLedger
from tentacle.adapters.object_workspace import ObjectWorkspace
from tentacle.adapters.pg import Conn, TaskDb
from tentacle.adapters.plan_cache import PlanCache
from tentacle.adapters.task_store import TaskStore
from tentacle.domain.agents import Runtime
from tentacle.domain.policy import Policy
from tentacle.domain.preferences import PreferencePolicy
from tentacle.entrypoints import consumers, rpc, workspace_rpc
from tentacle.entrypoints.chat import install_chat
from tentacle.entrypoints.triggers import install_triggers
from tentacle.service import maintenance
from tentacle.service.deps import Deps
from tentacle.service.memory_deps import MemoryDeps
from tentacle.service.ports import WorkspaceQueries
from tentacle.service.read_memory import prompt_memories
from tentacle.settings import TentacleSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def build_app(
    settings: TentacleSettings, *, workspace: WorkspaceQueries | None = None
) -> ServiceApp:
    """`workspace` replaces the fast path's query side (by default, the workspace objects)."""
    router = Router(settings.service_name)
    app = ServiceApp(settings, router=router, migrations=MIGRATIONS)
    catalog = AgentCatalog(load_builtin())
    # The service's own database, through tentacle's pool (see adapters/pg.py for why); the
    # platform's Database still migrates it and runs the outbox relay over the same table.
    db = TaskDb(
        lambda: to_asyncpg_dsn(app.db.engine.url.render_as_string(hide_password=False)),
        PipelinedPublisher(app.bus),
        max_size=settings.orchestration_pool_size,
        group_in_flight=settings.orchestration_group_commits,
        application_name=f"tentacle-{settings.instance_id}",
    )

    async def agent_limit(conn: Conn, name: str) -> Decimal | None:
        spec = await catalog.spec(conn, name)
        return spec.budget.max_usd_per_task if spec is not None else None

    ledger = TaskLedger(db, daily_limit_usd=settings.daily_org_budget_usd, agent_limit=agent_limit)
    gateway = LLMGateway(
        settings.llm, ledger=ledger, responders=offline.register(OfflineResponders())
    )
    journal = Journal(db)
    memory = MemoryDeps(db, embedder_from(settings.llm, gateway))
    memories = (
        prompt_memories(memory, settings.agent_memory_tokens)
        if settings.agent_memory_tokens
        else None
    )
    outbound = OutboundPolicy.from_settings(
        allow_private=settings.http_allow_private, allowed=settings.http_allowed_networks
    )
    deps = Deps(
        settings=settings,
        db=db,
        bus=app.bus,
        store=TaskStore(PlanCache(), catalog.pools()),
        catalog=catalog,
        policy=Policy(
            max_parallel=settings.max_parallel_steps,
            max_replans=settings.max_replans,
            checkpoint_ttl=timedelta(seconds=settings.checkpoint_ttl_seconds),
            checkpoint_default=settings.checkpoint_default_action,
            cost_threshold_usd=settings.checkpoint_cost_threshold_usd,
            preferences=PreferencePolicy(
                threshold=settings.preference_threshold,
                half_life_days=settings.preference_half_life_days,
            ),
        ),
        gateway=gateway,
        workspace=workspace or ObjectWorkspace(db),
        runtimes={
            Runtime.NOOP: NoopRuntime(),
            Runtime.LLM: LLMRuntime(
                gateway, ToolBox(catalog.builtin, lambda: deps.runtimes, journal), memories
            ),
            Runtime.NOTIFY: NotifyRuntime(),
            Runtime.FILE_STORAGE: FileStorageRuntime(
                app.bus, journal, max_bytes=settings.http_max_bytes
            ),
            Runtime.HTTP_FETCH: HttpFetchRuntime(
                journal,
                outbound,
                max_bytes=settings.http_max_bytes,
                max_text_chars=settings.http_max_text_chars,
            ),
        },
    )
    rpc.register(router, deps)
    workspace_rpc.register(router, deps, memory)
    consumers.register(router, deps)
    install_chat(router, deps)
    install_triggers(app, router, db)

    @app.on_start
    async def connect_and_seed() -> None:
        await db.connect()
        await catalog.seed(db)

    @app.background
    async def outbox_marks() -> None:
        # Also the pool's owner: background tasks are cancelled when the service stops, after
        # its consumers and request handlers, so the pool closes (writing the last marks)
        # once nothing can use it any more.
        try:
            await db.mark_published()
        finally:
            await db.close()

    @app.background
    async def timers() -> None:
        await maintenance.watch_timers(deps)

    @app.background
    async def retention() -> None:
        await maintenance.retain(deps)

    return app
