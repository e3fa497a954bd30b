"""Alembic environment of den's database (the shared tables have their own set)."""

from den.adapters.tables import metadata
from shared.db import run_env

run_env(metadata)
