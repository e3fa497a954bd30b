"""JSON Schema per object type: checking a schema, and a document against it."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

MAX_SCHEMA_BYTES: Final = 64 * 1024
MAX_REPORTED: Final = 5


class SchemaInvalid(ValueError):
    pass


def check_schema(schema: dict[str, Any]) -> None:
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        raise SchemaInvalid(f"a type's schema is limited to {MAX_SCHEMA_BYTES} bytes")
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        raise SchemaInvalid(f"not a valid JSON Schema: {exc.message[:300]}") from None


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Validator:
    schema = json.loads(schema_json)
    cls = validator_for(schema, default=Draft202012Validator)
    validator: Validator = cls(schema)
    return validator


def violations(schema: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """Why `data` does not match `schema` (at most a few reasons, each with its path)."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    found: list[str] = []
    for error in validator.iter_errors(data):
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        found.append(f"{where}: {error.message[:200]}")
        if len(found) >= MAX_REPORTED:
            break
    return found
