"""Alembic environment of inkpass's database (the shared tables have their own set)."""

from inkpass.adapters.tables import metadata
from shared.db import run_env

run_env(metadata)
