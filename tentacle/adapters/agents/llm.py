"""Prompt-defined agents: the agent's system prompt and its inputs go to the model chosen by
its task type (or the agent's own `model`, see `LLMGateway.model_for`); the answer must be JSON
matching the agent's output schema.

An agent with `tools` may call them first (built-in primitive agents, see `tools.py`): each
round the model either calls tools, whose results it is shown, or answers; after
`MAX_TOOL_ROUNDS` rounds it must answer without tools.

The organisation's memory (core memories, then archival ones relevant to the agent and its
inputs) is added to the system prompt under a token budget when the service provides it; a
memory lookup that fails leaves it out rather than failing the step.

Budgets are reserved by the gateway before every model call (agent within the task, task, the
organisation's day) and settled after it with the real cost.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

from contracts.tentacle.errors import TentacleErrorCode
from shared.llm import BudgetScope, ChatRequest, LLMGateway
from shared.logging import get_logger
from tentacle.adapters.agents.tools import ToolBox, assistant_message, tool_message
from tentacle.domain.errors import TentacleError
from tentacle.service.ports import AgentResult, PromptMemories, StepWork

_ANSWER: Final = "Answer with one JSON object matching the output schema, nothing else."
MAX_TOOL_ROUNDS: Final = 5
_MEMORY_HEADING: Final = "What your organisation knows (use it where it applies):"
_QUERY_CHARS: Final = 1000

log = get_logger(__name__)


class LLMRuntime:
    def __init__(
        self,
        gateway: LLMGateway,
        tools: ToolBox | None = None,
        memories: PromptMemories | None = None,
    ) -> None:
        self.gateway = gateway
        self.tools = tools
        self.memories = memories

    async def run(self, work: StepWork) -> AgentResult:
        agent = work.agent
        assert agent.task_type is not None
        known = await self._memories(work)
        system = "\n\n".join(p for p in (agent.system_prompt.strip(), known, _ANSWER) if p)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": json.dumps(work.inputs, ensure_ascii=False)},
        ]
        specs = self.tools.specs(agent.tools) if self.tools is not None and agent.tools else []
        scope = BudgetScope(org_id=work.org_id, task_id=work.task_id, agent=agent.name)
        cost = Decimal(0)
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            offered = specs if round_ < MAX_TOOL_ROUNDS else []
            request = ChatRequest(
                task_type=agent.task_type,
                messages=messages,
                tools=offered,
                json_schema=agent.outputs,
                model=agent.model,
            )
            completion = await self.gateway.complete(request, scope=scope)
            cost += completion.cost_usd
            if not (offered and completion.tool_calls):
                return AgentResult(output=_answer(agent.name, completion.text), cost_usd=cost)
            assert self.tools is not None
            messages.append(assistant_message(completion.text, completion.tool_calls))
            for call in completion.tool_calls:
                result = await self.tools.call(work, call)
                messages.append(tool_message(call, result))
        raise AssertionError("unreachable: the last round offers no tools")

    async def _memories(self, work: StepWork) -> str:
        if self.memories is None:
            return ""
        query = f"{work.agent.description}\n{json.dumps(work.inputs, ensure_ascii=False)}"
        try:
            block = await self.memories(work.org_id, work.actor, query[:_QUERY_CHARS])
        except Exception as exc:  # memory helps an agent; its absence must not fail the step
            log.warning("agent.memory_unavailable", agent=work.agent.name, error=str(exc))
            return ""
        return f"{_MEMORY_HEADING}\n{block}" if block else ""


def _answer(agent: str, text: str) -> dict[str, Any]:
    try:
        output = json.loads(text)
    except ValueError:
        raise TentacleError(
            TentacleErrorCode.AGENT_OUTPUT_INVALID, f"{agent}: the model's answer is not JSON"
        ) from None
    if not isinstance(output, dict):
        raise TentacleError(
            TentacleErrorCode.AGENT_OUTPUT_INVALID,
            f"{agent}: the model's answer is not a JSON object",
        )
    return output
