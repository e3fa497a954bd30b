"""SMTP out with aiosmtplib, over a small pool of open connections.

The SMTP conversation tells exactly when a message may have gone: until the server has the
whole DATA, nothing is sent, so a failure before DATA is "unavailable" (and a pooled connection
the server had quietly closed is simply replaced), while a connection lost during DATA is
"in doubt". 5xx replies are about the message; 4xx ones are temporary.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from dataclasses import dataclass
from typing import Final, Literal

import aiosmtplib

from contracts.mimic.errors import MimicErrorCode
from mimic.domain.email import OutgoingEmail
from mimic.domain.outcomes import Accepted, InDoubt, Outcome, Rejected, Unavailable

_QUEUED_AS: Final = re.compile(r"queued as (\S+)", re.IGNORECASE)
_LOST: Final = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    tls_context: ssl.SSLContext | None = None


class SmtpProvider:
    idempotent = False

    def __init__(
        self, server: SmtpServer, *, name: str = "smtp", pool_size: int = 4, delivers: bool = False
    ) -> None:
        self.name = name
        self.server = server
        self._delivers = delivers
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(pool_size)

    async def send(self, email: OutgoingEmail, *, idempotency_key: str) -> Outcome:
        body = email.mime()
        async with self._slots:
            client, outcome = await self._envelope(email)
            if outcome is not None:
                return outcome
            assert client is not None
            try:
                response = await client.data(body)
            except aiosmtplib.SMTPDataError as exc:
                self._idle.append(client)
                return _refused(exc)
            except _LOST as exc:
                _discard(client)
                return InDoubt(f"the SMTP connection was lost during DATA: {type(exc).__name__}")
            self._idle.append(client)
        match = _QUEUED_AS.search(response.message)
        provider_id = match.group(1) if match else email.message_id
        return Accepted(provider_id, delivered=self._delivers)

    async def _envelope(
        self, email: OutgoingEmail
    ) -> tuple[aiosmtplib.SMTP | None, Outcome | None]:
        """MAIL FROM and RCPT TO on a working connection; nothing is sent by these."""
        for reuse in (True, False):
            client = self._idle.pop() if reuse and self._idle else None
            if client is None:
                reuse = False
                try:
                    client = await self._open()
                except (aiosmtplib.SMTPException, OSError) as exc:
                    return None, Unavailable(f"cannot reach the SMTP server: {_describe(exc)}")
            try:
                await client.mail(email.sender.address)
                await client.rcpt(email.to.address)
                return client, None
            except aiosmtplib.SMTPResponseException as exc:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.rset()
                self._idle.append(client)
                return None, _refused(exc)
            except _LOST as exc:
                _discard(client)
                if reuse:
                    continue  # a pooled connection the server had closed: take a fresh one
                return None, Unavailable(f"the SMTP server dropped us: {_describe(exc)}")
        return None, Unavailable("no working SMTP connection")  # pragma: no cover

    async def _open(self) -> aiosmtplib.SMTP:
        s = self.server
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            tls_context=s.tls_context,
            username=s.username,
            password=s.password,
        )
        await client.connect()
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            _discard(client)


def _refused(exc: aiosmtplib.SMTPResponseException) -> Outcome:
    text = f"SMTP {exc.code}: {exc.message}"[:500]
    if 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return Rejected(MimicErrorCode.PROVIDER_REJECTED.value, text)
    # 4xx is temporary; a refused sender is our configuration, which another provider may fix.
    return Unavailable(text)


def _discard(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        client.close()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
