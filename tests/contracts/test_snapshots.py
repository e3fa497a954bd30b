"""The committed JSON Schema snapshots match the models: wire changes are reviewed changes."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from contracts import snapshots
from contracts.model import ContractModel


def test_snapshots_match_the_models() -> None:
    problems = snapshots.drift()
    assert problems == [], (
        "contract schemas changed; review and run `python -m contracts.snapshots --update`:\n"
        + "\n".join(problems)
    )


def test_drift_is_detected(tmp_path: Path, monkeypatch: object) -> None:
    snapshots.update(tmp_path)
    assert snapshots.drift(tmp_path) == []
    victim = next(tmp_path.glob("*.json"))
    victim.write_text(victim.read_text().replace('"type"', '"kind"', 1))
    (tmp_path / "GoneV1.json").write_text("{}")
    problems = snapshots.drift(tmp_path)
    assert f"changed {victim.name}" in problems
    assert "stale snapshot GoneV1.json (no such model)" in problems
    victim.unlink()
    assert f"missing snapshot {victim.name}" in snapshots.drift(tmp_path)


def test_a_new_field_changes_the_schema() -> None:
    class WidgetV1(ContractModel):
        name: str

    class WidgetV1Changed(ContractModel):
        name: str
        colour: str | None = Field(default=None)

    assert snapshots.render(WidgetV1) != snapshots.render(WidgetV1Changed)
