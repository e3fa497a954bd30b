"""SSE event ids: the feed sequence number, bound to the person who received it.

An id is `<seq>-<mac>` with the MAC over the organisation, the user and the sequence, so a
`Last-Event-ID` copied from another person's stream (or edited) is recognised and refused
rather than used to read a feed that is not theirs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from inbox.domain.errors import InvalidLastEventId

_MAX_CHARS = 64


class EventIds:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, org_id: str, user_id: str, seq: int) -> str:
        message = f"{org_id}\x00{user_id}\x00{seq}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:9]).decode()

    def make(self, org_id: str, user_id: str, seq: int) -> str:
        return f"{seq}-{self._mac(org_id, user_id, seq)}"

    def parse(self, org_id: str, user_id: str, value: str) -> int:
        """The sequence number in `value`, if it was given to this person in this org."""
        text = value.strip()
        seq_text, _, mac = text.partition("-")
        if len(text) > _MAX_CHARS or not seq_text.isdigit() or not mac:
            raise InvalidLastEventId("Last-Event-ID is not an id this stream sent")
        seq = int(seq_text)
        if not hmac.compare_digest(mac, self._mac(org_id, user_id, seq)):
            raise InvalidLastEventId("Last-Event-ID was not sent to this user")
        return seq
