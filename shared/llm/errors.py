"""LLM failures, with codes callers branch on."""

from __future__ import annotations

from typing import Any

from shared.errors import PermanentError, TransientError


class LLMUnavailable(TransientError):
    """The provider is down, slow or rate limiting: try again later."""

    code = "llm.unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, details={"retry_after": retry_after} if retry_after else None)
        self.retry_after = retry_after


class LLMRejected(PermanentError):
    """The provider refused the request as made (bad request, too long, not allowed)."""

    code = "llm.rejected"


class BudgetExceeded(PermanentError):
    """A budget would be exceeded; no call was made. `scope` says which: agent, task, org_day."""

    code = "llm.budget_exceeded"

    def __init__(self, scope: str, *, limit: Any, needed: Any) -> None:
        super().__init__(
            f"the {scope} budget would be exceeded (limit {limit}, needed {needed})",
            details={"scope": scope, "limit": str(limit), "needed": str(needed)},
        )
        self.scope = scope
