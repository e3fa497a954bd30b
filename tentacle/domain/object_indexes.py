"""Which fields of a type get an index, and the one expression both the index and queries use.

A type's JSON Schema opts a field in with `"x-index": true` on the field's subschema (at any
depth of nested `properties`): `{"properties": {"start": {"type": "string", "x-index": true}}}`.
Each such field gets a btree index over its sort key, partial to the organisation and type, so
range filters (`$gt`... on numbers and dates), equality, `$in` and ordering by the field are
served by the index instead of a scan of the type's rows. Index what is sorted by or filtered
selectively (a date range, an id-like field): a filter on an indexed field also states its
condition on the key, and the planner, multiplying both estimates, may then prefer the key's
index to walking the requested order even when the filter keeps most rows (measured with the
workspace bench: a budget >= x ordered by update time got slower with budget indexed).

The sort key of a field is the date's instant when the field holds an ISO date (the `dates`
shadow), else the JSON value, else JSON null. It is written as a CASE, not COALESCE: under
row-level security PostgreSQL only uses an index condition whose every node it knows to be
leak-proof, and COALESCE is not among them while CASE and IS NOT NULL are (the jsonb operators
used are marked LEAKPROOF at provisioning, see `shared.db.provisioning`). The planner matches an
index by the expression's exact shape, so the index and the compiled filters both come from
`object_filters.sort_key`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from tentacle.domain.object_filters import FilterInvalid, parse_path, sort_key

INDEX_KEYWORD: Final = "x-index"
MAX_PER_TYPE: Final = 8
"""Each index costs every insert of the type some work; a type needs only a few."""
MAX_PER_ORG: Final = 32
"""Partial indexes of every organisation share one table: each one the planner considers for
a query of the table costs it a little, so one organisation gets a bounded number."""
NAME_PREFIX: Final = "wsx_"


class IndexSpecInvalid(ValueError):
    """The schema asks for indexes that cannot be had (too many, or on an odd path)."""


def indexed_paths(schema: Mapping[str, Any] | None) -> list[list[str]]:
    """The field paths `schema` marks with `"x-index": true`, in document order; each must be
    a path the filter language accepts."""
    found: list[list[str]] = []
    if schema is not None:
        _walk(schema, [], found)
    if len(found) > MAX_PER_TYPE:
        raise IndexSpecInvalid(f"a type may index at most {MAX_PER_TYPE} fields")
    for path in found:
        try:
            if parse_path(".".join(path)) != path:
                raise FilterInvalid("a field name holds a '.'")
        except FilterInvalid as exc:
            raise IndexSpecInvalid(f"an indexed field: {exc}") from None
    return found


def _walk(schema: Mapping[str, Any], at: list[str], found: list[list[str]]) -> None:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return
    for name, sub in properties.items():
        if not isinstance(sub, Mapping):
            continue
        path = [*at, str(name)]
        if sub.get(INDEX_KEYWORD) is True:
            found.append(path)
        if len(path) < 8:
            _walk(sub, path, found)


def type_prefix(org_id: str, object_type: str) -> str:
    """The name prefix of every index of one organisation's type (to find them again)."""
    digest = hashlib.sha256(f"{org_id}\x00{object_type}".encode()).hexdigest()[:16]
    return f"{NAME_PREFIX}{digest}_"


def index_name(org_id: str, object_type: str, path: list[str]) -> str:
    digest = hashlib.sha256("\x00".join(path).encode()).hexdigest()[:12]
    return type_prefix(org_id, object_type) + digest


def _literal(value: str) -> str:
    # Standard-conforming strings: only the quote needs doubling.
    return "'" + value.replace("'", "''") + "'"


def path_literal(path: list[str]) -> str:
    """`path` as a text[] literal (each element quoted, so no segment reads as NULL)."""
    inner = ",".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in path)
    return _literal("{" + inner + "}") + "::text[]"


def create_index_sql(org_id: str, object_type: str, path: list[str]) -> str:
    name = index_name(org_id, object_type, path)
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON workspace_objects"
        f" ({sort_key(path_literal(path))}, id)"
        f" WHERE org_id = {_literal(org_id)} AND type = {_literal(object_type)}"
    )


def drop_index_sql(name: str) -> str:
    if not name.startswith(NAME_PREFIX) or not name.replace("_", "").isalnum():
        raise ValueError("not a workspace index name")
    return f"DROP INDEX CONCURRENTLY IF EXISTS {name}"
