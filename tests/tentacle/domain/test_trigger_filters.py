"""Trigger event filters: what they accept at creation and what they match."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.envelope import ErrorV1
from contracts.tentacle.events import CompletedDetailV1, FailedDetailV1, TaskEventKind, TaskEventV1
from contracts.tentacle.models import TaskStatus, TerminalReason
from contracts.tentacle.triggers import TriggerSource
from tentacle.domain.trigger_errors import TriggerError
from tentacle.domain.trigger_filters import parse_filter
from tentacle.domain.triggers import MAX_ANSWER, answer_text

PING: dict[str, Any] = {
    "event_type": "application_command",
    "provider": "discord",
    "command": "ping",
    "text": "deploy staging now",
    "channel_id": "998877",
    "actor": {"id": "42", "name": "ada"},
    "options": {"target": "all", "count": 3},
    "payload": {"guild_id": "1", "nested": {"flag": True}},
}


def matches(raw: dict[str, Any], event: dict[str, Any] = PING) -> bool:
    return parse_filter(raw, TriggerSource.DISCORD).matches(event)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, True),
        ({"command": "ping"}, True),
        ({"command": "pong"}, False),
        ({"channel": "998877"}, True),
        ({"repository": "998877"}, True),
        ({"channel_id": ["1", "998877"]}, True),
        ({"channel_id": ["1", "2"]}, False),
        ({"command": "ping", "channel_id": "1"}, False),
        ({"text": {"$contains": "staging"}}, True),
        ({"text": {"$starts_with": "deploy"}}, True),
        ({"text": {"$starts_with": "staging"}}, False),
        ({"options.count": {"$gte": 3, "$lt": 4}}, True),
        ({"options.count": {"$gt": 3}}, False),
        ({"options.count": "3"}, False),
        ({"options.missing": {"$exists": False}}, True),
        ({"options.target": {"$exists": True}}, True),
        ({"options.target": {"$ne": "all"}}, False),
        ({"options.target": {"$nin": ["some"]}}, True),
        ({"payload.nested.flag": True}, True),
        ({"payload.nested.flag": 1}, False),
        ({"actor.name": "ada"}, True),
        ({"command": {"$gt": 5}}, False),
    ],
)
def test_conditions_match_as_documented(raw: dict[str, Any], expected: bool) -> None:
    assert matches(raw) is expected


@pytest.mark.parametrize(
    ("raw", "source", "says"),
    [
        ({"comand": "ping"}, TriggerSource.DISCORD, "no field 'comand'"),
        ({"command": {"$regex": ".*"}}, TriggerSource.DISCORD, "unknown operator"),
        ({"command": {"$in": "ping"}}, TriggerSource.DISCORD, "takes a list"),
        ({"command": {"$in": []}}, TriggerSource.DISCORD, "takes a list"),
        ({"command": {}}, TriggerSource.DISCORD, "empty condition"),
        ({"command": {"$exists": "yes"}}, TriggerSource.DISCORD, "true or false"),
        ({"options.n": {"$gt": [1]}}, TriggerSource.DISCORD, "number or a string"),
        ({"command": {"nested": "x"}}, TriggerSource.DISCORD, "unknown operator"),
        ({"command": [{"a": 1}]}, TriggerSource.DISCORD, "expected a string"),
        ({"command": "x" * 501}, TriggerSource.DISCORD, "at most 500"),
        ({"payload..x": 1}, TriggerSource.DISCORD, "not a field path"),
        ({f"options.o{i}": i for i in range(21)}, TriggerSource.DISCORD, "at most 20"),
        ({"command": "ping"}, TriggerSource.PLATFORM, "platform events have no field"),
        ({"object_type": "x", "data.a.b": 1}, TriggerSource.PLATFORM, None),
    ],
)
def test_malformed_filters_are_refused_with_a_code(
    raw: dict[str, Any], source: TriggerSource, says: str | None
) -> None:
    if says is None:
        parse_filter(raw, source)
        return
    with pytest.raises(TriggerError) as caught:
        parse_filter(raw, source)
    assert caught.value.code == "tentacle.trigger_filter_invalid"
    assert says in str(caught.value)


def test_answers_say_what_the_task_gave_or_why_it_failed() -> None:
    def ended(kind: TaskEventKind, status: TaskStatus, detail: Any) -> TaskEventV1:
        return TaskEventV1(
            org_id="acme",
            task_id="t1",
            seq=5,
            kind=kind,
            status=status,
            occurred_at=datetime.now(UTC),
            detail=detail,
        )

    done = ended(TaskEventKind.COMPLETED, TaskStatus.COMPLETED, CompletedDetailV1(summary="42"))
    assert answer_text(done) == "42"
    long = CompletedDetailV1(result={"text": "x" * 5000})
    assert (
        len(answer_text(ended(TaskEventKind.COMPLETED, TaskStatus.COMPLETED, long))) == MAX_ANSWER
    )
    failed = FailedDetailV1(
        reason=TerminalReason.STEP_FAILED,
        error=ErrorV1(code="tentacle.step_failed", message="the site was down"),
    )
    text = answer_text(ended(TaskEventKind.FAILED, TaskStatus.FAILED, failed))
    assert text == "Sorry, that did not work: the site was down"
