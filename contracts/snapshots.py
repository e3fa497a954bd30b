"""JSON Schema snapshots of every model on the wire, committed beside the contracts.

A change to a model changes its schema; the drift test fails until the snapshot is updated on
purpose (`python -m contracts.snapshots --update`, or `fluxos contracts snapshot`), so every
change to the wire format is seen in review. Within a version only optional fields may be added.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from contracts.model import ContractModel
from contracts.registry import models

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render(model: type[ContractModel]) -> str:
    schema = model.model_json_schema(mode="validation")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected() -> dict[str, str]:
    return {f"{name}.json": render(model) for name, model in models().items()}


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """What differs between the models and the committed snapshots, one line per file."""
    want = expected()
    have = {p.name: p.read_text() for p in directory.glob("*.json")}
    problems = [f"missing snapshot {n}" for n in sorted(want.keys() - have.keys())]
    problems += [f"stale snapshot {n} (no such model)" for n in sorted(have.keys() - want.keys())]
    problems += [f"changed {n}" for n in sorted(want.keys() & have.keys()) if want[n] != have[n]]
    return problems


def update(directory: Path = SCHEMA_DIR) -> list[str]:
    """Write every snapshot, remove stale ones; returns what changed."""
    changed = drift(directory)
    directory.mkdir(parents=True, exist_ok=True)
    want = expected()
    for name, text in want.items():
        (directory / name).write_text(text)
    for path in directory.glob("*.json"):
        if path.name not in want:
            path.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.snapshots", description=__doc__)
    parser.add_argument("--update", action="store_true", help="rewrite the snapshots")
    args = parser.parse_args(argv)
    if args.update:
        for line in update():
            print(line)
        return 0
    problems = drift()
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
