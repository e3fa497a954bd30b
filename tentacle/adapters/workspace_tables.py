"""Tables of workspace objects and organisation memory, on tentacle's metadata (the workspace
branch of its migrations, `w0001...`). Both are tenant tables with row-level security.

Objects keep their document in `data` and its dates, as epoch seconds, in `dates` (see
`domain/object_docs`). Full text is a stored generated column over every string of `data`:
ranking reads it for each candidate, so recomputing it per query would cost more than storing it.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Computed,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType

from tentacle.adapters.tables import metadata

OBJECT_SEARCH = "jsonb_to_tsvector('english'::regconfig, data, '[\"string\"]'::jsonb)"

workspace_objects = Table(
    "workspace_objects",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("dates", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("version", Integer, nullable=False),
    Column("created_by", JSONB, nullable=False),
    Column("updated_by", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("search", TSVECTOR, Computed(OBJECT_SEARCH, persisted=True), nullable=True),
    PrimaryKeyConstraint("org_id", "id", name="pk_workspace_objects"),
)
Index(
    "ix_workspace_objects_data",
    workspace_objects.c.data,
    postgresql_using="gin",
    postgresql_ops={"data": "jsonb_path_ops"},
)
Index("ix_workspace_objects_tags", workspace_objects.c.tags, postgresql_using="gin")
Index("ix_workspace_objects_search", workspace_objects.c.search, postgresql_using="gin")
Index(
    "ix_workspace_objects_type_updated",
    workspace_objects.c.org_id,
    workspace_objects.c.type,
    workspace_objects.c.updated_at,
    workspace_objects.c.id,
)
Index(
    "ix_workspace_objects_type_created",
    workspace_objects.c.org_id,
    workspace_objects.c.type,
    workspace_objects.c.created_at,
    workspace_objects.c.id,
)
Index(
    "ix_workspace_objects_updated",
    workspace_objects.c.org_id,
    workspace_objects.c.updated_at,
    workspace_objects.c.id,
)

workspace_object_types = Table(
    "workspace_object_types",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("json_schema", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("org_id", "type", name="pk_workspace_object_types"),
)


class Vector(UserDefinedType[list[float]]):
    """pgvector's `vector`, without a fixed dimension: the embedding model is a setting, and
    each row records the model that embedded it (rows of another model are not compared)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "vector"


# So that reflection (alembic's drift check) knows the type instead of warning about it.
ischema_names.setdefault("vector", Vector)

MEMORY_SEARCH = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(topic, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, body), 'C')"
)

memories = Table(
    "memories",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("topic", Text),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("source", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("readers", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("owner", Text, nullable=False),
    Column("task_id", Text),
    Column("version", Integer, nullable=False),
    Column("created_by", JSONB, nullable=False),
    Column("updated_by", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("embedding", Vector()),
    Column("embedding_model", Text),
    Column("search", TSVECTOR, Computed(MEMORY_SEARCH, persisted=True), nullable=True),
    PrimaryKeyConstraint("org_id", "key", name="pk_memories"),
)
Index("ix_memories_search", memories.c.search, postgresql_using="gin")
Index("ix_memories_tags", memories.c.tags, postgresql_using="gin")
Index("ix_memories_topic", memories.c.org_id, memories.c.topic)
Index("ix_memories_tier", memories.c.org_id, memories.c.tier, memories.c.key)

memory_versions = Table(
    "memory_versions",
    metadata,
    Column("org_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("topic", Text),
    Column("tags", ARRAY(Text), nullable=False),
    Column("source", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("readers", ARRAY(Text), nullable=False),
    Column("owner", Text, nullable=False),
    Column("task_id", Text),
    Column("created_by", JSONB, nullable=False),
    Column("updated_by", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("org_id", "key", "version", name="pk_memory_versions"),
)
