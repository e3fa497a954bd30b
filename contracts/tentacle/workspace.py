"""Everything of workspace objects and memory the registry needs: subjects, streams, consumers."""

from __future__ import annotations

from typing import Any

from contracts.streams import Consumer, Stream
from contracts.subject import Subject
from contracts.tentacle import memory, objects

WORKSPACE_SUBJECTS: tuple[Subject[Any, Any], ...] = (
    objects.OBJECT_CREATE,
    objects.OBJECT_BULK_INSERT,
    objects.OBJECT_GET,
    objects.OBJECT_UPDATE,
    objects.OBJECT_DELETE,
    objects.OBJECT_QUERY,
    objects.OBJECT_SEARCH,
    objects.OBJECT_SCHEMA_PUT,
    objects.OBJECT_SCHEMA_GET,
    objects.OBJECT_TYPE_LIST,
    objects.OBJECT_CREATED,
    objects.OBJECT_UPDATED,
    objects.OBJECT_DELETED,
    *memory.MEMORY_SUBJECTS,
)
WORKSPACE_STREAMS: tuple[Stream, ...] = (objects.OBJECT_EVENTS_STREAM,)
WORKSPACE_CONSUMERS: tuple[Consumer[Any], ...] = (memory.LEARNINGS_CONSUMER,)
