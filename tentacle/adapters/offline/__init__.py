"""Deterministic answers of the built-in offline model for tentacle's task types.

The platform must work with no API key: these responders (registered per task type with the LLM
gateway) make plans from goals by keyword and do honest, simple text and data work (extractive
summaries, counts, conversions). Text they write is labelled as coming from the offline model.
"""

from __future__ import annotations

from shared.llm import OfflineResponders
from tentacle.adapters.offline import planner, text_work


def register(responders: OfflineResponders) -> OfflineResponders:
    responders.register("plan", planner.respond)
    responders.register("summarize", text_work.summarize)
    responders.register("compose", text_work.compose)
    responders.register("transform", text_work.transform)
    responders.register("analyze", text_work.analyze)
    responders.register("aggregate", text_work.aggregate)
    return responders
