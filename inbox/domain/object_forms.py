"""An object's edit form built from its type's JSON Schema, and the form's answers turned back
into the object's data (pure: no web, no bus)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from inbox.domain.errors import InvalidRequest

EXTRA: Final = "_extra"
"""The form field holding, as JSON, whatever the schema does not describe (all of it if none)."""
MAX_FIELDS: Final = 50


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label: str
    kind: str
    """`text`, `number`, `integer`, `boolean`, `choice` or `json`."""
    value: str
    required: bool
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def checked(self) -> bool:
        return self.value == "true"


def _kind(spec: dict[str, Any]) -> str:
    if isinstance(spec.get("enum"), list) and all(isinstance(c, str) for c in spec["enum"]):
        return "choice"
    kind = spec.get("type")
    if kind == "string":
        return "text"
    if kind in ("number", "integer", "boolean"):
        return str(kind)
    return "json"


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value is True else ""
    if kind in ("text", "choice") and isinstance(value, str):
        return value
    if kind in ("number", "integer") and isinstance(value, int | float):
        return str(value)
    return json.dumps(value, indent=2, ensure_ascii=False)


def properties(schema: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    props = (schema or {}).get("properties")
    if not isinstance(props, dict):
        return {}
    return {k: v for k, v in list(props.items())[:MAX_FIELDS] if isinstance(v, dict)}


def fields_of(schema: dict[str, Any] | None, data: dict[str, Any]) -> list[FormField]:
    """One field per schema property, then one JSON field for everything else."""
    props = properties(schema)
    required = set((schema or {}).get("required") or [])
    out: list[FormField] = []
    for name, spec in props.items():
        kind = _kind(spec)
        # A value the schema does not expect (an older object) is edited as JSON.
        value = data.get(name)
        if value is not None and _shown(kind, value).startswith(("{", "[")) and kind != "json":
            kind = "json"
        out.append(
            FormField(
                name=name,
                label=str(spec.get("title") or name),
                kind=kind,
                value=_shown(kind, value),
                required=name in required,
                choices=tuple(spec.get("enum") or ()) if kind == "choice" else (),
                description=str(spec.get("description") or ""),
            )
        )
    rest = {k: v for k, v in data.items() if k not in props}
    out.append(
        FormField(
            name=EXTRA,
            label="Other fields (JSON)" if props else "Data (JSON)",
            kind="json",
            value=json.dumps(rest, indent=2, ensure_ascii=False) if rest or not props else "",
            required=False,
        )
    )
    return out


def data_of(schema: dict[str, Any] | None, answers: dict[str, str]) -> dict[str, Any]:
    """The document a submitted form describes; a field that does not parse is refused."""
    data: dict[str, Any] = {}
    extra = answers.get(EXTRA, "").strip()
    if extra:
        try:
            parsed = json.loads(extra)
        except ValueError:
            raise InvalidRequest("the JSON fields are not valid JSON") from None
        if not isinstance(parsed, dict):
            raise InvalidRequest("the JSON fields must be a JSON object")
        data.update(parsed)
    for name, spec in properties(schema).items():
        kind = _kind(spec)
        raw = answers.get(f"f.{name}")
        if kind == "boolean":
            data[name] = raw == "true"
            continue
        if raw is None or not raw.strip():
            data.pop(name, None)
            continue
        data[name] = _parsed(name, kind, answers.get(f"k.{name}", kind), raw)
    return data


def _parsed(name: str, kind: str, shown_as: str, raw: str) -> Any:
    try:
        if shown_as == "json":
            return json.loads(raw)
        if kind == "integer":
            return int(raw)
        if kind == "number":
            number = float(raw)
            return int(number) if number.is_integer() and "." not in raw else number
    except ValueError:
        raise InvalidRequest(f"{name}: not a valid {shown_as}") from None
    return raw
