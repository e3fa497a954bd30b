"""A unit of work with after-commit actions: what must happen only once the write is durable.

Dropping a session from this process's revocation cache, or an API key from its cache, is done
after the commit (and the event carrying the same news is published right after it by the
outbox), so a rolled-back transaction never leaves a cache believing something that did not
happen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import OutboundMessage
from shared.db import UnitOfWork

if TYPE_CHECKING:
    from inkpass.service.deps import Deps


class Tx:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._after: list[Callable[[], None]] = []

    @property
    def session(self) -> AsyncSession:
        return self.uow.session

    @property
    def org_id(self) -> str | None:
        return self.uow.org_id

    def publish(self, message: OutboundMessage) -> None:
        self.uow.publish(message)

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after.append(action)


@asynccontextmanager
async def transaction(deps: Deps, org_id: str | None = None) -> AsyncIterator[Tx]:
    async with deps.db.transaction(org_id=org_id) as uow:
        tx = Tx(uow)
        yield tx
    for action in tx._after:
        action()
