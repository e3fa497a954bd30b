"""The LLM gateway: offline by default, litellm's real HTTP path to a stub, budgets, errors."""

from __future__ import annotations

from decimal import Decimal

import litellm
import pytest
from pydantic import SecretStr

from contracts.envelope import Actor, ActorKind
from shared.context import CallContext, enter_call, leave_call
from shared.llm import (
    BudgetExceeded,
    BudgetScope,
    ChatRequest,
    Finished,
    LLMGateway,
    LLMRejected,
    LLMSettings,
    LLMUnavailable,
    OfflineReply,
    OfflineRequest,
    OfflineResponders,
    TextDelta,
    ToolSpec,
)
from shared.testing.llm_stub import OpenAIStub, Scripted

SCOPE = BudgetScope(org_id="acme", task_id="t-1", agent="summarize")
CREATE_TASK = ToolSpec(
    name="create_task",
    description="Start a background task.",
    parameters={"type": "object", "properties": {"goal": {"type": "string"}}, "required": ["goal"]},
)


class Ledger:
    """A budget ledger in memory: our own port, so a hand-written fake is the honest test."""

    def __init__(self, limit: Decimal) -> None:
        self.limit = limit
        self.held: dict[str, Decimal] = {}
        self.spent = Decimal(0)
        self.events: list[tuple[str, Decimal]] = []

    async def reserve(self, scope: BudgetScope, amount: Decimal) -> str:
        if self.spent + sum(self.held.values()) + amount > self.limit:
            raise BudgetExceeded("task", limit=self.limit, needed=amount)
        rid = f"r{len(self.events)}"
        self.held[rid] = amount
        self.events.append(("reserve", amount))
        return rid

    async def settle(self, reservation_id: str, amount: Decimal) -> None:
        self.held.pop(reservation_id)
        self.spent += amount
        self.events.append(("settle", amount))

    async def release(self, reservation_id: str) -> None:
        self.events.append(("release", self.held.pop(reservation_id)))


def _real(stub: OpenAIStub, models: dict[str, str] | None = None) -> LLMSettings:
    return LLMSettings(
        model="openai/gpt-4o-mini",
        models=models or {},
        api_base=stub.base_url,
        api_key=SecretStr("sk-test"),
    )


def _price(prompt: int, completion: int) -> Decimal:
    p, c = litellm.cost_per_token(
        model="openai/gpt-4o-mini", prompt_tokens=prompt, completion_tokens=completion
    )
    return Decimal(str(p)) + Decimal(str(c))


# ------------------------------------------------------------------------------------ offline
async def test_offline_by_default_labelled_free_and_deterministic() -> None:
    gateway = LLMGateway(LLMSettings())
    request = ChatRequest(task_type="summarize", messages=[{"role": "user", "content": "Hi there"}])
    first = await gateway.complete(request, scope=None)
    second = await gateway.complete(request, scope=None)
    assert first.model == "fluxos-offline/summarize"
    assert first.offline
    assert first.text.startswith("[offline model]")
    assert first.text == second.text
    assert first.cost_usd == 0


async def test_offline_responders_answer_with_tool_calls_and_json() -> None:
    responders = OfflineResponders()

    def chat(request: OfflineRequest) -> OfflineReply:
        assert request.tool_names == ["create_task"]
        return OfflineReply(tool_calls=[("create_task", {"goal": request.last_user_text})])

    responders.register("chat", chat)
    gateway = LLMGateway(LLMSettings(), responders=responders)
    done = await gateway.complete(
        ChatRequest(
            task_type="chat",
            messages=[{"role": "user", "content": "summarize the news"}],
            tools=[CREATE_TASK],
        ),
        scope=None,
    )
    assert [(c.name, c.arguments) for c in done.tool_calls] == [
        ("create_task", {"goal": "summarize the news"})
    ]
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "kind": {"enum": ["a", "b"]}},
        "required": ["title", "kind"],
    }
    structured = await gateway.complete(
        ChatRequest(
            task_type="extract", messages=[{"role": "user", "content": "x"}], json_schema=schema
        ),
        scope=None,
    )
    assert structured.text == '{"title": "", "kind": "a"}'


async def test_offline_streams_word_by_word() -> None:
    gateway = LLMGateway(LLMSettings())
    request = ChatRequest(task_type="chat", messages=[{"role": "user", "content": "one two three"}])
    events = [e async for e in gateway.stream(request, scope=None)]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert len(deltas) > 1
    assert "".join(deltas) == finished.completion.text


# ------------------------------------------------------------------------------------ real path
async def test_a_real_model_goes_over_http_with_cost_from_the_model_map(
    llm_stub: OpenAIStub,
) -> None:
    llm_stub.enqueue(
        Scripted(
            tool_calls=[("create_task", {"goal": "news"})],
            prompt_tokens=1000,
            completion_tokens=500,
        )
    )
    ledger = Ledger(limit=Decimal("1"))
    gateway = LLMGateway(_real(llm_stub), ledger=ledger)
    done = await gateway.complete(
        ChatRequest(
            task_type="chat",
            messages=[{"role": "user", "content": "do it"}],
            tools=[CREATE_TASK],
            max_tokens=300,
        ),
        scope=SCOPE,
    )
    assert not done.offline
    assert done.tool_calls[0].name == "create_task"
    assert done.tool_calls[0].arguments == {"goal": "news"}
    assert done.cost_usd == _price(1000, 500)
    sent = llm_stub.requests[-1]
    assert sent["model"] == "gpt-4o-mini"
    assert sent["max_tokens"] == 300
    assert sent["tools"][0]["function"]["name"] == "create_task"
    # Reserved the worst case first, then settled at the real cost.
    kind, held = ledger.events[0]
    assert kind == "reserve"
    assert held >= _price(1, 300)
    assert ledger.events[1] == ("settle", done.cost_usd)
    assert ledger.spent == done.cost_usd


async def test_the_model_is_chosen_by_task_type(llm_stub: OpenAIStub) -> None:
    gateway = LLMGateway(_real(llm_stub, models={"plan": "openai/gpt-4o"}))
    assert gateway.model_for("plan") == "openai/gpt-4o"
    assert gateway.model_for("summarize") == "openai/gpt-4o-mini"
    await gateway.complete(
        ChatRequest(task_type="plan", messages=[{"role": "user", "content": "x"}]), scope=None
    )
    assert llm_stub.requests[-1]["model"] == "gpt-4o"
    # A caller's preferred model (an agent's own) stands unless the task type is configured.
    assert gateway.model_for("summarize", "openai/o1") == "openai/o1"
    assert gateway.model_for("plan", "openai/o1") == "openai/gpt-4o"
    # Offline deployments stay offline whatever a caller prefers.
    assert LLMGateway(LLMSettings()).model_for("plan", "openai/o1") == "fluxos-offline/plan"


async def test_an_exhausted_budget_fails_closed_before_any_call(llm_stub: OpenAIStub) -> None:
    gateway = LLMGateway(_real(llm_stub), ledger=Ledger(limit=Decimal("0.0000001")))
    with pytest.raises(BudgetExceeded) as caught:
        await gateway.complete(
            ChatRequest(task_type="chat", messages=[{"role": "user", "content": "x"}]), scope=SCOPE
        )
    assert caught.value.code == "llm.budget_exceeded"
    assert llm_stub.requests == []


async def test_embeddings_are_reserved_settled_at_the_reported_usage_and_refused_when_over(
    llm_stub: OpenAIStub,
) -> None:
    model = "openai/text-embedding-3-small"
    ledger = Ledger(limit=Decimal("1"))
    gateway = LLMGateway(_real(llm_stub), ledger=ledger)
    found = await gateway.embed(model, "the pricing decision", scope=SCOPE)
    assert found.vector == llm_stub.embed("the pricing decision")
    # The stub reports 8 prompt tokens; the cost is litellm's price for them.
    price, _ = litellm.cost_per_token(model=model, prompt_tokens=8, completion_tokens=0)
    assert found.cost_usd == Decimal(str(price)) > 0
    assert [kind for kind, _ in ledger.events] == ["reserve", "settle"]
    assert ledger.spent == found.cost_usd

    broke = LLMGateway(_real(llm_stub), ledger=Ledger(limit=Decimal(0)))
    with pytest.raises(BudgetExceeded):
        await broke.embed(model, "anything", scope=SCOPE)
    assert len([r for r in llm_stub.requests if "input" in r]) == 1


@pytest.mark.parametrize(
    ("reply", "error", "code"),
    [
        (Scripted(status=429, retry_after=7), LLMUnavailable, "llm.unavailable"),
        (Scripted(status=503), LLMUnavailable, "llm.unavailable"),
        (Scripted(status=400, error_message="bad"), LLMRejected, "llm.rejected"),
        (Scripted(status=401), LLMRejected, "llm.rejected"),
    ],
)
async def test_provider_errors_map_to_codes_and_release_the_budget(
    llm_stub: OpenAIStub, reply: Scripted, error: type[Exception], code: str
) -> None:
    llm_stub.enqueue(reply)
    ledger = Ledger(limit=Decimal("1"))
    gateway = LLMGateway(_real(llm_stub), ledger=ledger)
    with pytest.raises(error) as caught:
        await gateway.complete(
            ChatRequest(task_type="chat", messages=[{"role": "user", "content": "x"}]), scope=SCOPE
        )
    assert getattr(caught.value, "code", None) == code
    assert len(llm_stub.requests) == 1  # no hidden retries: the caller's retry owner decides
    assert [kind for kind, _ in ledger.events] == ["reserve", "release"]
    assert ledger.spent == 0
    if reply.retry_after:
        assert isinstance(caught.value, LLMUnavailable)
        assert caught.value.retry_after == 7


async def test_streaming_over_http_settles_the_real_cost(llm_stub: OpenAIStub) -> None:
    llm_stub.enqueue(Scripted(text="alpha beta gamma", prompt_tokens=40, completion_tokens=3))
    ledger = Ledger(limit=Decimal("1"))
    gateway = LLMGateway(_real(llm_stub), ledger=ledger)
    request = ChatRequest(task_type="chat", messages=[{"role": "user", "content": "x"}])
    events = [e async for e in gateway.stream(request, scope=SCOPE)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text.split() == ["alpha", "beta", "gamma"]
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.completion.cost_usd == _price(40, 3)
    assert ledger.spent == _price(40, 3)


async def test_a_stream_cancelled_midway_settles_what_was_generated(llm_stub: OpenAIStub) -> None:
    llm_stub.enqueue(Scripted(text=" ".join(f"w{i}" for i in range(50))))
    ledger = Ledger(limit=Decimal("1"))
    gateway = LLMGateway(_real(llm_stub), ledger=ledger)
    request = ChatRequest(task_type="chat", messages=[{"role": "user", "content": "x"}])
    stream = gateway.stream(request, scope=SCOPE)
    async for event in stream:
        assert isinstance(event, TextDelta)
        break
    await stream.aclose()  # type: ignore[attr-defined]
    assert ledger.held == {}
    assert [kind for kind, _ in ledger.events] == ["reserve", "settle"]
    assert ledger.spent <= ledger.events[0][1]


async def test_each_call_is_a_child_of_the_running_call(llm_stub: OpenAIStub) -> None:
    gateway = LLMGateway(_real(llm_stub))
    parent = CallContext.root(actor=Actor(kind=ActorKind.AGENT, id="summarize"), org_id="acme")
    token = enter_call(parent)
    try:
        done = await gateway.complete(
            ChatRequest(task_type="chat", messages=[{"role": "user", "content": "x"}]), scope=None
        )
    finally:
        leave_call(token)
    assert done.call_id != parent.call_id
    assert llm_stub.requests[-1].get("metadata", {}).get("call_id", done.call_id) == done.call_id
