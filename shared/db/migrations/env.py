"""Alembic environment of the shared tables (outbox, processed messages)."""

from shared.db.migrations import run_shared_env

run_shared_env()
