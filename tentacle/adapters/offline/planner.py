"""The offline planner: a plan from the goal's words.

URLs are fetched (several in parallel, best effort, then combined); "summarize", "analyze",
"convert"/"extract", "write" and "send ... to <address>" add the matching agents in a sensible
order; a replan after a failed fetch works from the goal's own text instead.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from shared.llm import OfflineReply, OfflineRequest

URL: Final = re.compile(r"https?://[^\s)>\]\"',]+")
EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_SUMMARY: Final = re.compile(r"summar|digest|tl;?dr|\bbrief\b|overview|recap|gist", re.I)
_ANALYSIS: Final = re.compile(r"analy|compare|insight|trend|statistic|evaluate|assess", re.I)
_TRANSFORM: Final = re.compile(
    r"translat|convert|transform|extract|reformat|upper ?case|lower ?case|\bcsv\b|\bjson\b|sort",
    re.I,
)
_SEND: Final = re.compile(r"\bsend\b|\be-?mail\b|\bnotify\b|\bmail\b|\btell\b|\bmessage\b", re.I)
_WRITE: Final = re.compile(
    r"\bwrite\b|\bdraft\b|\bcompose\b|poem|joke|story|letter|reply|announce", re.I
)
_SAVE: Final = re.compile(
    r"\b(?:save|store|keep)\b.*(?:\b(?:file|report|document|den)\b|\.(?:md|txt|json|csv|html)\b)"
    r"|\bas a file\b",
    re.I,
)
_FILE_NAME: Final = re.compile(r"\b[\w-]{1,80}\.(?:md|txt|json|csv|html)\b", re.I)
LABEL: Final = "[offline model]"


def _brief(request: OfflineRequest) -> dict[str, Any]:
    for message in request.messages:
        if message.get("role") == "user":
            try:
                data = json.loads(str(message.get("content") or ""))
            except ValueError:
                return {"goal": str(message.get("content") or "")}
            return data if isinstance(data, dict) else {}
    return {}


def plan_for(brief: dict[str, Any]) -> dict[str, Any]:
    goal = str(brief.get("goal", "")).strip()
    failed = brief.get("failed") or {}
    context = [str(k) for k in brief.get("context") or []]
    steps: list[dict[str, Any]] = []
    notes: list[str] = []
    source: Any = None

    urls = list(dict.fromkeys(URL.findall(goal)))[:5]
    if urls and failed.get("agent") == "http_fetch":
        notes.append("fetching failed before, so this plan works from the goal's text")
        urls = []
    if len(urls) == 1:
        steps.append(_step("fetch", "http_fetch", f"Fetch {urls[0]}", url=urls[0]))
        source = {"$ref": "fetch.text"}
    elif urls:
        for i, url in enumerate(urls, start=1):
            steps.append(
                _step(
                    f"fetch_{i}",
                    "http_fetch",
                    f"Fetch {url}",
                    group="fetch",
                    policy="best_effort",
                    url=url,
                )
            )
        steps.append(
            _step(
                "combine",
                "aggregate",
                "Combine the fetched pages",
                items=[{"$ref": f"fetch_{i}.text"} for i in range(1, len(urls) + 1)],
            )
        )
        source = {"$ref": "combine.text"}
    elif context:
        source = {"$ref": f"$context.{context[0]}"}

    if _TRANSFORM.search(goal):
        steps.append(
            _step(
                "transform",
                "transform",
                "Transform the data",
                data=source or goal,
                instructions=goal,
            )
        )
        source = {"$ref": "transform.result"}
    if _ANALYSIS.search(goal):
        steps.append(_step("analyze", "analyze", "Analyze it", data=source or goal, question=goal))
        source = {"$ref": "analyze.answer"}
    if _SUMMARY.search(goal) or (urls and len(steps) <= 2 and not _SEND.search(goal)):
        steps.append(_step("summarize", "summarize", "Summarize it", text=source or goal))
        source = {"$ref": "summarize.summary"}
    recipients = EMAIL.findall(goal)
    if _SEND.search(goal) and recipients:
        compose: dict[str, Any] = {"instructions": goal, "format": "email"}
        if source is not None:
            compose["context"] = source
        steps.append(_step("compose", "compose", "Write the message", **compose))
        send = _step(
            "send",
            "notify",
            f"Email it to {recipients[0]}",
            to=recipients[0],
            subject={"$ref": "compose.subject"},
            body={"$ref": "compose.body"},
        )
        send["risk"] = "high"
        steps.append(send)
    elif _WRITE.search(goal) or not steps:
        compose = {"instructions": goal}
        if source is not None:
            compose["context"] = source
        steps.append(_step("compose", "compose", "Write the answer", **compose))
        source = {"$ref": "compose.body"}
        if _SEND.search(goal):
            notes.append("no recipient address in the goal, so the text is written, not sent")
    if _SAVE.search(goal):
        named = _FILE_NAME.search(goal)
        steps.append(
            _step(
                "save",
                "file_storage",
                "Save the result as a file",
                action="save",
                name=named.group(0) if named else "report.md",
                content=source or goal,
            )
        )
    rationale = (
        f"{LABEL} a plan made from the goal's words ({', '.join(s['agent'] for s in steps)})"
    )
    if notes:
        rationale += "; " + "; ".join(notes)
    return {"steps": steps, "rationale": rationale}


def _step(
    step_id: str,
    agent: str,
    description: str,
    *,
    group: str | None = None,
    policy: str | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": step_id,
        "agent": agent,
        "description": description,
        "inputs": inputs,
    }
    if group is not None:
        step["parallel_group"] = group
    if policy is not None:
        step["failure_policy"] = policy
    return step


def respond(request: OfflineRequest) -> OfflineReply:
    return OfflineReply(text=json.dumps(plan_for(_brief(request))))
