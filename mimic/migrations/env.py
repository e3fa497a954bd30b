"""Alembic environment of mimic's database (the shared tables have their own set)."""

from mimic.adapters.tables import metadata
from shared.db import run_env

run_env(metadata)
