"""One way to call a model: choose it by task type, reserve budget, call, settle, account.

Every call goes through litellm, the offline model included, so budgets, costs (litellm's model
map), tool calls and streaming behave the same whether or not an API key is configured.
litellm's own retries are off: a failed call raises, and the caller's one retry owner (the
JetStream consumer running the step) decides when to try again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import litellm
from litellm import exceptions as provider_errors

from contracts.ids import new_id
from shared.context import current_call
from shared.llm.budget import BudgetLedger, BudgetScope
from shared.llm.errors import LLMRejected, LLMUnavailable
from shared.llm.offline import (
    OFFLINE_PROVIDER,
    RESPONDERS_KEY,
    OfflineModel,
    OfflineResponders,
)
from shared.llm.settings import LLMSettings
from shared.llm.types import (
    ChatRequest,
    Completion,
    Embedding,
    Finished,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from shared.logging import get_logger

log = get_logger(__name__)

_TRANSIENT = (
    provider_errors.RateLimitError,
    provider_errors.Timeout,
    provider_errors.APIConnectionError,
    provider_errors.ServiceUnavailableError,
    provider_errors.InternalServerError,
)
_PERMANENT = (
    provider_errors.BadRequestError,
    provider_errors.AuthenticationError,
    provider_errors.PermissionDeniedError,
    provider_errors.NotFoundError,
    provider_errors.ContextWindowExceededError,
    provider_errors.UnprocessableEntityError,
)


def _install_offline_model() -> None:
    """litellm's provider map is process-wide; one offline handler serves every gateway."""
    if any(e.get("provider") == OFFLINE_PROVIDER for e in litellm.custom_provider_map):
        return
    entry = {"provider": OFFLINE_PROVIDER, "custom_handler": OfflineModel()}
    litellm.custom_provider_map = [*litellm.custom_provider_map, entry]  # type: ignore[list-item]


class LLMGateway:
    def __init__(
        self,
        settings: LLMSettings,
        *,
        ledger: BudgetLedger | None = None,
        responders: OfflineResponders | None = None,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.responders = responders or OfflineResponders()
        _install_offline_model()

    # ---------------------------------------------------------------- models and money
    def model_for(self, task_type: str, preferred: str | None = None) -> str:
        """The per-task-type setting, else the caller's preference (only when real providers
        are configured at all), else the default model, else the offline model."""
        online = bool(self.settings.model or self.settings.models)
        chosen = self.settings.models.get(task_type) or (preferred if online else None)
        return chosen or self.settings.model or f"{OFFLINE_PROVIDER}/{task_type}"

    @staticmethod
    def is_offline(model: str) -> bool:
        return model.startswith(f"{OFFLINE_PROVIDER}/")

    def estimate(self, model: str, request: ChatRequest) -> Decimal:
        """The most this call can cost: its prompt plus the whole output allowance."""
        if self.is_offline(model):
            return Decimal(0)
        prompt = litellm.token_counter(
            model=model,
            messages=request.messages,
            tools=[t.to_openai() for t in request.tools] or None,
        )
        output = request.max_tokens or self.settings.max_output_tokens
        return self._price(model, prompt, output)

    @staticmethod
    def _price(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
        except Exception:
            # A model litellm has no price for (a local model, a new release): free to us, and
            # said once per call in the log rather than failing the call.
            log.warning("llm.unpriced_model", model=model)
            return Decimal(0)
        return Decimal(str(prompt_cost)) + Decimal(str(completion_cost))

    # ---------------------------------------------------------------- calls
    def _kwargs(self, model: str, request: ChatRequest, call_id: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": request.messages,
            "max_tokens": request.max_tokens or self.settings.max_output_tokens,
            "temperature": request.temperature,
            "timeout": self.settings.timeout_seconds,
            "num_retries": 0,
            "metadata": {"call_id": call_id},
        }
        if self.is_offline(model):
            kwargs["metadata"][RESPONDERS_KEY] = self.responders.key
        if request.tools:
            kwargs["tools"] = [t.to_openai() for t in request.tools]
        if request.json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.task_type, "schema": request.json_schema},
            }
        if not self.is_offline(model):
            if self.settings.api_base:
                kwargs["api_base"] = self.settings.api_base
            if self.settings.api_key is not None:
                kwargs["api_key"] = self.settings.api_key.get_secret_value()
        return kwargs

    async def _reserve(
        self, scope: BudgetScope | None, amount: Decimal, call_id: str
    ) -> str | None:
        if self.ledger is None or scope is None:
            return None
        return await self.ledger.reserve(dataclasses.replace(scope, call_id=call_id), amount)

    async def complete(self, request: ChatRequest, *, scope: BudgetScope | None) -> Completion:
        model = self.model_for(request.task_type, request.model)
        call_id = _child_call_id()
        reservation = await self._reserve(scope, self.estimate(model, request), call_id)
        started = time.perf_counter()
        try:
            response = await litellm.acompletion(**self._kwargs(model, request, call_id))
        except BaseException as exc:
            if reservation is not None and self.ledger is not None:
                await self.ledger.release(reservation)
            raise _translate(exc) from exc
        completion = self._completion(model, response, call_id)
        if reservation is not None and self.ledger is not None:
            await self.ledger.settle(reservation, completion.cost_usd)
        log.info(
            "llm.call",
            model=model,
            task_type=request.task_type,
            llm_call_id=call_id,
            prompt_tokens=completion.usage.prompt_tokens,
            completion_tokens=completion.usage.completion_tokens,
            cost_usd=str(completion.cost_usd),
            seconds=round(time.perf_counter() - started, 3),
        )
        return completion

    async def stream(
        self, request: ChatRequest, *, scope: BudgetScope | None
    ) -> AsyncIterator[StreamEvent]:
        """Text as it is generated, then the whole completion. Closing the iterator early
        (the user cancelled) stops the call and settles what was generated so far."""
        model = self.model_for(request.task_type, request.model)
        call_id = _child_call_id()
        reservation = await self._reserve(scope, self.estimate(model, request), call_id)
        kwargs = self._kwargs(model, request, call_id)
        chunks: list[Any] = []
        settled = False
        try:
            try:
                response = await litellm.acompletion(
                    **kwargs, stream=True, stream_options={"include_usage": True}
                )
            except Exception as exc:
                raise _translate(exc) from exc
            async for chunk in response:
                chunks.append(chunk)
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield TextDelta(delta)
            built = litellm.stream_chunk_builder(chunks, messages=request.messages)
            completion = self._completion(model, built, call_id)
            if reservation is not None and self.ledger is not None:
                await self.ledger.settle(reservation, completion.cost_usd)
            settled = True
            yield Finished(completion)
        finally:
            if not settled and reservation is not None and self.ledger is not None:
                await self._settle_partial(reservation, model, request, chunks)

    async def _settle_partial(
        self, reservation: str, model: str, request: ChatRequest, chunks: list[Any]
    ) -> None:
        assert self.ledger is not None
        if not chunks:
            await self.ledger.release(reservation)
            return
        with contextlib.suppress(Exception):
            built = litellm.stream_chunk_builder(chunks, messages=request.messages)
            usage = getattr(built, "usage", None)
            if usage is not None:
                cost = self._price(model, usage.prompt_tokens, usage.completion_tokens)
                await self.ledger.settle(reservation, cost)
                return
        # Nothing countable came back: keep the whole estimate rather than under-charge.
        await self.ledger.settle(reservation, self.estimate(model, request))

    async def embed(
        self, model: str, text: str, *, scope: BudgetScope | None, max_chars: int = 8000
    ) -> Embedding:
        """The vector of `text` from an embedding model, paid for like any call: reserved
        (raising `BudgetExceeded`, no call made, if a limit of `scope` would be passed),
        then settled at what the provider reports."""
        text = text[:max_chars]
        call_id = _child_call_id()
        estimate = self._price(model, litellm.token_counter(model=model, text=text), 0)
        reservation = await self._reserve(scope, estimate, call_id)
        kwargs: dict[str, Any] = {
            "model": model,
            "input": [text],
            "timeout": self.settings.timeout_seconds,
            "metadata": {"call_id": call_id},
        }
        if self.settings.api_base:
            kwargs["api_base"] = self.settings.api_base
        if self.settings.api_key is not None:
            kwargs["api_key"] = self.settings.api_key.get_secret_value()
        started = time.perf_counter()
        try:
            response = await litellm.aembedding(**kwargs)
            vector = [float(x) for x in response.data[0]["embedding"]]
        except BaseException as exc:
            if reservation is not None and self.ledger is not None:
                await self.ledger.release(reservation)
            raise _translate(exc) from exc
        usage = getattr(response, "usage", None)
        tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        cost = self._price(model, tokens, 0) if tokens else estimate
        if reservation is not None and self.ledger is not None:
            await self.ledger.settle(reservation, cost)
        log.info(
            "llm.embedding",
            model=model,
            llm_call_id=call_id,
            prompt_tokens=tokens,
            cost_usd=str(cost),
            seconds=round(time.perf_counter() - started, 3),
        )
        return Embedding(vector, model, tokens, cost, call_id)

    # ---------------------------------------------------------------- results
    def _completion(self, model: str, response: Any, call_id: str) -> Completion:
        choice = response.choices[0]
        message = choice.message
        calls = [_tool_call(c) for c in (getattr(message, "tool_calls", None) or [])]
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        output = int(getattr(usage, "completion_tokens", 0) or 0)
        offline = self.is_offline(model)
        cost = Decimal(0) if offline else self._price(model, prompt, output)
        return Completion(
            text=message.content or "",
            tool_calls=calls,
            model=model,
            offline=offline,
            usage=Usage(prompt, output),
            cost_usd=cost,
            call_id=call_id,
            finish_reason=str(choice.finish_reason or ""),
        )


def _tool_call(call: Any) -> ToolCall:
    raw = call.function.arguments or ""
    try:
        arguments = json.loads(raw) if raw else {}
    except ValueError:
        arguments = {}
    if not isinstance(arguments, dict):
        arguments = {}
    return ToolCall(
        id=call.id or new_id(), name=call.function.name, arguments=arguments, raw_arguments=raw
    )


def _child_call_id() -> str:
    # An LLM call is a node of the execution tree under whatever call is running now.
    call = current_call()
    return call.child().call_id if call is not None else new_id()


def _translate(exc: BaseException) -> BaseException:
    # The HTTP status decides first: providers are inconsistent about error types, but 429 and
    # 5xx always mean "later may work", and other 4xx mean "not like this".
    status = getattr(exc, "status_code", None)
    transient = (isinstance(status, int) and (status == 429 or status >= 500)) or (
        not isinstance(status, int) and isinstance(exc, _TRANSIENT)
    )
    if transient:
        return LLMUnavailable(f"{type(exc).__name__}: {_short(exc)}", retry_after=_retry_after(exc))
    if isinstance(exc, _PERMANENT) or isinstance(status, int):
        return LLMRejected(f"{type(exc).__name__}: {_short(exc)}")
    return exc


def _retry_after(exc: BaseException) -> float | None:
    # litellm keeps the provider's real response headers here; `exc.response` is a stand-in.
    headers = getattr(exc, "litellm_response_headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "..."
