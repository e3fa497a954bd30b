"""Resend's email API: POST /emails with a bearer key and an Idempotency-Key.

Resend keeps idempotency keys for 24 hours: asking again with the same key returns the first
answer instead of sending twice, so an unanswered call may be repeated. Errors come as
`{"statusCode", "name", "message"}`; the name says what happened.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from contracts.mimic.errors import MimicErrorCode
from mimic.adapters.providers.http import call, retry_after
from mimic.domain.email import OutgoingEmail
from mimic.domain.outcomes import Accepted, Outcome, Rejected, Unavailable

# About this message: no other provider would do better with it.
_MESSAGE_ERRORS: Final = frozenset(
    {"validation_error", "missing_required_field", "invalid_attachment", "invalid_parameter"}
)


class ResendProvider:
    name = "resend"
    idempotent = True

    def __init__(self, *, api_key: str, base_url: str, timeout: float) -> None:
        self._key = api_key
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, trust_env=False)

    async def send(self, email: OutgoingEmail, *, idempotency_key: str) -> Outcome:
        body: dict[str, Any] = {
            "from": email.sender.formatted(),
            "to": [email.to.formatted()],
            "subject": email.subject,
            "headers": {"Message-ID": email.message_id},
            "tags": [{"name": "notification_id", "value": email.notification_id}],
        }
        if email.text is not None:
            body["text"] = email.text
        if email.html is not None:
            body["html"] = email.html
        if email.reply_to is not None:
            body["reply_to"] = email.reply_to.formatted()
        headers = {
            "Authorization": f"Bearer {self._key}",
            "Idempotency-Key": idempotency_key[:256],
        }
        return await call(lambda: self._http.post("/emails", json=body, headers=headers), _read)

    async def close(self) -> None:
        await self._http.aclose()


def _read(response: httpx.Response) -> Outcome:
    try:
        data = response.json()
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    name = str(data.get("name") or "")
    message = str(data.get("message") or response.reason_phrase)[:500]
    status = response.status_code
    if status == 200 and data.get("id"):
        return Accepted(str(data["id"]))
    if status == 429:
        return Unavailable(f"resend {name or 'rate limited'}: {message}", retry_after(response))
    if status == 409 and name == "invalid_idempotent_request":
        return Rejected(MimicErrorCode.IDEMPOTENCY_CONFLICT.value, f"resend: {message}")
    # A 403 validation_error is an unverified domain: the account's problem, not the message's.
    if status in (400, 422) and name in _MESSAGE_ERRORS:
        return Rejected(MimicErrorCode.PROVIDER_REJECTED.value, f"resend {name}: {message}")
    return Unavailable(f"resend {status} {name}: {message}", retry_after(response))
