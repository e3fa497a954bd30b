"""An email ready for a provider, built only from checked parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

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

    def header(self) -> Address:
        local, _, domain = self.address.rpartition("@")
        return Address(display_name=self.name or "", username=local, domain=domain)

    def formatted(self) -> str:
        return str(self.header())


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

    def mime(self) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender.header()
        msg["To"] = self.to.header()
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        # Derived from the notification id: the same notification always has the same id.
        msg["Message-ID"] = self.message_id
        if self.reply_to is not None:
            msg["Reply-To"] = self.reply_to.header()
        if self.text is not None:
            msg.set_content(self.text)
            if self.html is not None:
                msg.add_alternative(self.html, subtype="html")
        elif self.html is not None:
            msg.set_content(self.html, subtype="html")
        return msg
