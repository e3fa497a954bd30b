"""The LLM gateway (litellm): offline by default, any provider by setting FLUXOS_LLM_MODEL.

Importing this package loads litellm (a few seconds); only services that call models import it.
"""

import os

# litellm must never reach for the network at import (CI and many deployments have none).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from shared.llm.budget import BudgetLedger, BudgetScope
from shared.llm.errors import BudgetExceeded, LLMRejected, LLMUnavailable
from shared.llm.gateway import LLMGateway
from shared.llm.offline import OfflineReply, OfflineRequest, OfflineResponders
from shared.llm.settings import LLMSettings
from shared.llm.types import (
    ChatRequest,
    Completion,
    Embedding,
    Finished,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)

__all__ = [
    "BudgetExceeded",
    "BudgetLedger",
    "BudgetScope",
    "ChatRequest",
    "Completion",
    "Embedding",
    "Finished",
    "LLMGateway",
    "LLMRejected",
    "LLMSettings",
    "LLMUnavailable",
    "OfflineReply",
    "OfflineRequest",
    "OfflineResponders",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolSpec",
    "Usage",
]
