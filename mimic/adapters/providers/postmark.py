"""Postmark's email API: POST /email with the server token.

Errors come as `{"ErrorCode": n, "Message": "..."}`; the HTTP status says whose problem it is
(401 a bad token, 422 the request, 429 too fast, 5xx theirs). ErrorCode 300 (invalid request)
and 406 (inactive recipient) are about this message; the rest of 422 is about the account
(sender signature, pending account), which another provider may not share.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from contracts.mimic.errors import MimicErrorCode
from mimic.adapters.providers.http import call, retry_after
from mimic.domain.email import OutgoingEmail
from mimic.domain.outcomes import Accepted, Outcome, Rejected, Unavailable

_MESSAGE_ERRORS: Final = frozenset({300, 406})


class PostmarkProvider:
    name = "postmark"
    idempotent = False

    def __init__(self, *, token: str, base_url: str, message_stream: str, timeout: float) -> None:
        self._token = token
        self._stream = message_stream
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, trust_env=False)

    async def send(self, email: OutgoingEmail, *, idempotency_key: str) -> Outcome:
        body: dict[str, Any] = {
            "From": email.sender.formatted(),
            "To": email.to.formatted(),
            "Subject": email.subject,
            "MessageStream": self._stream,
            "Headers": [{"Name": "Message-ID", "Value": email.message_id}],
            "Metadata": {"notification_id": email.notification_id},
        }
        if email.text is not None:
            body["TextBody"] = email.text
        if email.html is not None:
            body["HtmlBody"] = email.html
        if email.reply_to is not None:
            body["ReplyTo"] = email.reply_to.formatted()
        headers = {
            "X-Postmark-Server-Token": self._token,
            "Accept": "application/json",
        }
        return await call(lambda: self._http.post("/email", json=body, headers=headers), _read)

    async def close(self) -> None:
        await self._http.aclose()


def _read(response: httpx.Response) -> Outcome:
    try:
        data = response.json()
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    code = data.get("ErrorCode")
    message = str(data.get("Message") or response.reason_phrase)[:500]
    if response.status_code == 200 and code in (0, None) and data.get("MessageID"):
        return Accepted(str(data["MessageID"]))
    if response.status_code == 429:
        return Unavailable(f"postmark rate limit: {message}", retry_after(response))
    if response.status_code == 422 and code in _MESSAGE_ERRORS:
        return Rejected(MimicErrorCode.PROVIDER_REJECTED.value, f"postmark {code}: {message}")
    return Unavailable(f"postmark {response.status_code}/{code}: {message}", retry_after(response))
