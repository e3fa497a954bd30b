"""The dev mailbox: an SMTP server inside mimic that keeps every message in a Maildir.

Under `fluxos up` it is the default email provider, so a fresh platform "sends" its
verification and OTP emails somewhere a person can read them (`/dev/mail` on mimic's HTTP port,
or `fluxos mail`). Maildir because several mimic replicas may write at once, and because any
mail tool can open it.
"""

from __future__ import annotations

import asyncio
import mailbox
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.logging import get_logger

log = get_logger(__name__)


class _StoreInMaildir:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._box: mailbox.Maildir | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dev-maildir")

    def close(self) -> None:
        self._writer.shutdown(wait=True)

    def _mailbox(self) -> mailbox.Maildir:
        # Created on first mail, not at start: a service that never sends leaves no directory.
        if self._box is None:
            for part in ("tmp", "new", "cur"):
                (self.directory / part).mkdir(parents=True, exist_ok=True, mode=0o700)
            self._box = mailbox.Maildir(self.directory, create=False)
        return self._box

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        if not isinstance(content, bytes):
            return "554 message content unreadable"
        recipients = ", ".join(envelope.rcpt_tos)
        # What a delivering MTA adds: the envelope recipient, whatever the To header says.
        message = f"Delivered-To: {recipients}\r\n".encode() + content
        # Maildir writes fsync, so off the event loop; one writer thread, because a Maildir
        # object numbers its temporary files with an unlocked counter.
        loop = asyncio.get_running_loop()
        key = await loop.run_in_executor(self._writer, self._mailbox().add, message)
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
