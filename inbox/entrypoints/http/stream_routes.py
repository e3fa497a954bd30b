"""The live stream of one person: their organisation's feed as Server-Sent Events.

Each event's id is the feed number bound to the person (see `inbox.domain.event_ids`). A
reconnect with `Last-Event-ID` continues right after that entry; an id from another person or
from beyond the feed's end is refused with a coded 400 before the stream opens. Comment lines
every `sse_heartbeat_seconds` keep proxies from closing an idle stream, and each of them also
re-checks the caller's credential, so a signed-out session stops receiving within one beat.
Closing the stream only closes the stream: nothing it showed is cancelled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from inbox.domain.errors import LastEventIdFromFuture
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, client_ip
from inbox.service.auth import Principal, authorize, still_valid
from inbox.service.context import Inbox
from inbox.service.live import Hub

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
) -> StreamingResponse:
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
    return StreamingResponse(
        _events(inbox, hub, current if after is None else after, principal, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    inbox: Inbox, hub: Hub, after: int, principal: Principal, request: Request
) -> AsyncIterator[bytes]:
    # Opened here, not in the route: only a generator that runs reaches its `finally`.
    stream = hub.open(principal.org_id, principal.user_id, after)
    try:
        yield b"retry: 2000\n: connected\n\n"
        async for chunk in hub.chunks(stream):
            if chunk is None:
                if await request.is_disconnected() or not await still_valid(inbox, principal):
                    return
                yield b": heartbeat\n\n"
                continue
            yield chunk
    finally:
        hub.close(stream)
