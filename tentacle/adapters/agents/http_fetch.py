"""The http_fetch agent: one HTTP request through the platform's SSRF guard (`shared.net`).

GET and HEAD are safe to repeat: transient failures (5xx, 429, timeouts, connection errors) are
retried by the consumer. Other methods change something elsewhere, so they are journalled by
the attempt's idempotency key (also sent as the `Idempotency-Key` header): a redelivered
attempt returns the recorded response instead of calling again, and one that died mid-call
fails with `tentacle.outcome_unknown` rather than risk calling twice.
"""

from __future__ import annotations

import contextlib
import json
from html.parser import HTMLParser
from typing import Any, Final

import httpx

from contracts.tentacle.errors import TentacleErrorCode
from shared.net import BlockedDestination, InvalidUrl, OutboundPolicy, guarded_client
from tentacle.adapters.journal import Journal
from tentacle.domain.errors import TentacleError, TentacleUnavailable
from tentacle.service.ports import AgentResult, StepWork

SAFE: Final = frozenset({"GET", "HEAD"})
TOOL: Final = "http"
_SKIP: Final = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCK: Final = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "section"})


class _Text(HTMLParser):
    """The readable text of an HTML page (scripts, styles and markup dropped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.text()


class HttpFetchRuntime:
    def __init__(
        self,
        journal: Journal,
        policy: OutboundPolicy,
        *,
        max_bytes: int,
        max_text_chars: int,
        timeout_s: float = 20.0,
    ) -> None:
        self.journal = journal
        self.policy = policy
        self.max_bytes = max_bytes
        self.max_text_chars = max_text_chars
        self.timeout_s = timeout_s

    async def run(self, work: StepWork) -> AgentResult:
        inputs = work.inputs
        method = str(inputs.get("method", "GET")).upper()
        if method in SAFE:
            try:
                return AgentResult(output=await self._call(work, method, inputs, safe=True))
            except _NotSent as exc:
                raise exc.error from None
        effect = work.effect(TOOL)
        earlier = await self.journal.begin(effect)
        if earlier is not None:
            if earlier.status == "done":
                return AgentResult(output=earlier.result)
            raise TentacleError(
                TentacleErrorCode.OUTCOME_UNKNOWN,
                f"an earlier attempt of this {method} may have reached {inputs['url']};"
                " it is not repeated",
            )
        try:
            output = await self._call(work, method, inputs, safe=False)
        except _NotSent as exc:
            await self.journal.forget(effect)  # nothing left this process: a retry may call
            raise exc.error from None
        except BaseException:
            await self.journal.finish(effect, "unknown", None)
            raise
        await self.journal.finish(effect, "done", output)
        return AgentResult(output=output)

    async def _call(
        self, work: StepWork, method: str, inputs: dict[str, Any], *, safe: bool
    ) -> dict[str, Any]:
        url = str(inputs["url"])
        headers = {str(k): str(v) for k, v in (inputs.get("headers") or {}).items()}
        if not safe:
            headers["Idempotency-Key"] = work.idempotency_key
        content: bytes | None = None
        if inputs.get("json") is not None:
            content = json.dumps(inputs["json"]).encode()
            headers.setdefault("Content-Type", "application/json")
        elif inputs.get("body") is not None:
            content = str(inputs["body"]).encode()
        try:
            async with (
                guarded_client(self.policy, timeout=self.timeout_s) as http,
                http.stream(method, url, headers=headers, content=content) as response,
            ):
                body, truncated = await self._read(response)
        except (BlockedDestination, InvalidUrl) as exc:
            raise _NotSent(TentacleError(TentacleErrorCode.DESTINATION_BLOCKED, str(exc))) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _NotSent(
                TentacleUnavailable(
                    TentacleErrorCode.AGENT_UNAVAILABLE, f"cannot connect to {url}: {exc}"
                )
            ) from None
        except httpx.HTTPError as exc:
            if safe:
                raise TentacleUnavailable(
                    TentacleErrorCode.AGENT_UNAVAILABLE, f"{method} {url} failed: {exc}"
                ) from None
            raise TentacleError(
                TentacleErrorCode.OUTCOME_UNKNOWN, f"{method} {url} was cut off: {exc}"
            ) from None
        status = response.status_code
        if safe and (status == 429 or status >= 500):
            retry_after = _seconds(response.headers.get("retry-after"))
            raise TentacleUnavailable(
                TentacleErrorCode.AGENT_UNAVAILABLE,
                f"{method} {url} answered {status}",
                retry_after=retry_after,
            )
        if status >= 400:
            raise TentacleError(
                TentacleErrorCode.FETCH_FAILED,
                f"{method} {url} answered {status}",
                details={"status": status},
            )
        return self._output(response, body, truncated)

    async def _read(self, response: httpx.Response) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_bytes:
                return b"".join(chunks)[: self.max_bytes], True
        return b"".join(chunks), False

    def _output(self, response: httpx.Response, body: bytes, truncated: bool) -> dict[str, Any]:
        content_type = response.headers.get("content-type", "")
        charset = response.charset_encoding or "utf-8"
        raw = body.decode(charset, errors="replace")
        output: dict[str, Any] = {
            "status": response.status_code,
            "url": str(response.url),
            "content_type": content_type,
        }
        if "json" in content_type:
            with contextlib.suppress(ValueError):
                output["json"] = json.loads(raw)
        text = html_text(raw) if "html" in content_type else raw
        if len(text) > self.max_text_chars:
            text, truncated = text[: self.max_text_chars], True
        output["text"] = text
        output["truncated"] = truncated
        return output


class _NotSent(Exception):
    """The request never left (refused destination, no connection): safe to try again."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
