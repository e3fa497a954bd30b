"""Alembic environment of inbox's database (the shared tables have their own set)."""

from inbox.adapters.tables import metadata
from shared.db import run_env

run_env(metadata)
