"""The live stream of one person: their organisation's feed as Server-Sent Events.

Each event's id is the feed number bound to the person (see `inbox.domain.event_ids`). A
reconnect with `Last-Event-ID` continues right after that entry; an id from another person or
from beyond the feed's end is refused with a coded 400 before the stream opens. Comment lines
every `sse_heartbeat_seconds` keep proxies from closing an idle stream, and each of them also
re-checks the caller's credential, so a signed-out session stops receiving within one beat.
Closing the stream only closes the stream: nothing it showed is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from inbox.domain.errors import LastEventIdFromFuture
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, client_ip
from inbox.service.auth import Principal, authorize, still_valid
from inbox.service.context import Inbox
from inbox.service.live import Hub
from shared.service.direct_body import direct_body

router = APIRouter(prefix="/api/v1", tags=["stream"])


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
    start_after: Annotated[
        str | None,
        Query(
            alias="after",
            max_length=64,
            description="An event id to start after, for a first connection that cannot send "
            "headers (a page's EventSource); the Last-Event-ID header of a reconnect wins.",
        ),
    ] = None,
) -> Response:
    last_event_id = last_event_id or start_after
    await authorize(inbox, principal, "inbox.feed.read", "feed", source_ip=client_ip(request))
    hub: Hub = request.app.state.hub
    after: int | None = None
    if last_event_id:
        after = inbox.event_ids.parse(principal.org_id, principal.user_id, last_event_id)
    current = await hub.head(principal.org_id)
    if after is not None and after > current:
        current = await hub.head(principal.org_id, fresh=True)  # what this replica heard may lag
        if after > current:
            raise LastEventIdFromFuture("Last-Event-ID is beyond the end of this feed")
    hub.check_capacity()
    return LiveStream(inbox, hub, principal, current if after is None else after)


class LiveStream(Response):
    """The stream as a plain ASGI response rather than a generator behind StreamingResponse:
    the hub gets the response's `send` and writes entries with it directly (see
    `inbox.service.live`), and a task of its own notices the client leaving at once."""

    media_type = "text/event-stream"

    def __init__(self, inbox: Inbox, hub: Hub, principal: Principal, after: int) -> None:
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._inbox = inbox
        self._hub = hub
        self._principal = principal
        self._after = after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send(_body(b"retry: 2000\n: connected\n\n"))

        async def write(chunk: bytes) -> None:
            await send(_body(chunk))

        async def still_wanted() -> bool:
            return await still_valid(self._inbox, self._principal)

        principal = self._principal
        # Entries go straight to the connection where it takes them at once (the ASGI chain
        # costs as much as the socket write when one entry goes to a thousand streams).
        direct = direct_body(scope)
        stream = self._hub.open(principal.org_id, principal.user_id, self._after, write, direct)
        serving = asyncio.create_task(self._hub.serve(stream, still_wanted))
        leaving = asyncio.create_task(_until_disconnected(receive))
        try:
            await asyncio.wait((serving, leaving), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._hub.close(stream)
            for task in (serving, leaving):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait((serving, leaving))
        if leaving.cancelled():  # the server ended the stream (signed out, stopping, failed)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            if not serving.cancelled() and (error := serving.exception()) is not None:
                raise error


def _body(chunk: bytes) -> dict[str, object]:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
