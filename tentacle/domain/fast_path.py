"""The fast path: simple data questions answered straight from workspace objects, no plan.

"What's on my calendar this week", "list contacts at Acme": recognised by pattern, turned into a
workspace query, answered in one cycle. Anything not recognised (or any failure answering it)
goes to the planner as usual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

MAX_GOAL: Final = 160

_WHEN = r"(?P<when>today|tomorrow|this week|next week)"
_CALENDAR = re.compile(
    r"^(?:what'?s|what is|show(?: me)?|list)\s+(?:on\s+)?my\s+(?:calendar|schedule|agenda)"
    rf"(?:\s+(?:for\s+)?{_WHEN})?\s*\??$",
    re.IGNORECASE,
)
_MEETINGS = re.compile(
    r"^(?:what|which)\s+(?:events|meetings)\s+(?:do i have|are there|have i got)"
    rf"(?:\s+{_WHEN})?\s*\??$",
    re.IGNORECASE,
)
_CONTACTS = re.compile(
    r"^(?:list|show(?: me)?|find|who are)(?:\s+all)?(?:\s+(?:my|the))?\s+contacts"
    r"(?:\s+(?:at|from|in|working at)\s+(?P<company>[\w.&'-]{1,40}(?: [\w.&'-]{1,40}){0,2}))?"
    r"\s*\??$",
    re.IGNORECASE,
)
_OBJECTS = re.compile(
    r"^(?:list|show(?: me)?)(?:\s+all)?(?:\s+my)?\s+"
    r"(?P<type>notes|projects|events|contacts)\s*\??$",
    re.IGNORECASE,
)
_CONJUNCTION = re.compile(r"\b(?:and|then|to)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FastQuery:
    object_type: str
    where: dict[str, Any] = field(default_factory=dict)
    order_by: str | None = None
    limit: int = 50
    describe: str = ""


def classify(goal: str, now: datetime) -> FastQuery | None:
    text = " ".join(goal.split())
    if len(text) > MAX_GOAL:
        return None
    match = _CALENDAR.fullmatch(text) or _MEETINGS.fullmatch(text)
    if match:
        return _events(match.group("when"), now)
    match = _CONTACTS.fullmatch(text)
    if match:
        company = (match.group("company") or "").strip()
        if company and _CONJUNCTION.search(company):
            return None  # "contacts at Acme and email them": more than a lookup
        if company:
            return FastQuery(
                "contact",
                where={"company": {"$eq": company}},
                order_by="data.name",
                describe=f"contacts at {company}",
            )
        return FastQuery("contact", order_by="data.name", describe="contacts")
    match = _OBJECTS.fullmatch(text)
    if match:
        kind = match.group("type").lower().rstrip("s")
        return FastQuery(kind, order_by="updated_at", describe=f"{kind}s")
    return None


def _events(when: str | None, now: datetime) -> FastQuery:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=day.weekday())
    spans = {
        "today": (day, day + timedelta(days=1)),
        "tomorrow": (day + timedelta(days=1), day + timedelta(days=2)),
        "this week": (week, week + timedelta(days=7)),
        "next week": (week + timedelta(days=7), week + timedelta(days=14)),
    }
    label = (when or "").lower()
    start, end = spans.get(label, (now, now + timedelta(days=7)))
    return FastQuery(
        "event",
        where={"start": {"$gte": start.isoformat(), "$lt": end.isoformat()}},
        order_by="data.start",
        describe=f"events {label or 'in the next 7 days'}",
    )


def answer(query: FastQuery, objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The task's result: the objects and one readable line about them."""
    if not objects:
        text = f"No {query.describe}."
    else:
        names = [_label(o) for o in objects[:10]]
        more = f" and {len(objects) - 10} more" if len(objects) > 10 else ""
        text = f"{len(objects)} {query.describe}: " + "; ".join(names) + more + "."
    return {"answer": text, "count": len(objects), "objects": objects, "query": query.describe}


def _label(obj: dict[str, Any]) -> str:
    data = obj.get("data", obj)
    if not isinstance(data, dict):
        return str(data)[:80]
    for key in ("title", "name", "subject"):
        if isinstance(data.get(key), str):
            when = data.get("start")
            return f"{data[key]} ({when})" if isinstance(when, str) else str(data[key])
    return str(obj.get("id", "?"))
