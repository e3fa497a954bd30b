"""Offline answers for the text and data agents: simple, deterministic, honest work.

Each reads the agent's inputs (the user message, as JSON) and answers JSON matching the agent's
output schema. Summaries are extractive (the highest-scoring sentences, in order), analyses
count and measure, transforms apply the conversions their instructions name.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter
from typing import Any, Final

from shared.llm import OfflineReply, OfflineRequest

LABEL: Final = "[offline model]"
_SENTENCE: Final = re.compile(r"(?<=[.!?])\s+")
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_URL: Final = re.compile(r"https?://[^\s)>\]\"',]+")
_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
_STOP: Final = frozenset(
    (
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "have",
        "has",
        "had",
        "are",
        "was",
        "were",
        "will",
        "would",
        "can",
        "could",
        "should",
        "not",
        "but",
        "you",
        "your",
        "our",
        "their",
        "they",
        "them",
        "his",
        "her",
        "its",
        "into",
        "about",
        "over",
        "under",
        "than",
        "then",
        "there",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "each",
        "more",
        "most",
        "some",
        "such",
        "only",
        "also",
        "very",
        "just",
        "been",
        "being",
        "out",
        "off",
        "one",
        "two",
        "per",
        "via",
    )
)


def _inputs(request: OfflineRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.last_user_text)
    except ValueError:
        return {"text": request.last_user_text}
    return data if isinstance(data, dict) else {"data": data}


def _reply(value: dict[str, Any]) -> OfflineReply:
    return OfflineReply(text=json.dumps(value, ensure_ascii=False))


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("summary", "text", "body", "answer", "content", "result"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return json.dumps(value, ensure_ascii=False)


def _terms(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP)


# ---------------------------------------------------------------------- summarize
def extract_summary(text: str, max_words: int) -> tuple[str, list[str]]:
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]
    if not sentences:
        return "", []
    freq = _terms(text)

    def score(sentence: str) -> float:
        words = [w.lower() for w in _WORD.findall(sentence)]
        return sum(freq[w] for w in words) / (len(words) ** 0.5) if words else 0.0

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(sentences[i]), i))
    chosen: list[int] = []
    words = 0
    for i in ranked:
        length = len(sentences[i].split())
        if chosen and words + length > max_words:
            continue
        chosen.append(i)
        words += length
        if words >= max_words:
            break
    picked = [sentences[i] for i in sorted(chosen)]
    points = [sentences[i] for i in ranked[:3]]
    return " ".join(picked), points


def summarize(request: OfflineRequest) -> OfflineReply:
    inputs = _inputs(request)
    text = as_text(inputs.get("text"))
    max_words = int(inputs.get("max_words") or 120)
    summary, points = extract_summary(text, max_words)
    if not summary:
        summary = "There is nothing to summarize."
    return _reply({"summary": f"{LABEL} {summary}", "points": points})


# ---------------------------------------------------------------------- compose
_LEADING: Final = re.compile(
    r"^(?:please\s+)?(?:send|email|e-mail|write|compose|draft|notify|tell|message)\b"
    r"(?:\s+(?:an?|the)\s+(?:email|message|note|letter))?\s*",
    re.I,
)


def _subject(instructions: str) -> str:
    text = _EMAIL.sub("", instructions)
    text = _URL.sub("", text)
    text = _LEADING.sub("", text.strip())
    text = re.sub(r"\b(?:to|and|it)\s*$", "", text.strip(), flags=re.I).strip(" .,:;-")
    words = text.split()[:8]
    subject = " ".join(words) if words else "Update"
    return subject[:1].upper() + subject[1:]


def compose(request: OfflineRequest) -> OfflineReply:
    inputs = _inputs(request)
    instructions = str(inputs.get("instructions", "")).strip()
    context = as_text(inputs.get("context")).strip()
    body_text = context or instructions
    body = f"Hello,\n\n{body_text}\n\n-- written by fluxos {LABEL}"
    return _reply({"subject": _subject(instructions), "body": body})


# ---------------------------------------------------------------------- transform
def _map_strings(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    return value


def _to_csv(rows: list[dict[str, Any]]) -> str:
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in fields})
    return out.getvalue()


def apply_transform(data: Any, instructions: str) -> Any:
    how = instructions.lower()
    text = as_text(data)
    if "extract" in how and "email" in how:
        return list(dict.fromkeys(_EMAIL.findall(text)))
    if "extract" in how and ("url" in how or "link" in how):
        return list(dict.fromkeys(_URL.findall(text)))
    if "extract" in how and "number" in how:
        return [float(n) if "." in n else int(n) for n in _NUMBER.findall(text)]
    if "csv" in how and isinstance(data, list) and all(isinstance(r, dict) for r in data):
        return _to_csv(data)
    if "json" in how and isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            rows = list(csv.DictReader(io.StringIO(data)))
            return rows or data
    result = data
    if "upper" in how:
        result = _map_strings(result, str.upper)
    elif "lower" in how:
        result = _map_strings(result, str.lower)
    elif "title" in how:
        result = _map_strings(result, str.title)
    if "sort" in how and isinstance(result, list):
        result = sorted(result, key=lambda v: json.dumps(v, sort_keys=True))
    if "reverse" in how and isinstance(result, list):
        result = list(reversed(result))
    if "count" in how:
        return len(result) if isinstance(result, list | dict | str) else 1
    return result


def transform(request: OfflineRequest) -> OfflineReply:
    inputs = _inputs(request)
    return _reply(
        {"result": apply_transform(inputs.get("data"), str(inputs.get("instructions", "")))}
    )


# ---------------------------------------------------------------------- analyze
def measure(data: Any) -> tuple[str, list[str], dict[str, Any]]:
    numbers = data if isinstance(data, list) else None
    if numbers and all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        metrics: dict[str, Any] = {
            "count": len(numbers),
            "sum": sum(numbers),
            "mean": round(statistics.fmean(numbers), 4),
            "min": min(numbers),
            "max": max(numbers),
        }
        answer = (
            f"{len(numbers)} values, mean {metrics['mean']} "
            f"(min {metrics['min']}, max {metrics['max']})."
        )
        return answer, [answer], metrics
    text = as_text(data)
    words = _WORD.findall(text)
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    top = [w for w, _ in _terms(text).most_common(5)]
    metrics = {"words": len(words), "sentences": len(sentences), "top_terms": top}
    if isinstance(data, list):
        metrics["items"] = len(data)
    findings = [f"{len(words)} words in {len(sentences)} sentences"]
    if top:
        findings.append("most frequent terms: " + ", ".join(top))
    answer = "; ".join(findings) + "."
    return answer, findings, metrics


def analyze(request: OfflineRequest) -> OfflineReply:
    inputs = _inputs(request)
    answer, findings, metrics = measure(inputs.get("data"))
    return _reply({"answer": f"{LABEL} {answer}", "findings": findings, "metrics": metrics})


# ---------------------------------------------------------------------- aggregate
def combine(items: list[Any]) -> tuple[Any, str]:
    present = [i for i in items if i is not None]
    if present and all(isinstance(i, dict) for i in present):
        merged: dict[str, Any] = {}
        for item in present:
            for key, value in item.items():
                if isinstance(merged.get(key), list) and isinstance(value, list):
                    merged[key] = merged[key] + value
                else:
                    merged[key] = value
        result: Any = merged
    else:
        result = present
    texts = [as_text(i) for i in present]
    text = "\n\n".join(t for t in texts if t)
    return result, text


def aggregate(request: OfflineRequest) -> OfflineReply:
    inputs = _inputs(request)
    items = inputs.get("items")
    items = items if isinstance(items, list) else [items]
    result, text = combine(items)
    count = sum(1 for i in items if i is not None)
    return _reply(
        {
            "text": f"{LABEL} {count} of {len(items)} items combined.\n\n{text}".strip(),
            "result": result,
            "count": count,
        }
    )
