"""Alembic migrations (a package so non-editable installs ship them)."""
