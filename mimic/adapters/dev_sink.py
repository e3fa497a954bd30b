"""The dev mailbox: an SMTP server inside mimic that keeps every message in a Maildir.

Under `fluxos up` it is the default email provider, so a fresh platform "sends" its
verification and OTP emails somewhere a person can read them (`/dev/mail` on mimic's HTTP port,
or `fluxos mail`). Maildir because several mimic replicas may write at once, and because any
mail tool can open it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.logging import get_logger

log = get_logger(__name__)


_WRITERS = 4
# As mailbox.Maildir spells the host in a name: "/" and ":" have meanings there.
_HOST = socket.gethostname().replace("/", r"\057").replace(":", r"\072")


def deliver(directory: Path, message: bytes) -> str:
    """Store `message` in the Maildir at `directory` as an MTA does; its key.

    Written under tmp/ with a name no other writer can pick (time, pid, random), flushed to
    disk, then renamed into new/, so a reader never sees half a message and several writers
    (threads, replicas) need no lock. `mailbox.Maildir.add` does the same but numbers names with
    an unlocked class-wide counter, which is why it needed a single writer thread; at one fsync
    per message that thread capped the dev mailbox at a few hundred messages a second.
    """
    now = time.time()
    key = f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}R{secrets.token_hex(8)}.{_HOST}"
    temporary = directory / "tmp" / key
    with open(temporary, "xb") as file:
        file.write(message)
        file.flush()
        os.fsync(file.fileno())
    os.rename(temporary, directory / "new" / key)
    return key


class _StoreInMaildir:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._ready = False
        self._writers = ThreadPoolExecutor(max_workers=_WRITERS, thread_name_prefix="dev-maildir")

    def close(self) -> None:
        self._writers.shutdown(wait=True)

    def _prepare(self) -> None:
        # Created on first mail, not at start: a service that never sends leaves no directory.
        if not self._ready:
            for part in ("tmp", "new", "cur"):
                (self.directory / part).mkdir(parents=True, exist_ok=True, mode=0o700)
            self._ready = True

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        if not isinstance(content, bytes):
            return "554 message content unreadable"
        recipients = ", ".join(envelope.rcpt_tos)
        # What a delivering MTA adds: the envelope recipient, whatever the To header says.
        message = f"Delivered-To: {recipients}\r\n".encode() + content
        # Each write fsyncs, so off the event loop, several at once.
        self._prepare()
        loop = asyncio.get_running_loop()
        key = await loop.run_in_executor(self._writers, deliver, self.directory, message)
        log.info("dev_mail.stored", key=key, recipients=len(envelope.rcpt_tos))
        return f"250 OK queued as {key}"


class DevSmtpSink:
    def __init__(self, directory: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._handler: _StoreInMaildir | None = None

    async def start(self) -> None:
        handler = self._handler = _StoreInMaildir(self.directory)

        def protocol() -> Any:
            return SMTP(handler, hostname="fluxos-dev-mail", ident="fluxos dev mailbox")

        self._server = await asyncio.get_running_loop().create_server(
            protocol, self.host, self.port
        )
        sockname = self._server.sockets[0].getsockname()
        self.port = int(sockname[1])
        log.info("dev_mail.listening", host=self.host, port=self.port, maildir=str(self.directory))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._handler is not None:
            await asyncio.to_thread(self._handler.close)
            self._handler = None
