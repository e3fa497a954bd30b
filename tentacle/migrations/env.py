"""Alembic environment of tentacle's database (the shared tables have their own set)."""

from shared.db import run_env
from tentacle.adapters.tables import metadata

run_env(metadata)
