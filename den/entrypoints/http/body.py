"""A request body as the service layer reads it: pieces as they arrive, or an interruption."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from starlette.requests import ClientDisconnect

from den.service.receive_upload import BodyInterrupted


async def body_of(request: Request) -> AsyncIterator[bytes]:
    try:
        async for piece in request.stream():
            yield piece
    except ClientDisconnect:
        raise BodyInterrupted from None
