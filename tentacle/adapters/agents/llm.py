"""Prompt-defined agents: the agent's system prompt and its inputs go to the model chosen by
its task type; the answer must be JSON matching the agent's output schema.

Budgets are reserved by the gateway before the call (agent within the task, task, the
organisation's day) and settled after it with the real cost.
"""

from __future__ import annotations

import json
from typing import Final

from contracts.tentacle.errors import TentacleErrorCode
from shared.llm import BudgetScope, ChatRequest, LLMGateway
from tentacle.domain.errors import TentacleError
from tentacle.service.ports import AgentResult, StepWork

_ANSWER: Final = "Answer with one JSON object matching the output schema, nothing else."


class LLMRuntime:
    def __init__(self, gateway: LLMGateway) -> None:
        self.gateway = gateway

    async def run(self, work: StepWork) -> AgentResult:
        agent = work.agent
        assert agent.task_type is not None
        system = "\n\n".join(p for p in (agent.system_prompt.strip(), _ANSWER) if p)
        request = ChatRequest(
            task_type=agent.task_type,
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": json.dumps(work.inputs, ensure_ascii=False)},
            ],
            json_schema=agent.outputs,
        )
        completion = await self.gateway.complete(
            request,
            scope=BudgetScope(org_id=work.org_id, task_id=work.task_id, agent=agent.name),
        )
        try:
            output = json.loads(completion.text)
        except ValueError:
            raise TentacleError(
                TentacleErrorCode.AGENT_OUTPUT_INVALID,
                f"{agent.name}: the model's answer is not JSON",
            ) from None
        if not isinstance(output, dict):
            raise TentacleError(
                TentacleErrorCode.AGENT_OUTPUT_INVALID,
                f"{agent.name}: the model's answer is not a JSON object",
            )
        return AgentResult(output=output, cost_usd=completion.cost_usd)
