"""An email ready for a provider, built only from checked parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

from contracts.mimic.errors import MimicErrorCode
from mimic.domain.addresses import check_email, check_header_value
from mimic.domain.errors import MimicError


@dataclass(frozen=True)
class Mailbox:
    address: str
    name: str | None = None

    @classmethod
    def checked(cls, address: str, name: str | None, *, field: str) -> Mailbox:
        check_email(address, field=field)
        if name is not None:
            check_header_value(name, field=f"{field} name")
        return cls(address, name or None)

    @classmethod
    def parse(cls, value: str, *, field: str) -> Mailbox:
        """`Name <addr>` or `addr` (settings, reply-to)."""
        check_header_value(value, field=field)
        name, address = parseaddr(value)
        if not address:
            raise MimicError(MimicErrorCode.INVALID_RECIPIENT, f"{field} is not an address")
        return cls.checked(address, name or None, field=field)

    def formatted(self) -> str:
        """`Name <local@domain>`, the name quoted or encoded as RFC 5322 and 2047 require."""
        return formataddr((self.name or "", self.address), charset="utf-8")


@dataclass(frozen=True)
class OutgoingEmail:
    notification_id: str
    sender: Mailbox
    to: Mailbox
    subject: str
    text: str | None
    html: str | None
    reply_to: Mailbox | None = None

    def __post_init__(self) -> None:
        check_header_value(self.subject, field="subject")

    @property
    def message_id(self) -> str:
        domain = self.sender.address.rpartition("@")[2]
        return f"<{self.notification_id}@{domain}>"

    def mime(self) -> bytes:
        """The message as SMTP carries it (multipart/alternative when both parts exist).

        Built with the compat32 MIME classes, which are several times cheaper than
        `EmailMessage`'s header registry; every header value was checked to be one line.
        """
        parts = [
            MIMEText(body, subtype, "utf-8")
            for body, subtype in ((self.text, "plain"), (self.html, "html"))
            if body is not None
        ]
        msg = parts[0] if len(parts) == 1 else MIMEMultipart("alternative", _subparts=parts)
        msg["From"] = self.sender.formatted()
        msg["To"] = self.to.formatted()
        msg["Subject"] = (
            self.subject if self.subject.isascii() else Header(self.subject, "utf-8").encode()
        )
        msg["Date"] = format_datetime(datetime.now(UTC))
        # Derived from the notification id: the same notification always has the same id.
        msg["Message-ID"] = self.message_id
        if self.reply_to is not None:
            msg["Reply-To"] = self.reply_to.formatted()
        return msg.as_bytes()
