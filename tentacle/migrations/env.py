"""Alembic environment of tentacle's database (the shared tables have their own set)."""

import tentacle.adapters.chat_tables  # puts the chat branch's tables on the metadata
import tentacle.adapters.schedule_tables  # the triggers branch's schedule tables
import tentacle.adapters.trigger_tables  # puts the triggers branch's tables on the metadata
import tentacle.adapters.workspace_tables  # noqa: F401  (puts the workspace branch's tables on it)
from shared.db import run_env
from tentacle.adapters.tables import metadata

run_env(metadata)
