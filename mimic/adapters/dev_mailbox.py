"""Reading the dev mailbox (the Maildir the dev sink writes) for the /dev/mail pages."""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Final

_KEY: Final = re.compile(r"^[A-Za-z0-9._,:=-]{1,200}$")


@dataclass(frozen=True)
class MailSummary:
    key: str
    date: datetime | None
    sender: str
    to: str
    subject: str


@dataclass(frozen=True)
class Mail:
    summary: MailSummary
    text: str | None
    html: str | None
    raw: bytes


def _open(directory: Path) -> mailbox.Maildir | None:
    if not (directory / "cur").is_dir():
        return None
    return mailbox.Maildir(directory, create=False)


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _summary(key: str, message: EmailMessage) -> MailSummary:
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return MailSummary(
        key=key,
        date=date,
        sender=str(message.get("From", "")),
        to=str(message.get("Delivered-To") or message.get("To", "")),
        subject=str(message.get("Subject", "")),
    )


def list_mail(directory: Path, *, limit: int = 200) -> list[MailSummary]:
    box = _open(directory)
    if box is None:
        return []
    found = []
    for key in box.iterkeys():
        with box.get_file(key) as handle:
            found.append(_summary(key, _parse(handle.read())))
    found.sort(key=lambda m: (m.date is not None, m.date or datetime.min), reverse=True)
    return found[:limit]


def read_mail(directory: Path, key: str) -> Mail | None:
    box = _open(directory)
    if box is None or not _KEY.fullmatch(key):
        return None
    try:
        with box.get_file(key) as handle:
            raw = handle.read()
    except KeyError:
        return None
    message = _parse(raw)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return Mail(
        summary=_summary(key, message),
        text=text.get_content() if isinstance(text, EmailMessage) else None,
        html=html.get_content() if isinstance(html, EmailMessage) else None,
        raw=raw,
    )
