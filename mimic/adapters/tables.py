"""The tables of mimic's own database (alembic autogenerates from this metadata)."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
