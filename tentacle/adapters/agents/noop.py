"""The no-op agent: returns its inputs (joins branches, marks points in a plan)."""

from __future__ import annotations

from tentacle.service.ports import AgentResult, StepWork


class NoopRuntime:
    async def run(self, work: StepWork) -> AgentResult:
        return AgentResult(output=dict(work.inputs))
