"""The row type of untyped selects (SQLAlchemy 2.1 types rows by their column tuple)."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import Row

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
