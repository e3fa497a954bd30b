"""Tools of prompt-defined agents: the built-in primitive agents, called by the model.

An llm agent's YAML lists `tools` by agent name (`tools: [http_fetch]`); the model sees each
as a function whose parameters are the agent's input schema, and its calls run on that agent's
runtime inside the step. Only what needs no person's approval may run this way: a call whose
inputs the checkpoint rules would stop (a POST, saving a file, a message) is refused and the
model is told to leave it to a step of its own, so a tool can never slip past a checkpoint.

Each call is journalled under the step attempt's key and a hash of the call, as a node of the
execution tree under the step: a redelivered attempt whose model asks for the same call gets
the recorded result instead of calling again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from jsonschema import Draft202012Validator

from contracts.ids import new_id
from contracts.tentacle.plans import Risk
from shared.errors import PermanentError
from shared.llm import ToolCall, ToolSpec
from tentacle.adapters.journal import Journal
from tentacle.domain.agents import AgentSpec, CheckpointMode, Runtime
from tentacle.service.ports import AgentRuntime, Effect, StepWork

MAX_RESULT_CHARS: Final = 8_000
"""What the model is shown of a tool's output (the rest would only cost tokens)."""


class ToolBox:
    def __init__(
        self,
        agents: Mapping[str, AgentSpec],
        runtimes: Callable[[], Mapping[Runtime, AgentRuntime]],
        journal: Journal,
    ) -> None:
        """`runtimes`: the service's agent runtimes, looked up when a tool is called (the llm
        runtime that calls tools is one of them)."""
        self._agents = agents
        self._runtimes = runtimes
        self._journal = journal

    def tool(self, name: str) -> AgentSpec | None:
        """The agent behind a tool name, if it can be one (a primitive, not another model)."""
        agent = self._agents.get(name)
        if agent is None or agent.runtime is Runtime.LLM or agent.runtime not in self._runtimes():
            return None
        return agent

    def specs(self, names: list[str]) -> list[ToolSpec]:
        found = [a for a in (self.tool(n) for n in names) if a is not None]
        return [
            ToolSpec(name=a.name, description=a.description.strip(), parameters=a.inputs)
            for a in found
        ]

    async def call(self, work: StepWork, call: ToolCall) -> dict[str, Any]:
        """The call's result for the model: {"output": ...} or {"error": ...}."""
        agent = self.tool(call.name) if call.name in work.agent.tools else None
        if agent is None:
            return {"error": f"there is no tool named {call.name}"}
        inputs = agent.with_defaults(call.arguments)
        problem = next(iter(Draft202012Validator(agent.inputs).iter_errors(call.arguments)), None)
        if problem is not None:
            return {"error": f"invalid arguments: {problem.message[:300]}"}
        reason = needs_approval(agent, inputs)
        if reason is not None:
            return {
                "error": f"not allowed as a tool call ({reason}): it needs a person's approval, "
                "so it must be a step of the plan"
            }
        digest = hashlib.sha256(
            json.dumps([call.name, call.arguments], sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        effect = Effect(
            org_id=work.org_id,
            key=f"{work.idempotency_key}:tool:{digest}",
            task_id=work.task_id,
            step_id=work.step_id,
            plan_version=work.plan_version,
            attempt=work.attempt,
            tool=f"agent.{agent.name}",
            call_id=new_id(),
            parent_call_id=work.call_id,
            root_call_id=work.root_call_id,
            undo=work.undo,
        )
        earlier = await self._journal.begin(effect)
        if earlier is not None and earlier.status == "done":
            return {"output": earlier.result}
        # Nothing risky runs here, so an attempt cut off mid-call may simply call again.
        inner = replace(
            work,
            agent=agent,
            inputs=dict(call.arguments),
            idempotency_key=effect.key,
            call_id=effect.call_id or work.call_id,
            parent_call_id=work.call_id,
        )
        try:
            result = await self._runtimes()[agent.runtime].run(inner)
        except PermanentError as exc:
            await self._journal.finish(effect, "failed", {"error": str(exc)})
            return {"error": str(exc)[:1000]}
        await self._journal.finish(effect, "done", result.output)
        return {"output": result.output}


def needs_approval(agent: AgentSpec, inputs: dict[str, Any]) -> str | None:
    """Why the checkpoint rules would stop this call, if they would."""
    if agent.checkpoint.mode is CheckpointMode.ALWAYS:
        return f"{agent.name} always asks first"
    if agent.risk is Risk.HIGH:
        return "high risk"
    for effect in agent.effects:
        if effect.applies(inputs):
            return effect.reason
    return None


def tool_message(call: ToolCall, result: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(result, ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + " …(cut)"
    return {"role": "tool", "tool_call_id": call.id, "content": text}


def assistant_message(text: str, calls: list[ToolCall]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": text or None,
        "tool_calls": [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.raw_arguments or json.dumps(c.arguments),
                },
            }
            for c in calls
        ],
    }
