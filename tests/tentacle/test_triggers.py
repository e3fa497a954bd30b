"""Triggered tasks on the real servers: the trigger RPCs, bad input, and firing on events
(once per trigger and event, org-scoped, never when disabled), with answers through mimic."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.envelope import Actor, ActorKind
from contracts.ids import new_id
from contracts.mimic.models import ExternalActorV1, IntegrationEventV1, ReplyHandleV1, action_id
from contracts.mimic.subjects import ACTION_EXECUTE, WEBHOOK_RECEIVED
from contracts.tentacle.models import ListTasksV1, TaskStatus, task_id_for
from contracts.tentacle.objects import (
    OBJECT_CREATE,
    CreateObjectV1,
    ObjectChange,
    ObjectChangedV1,
    ObjectV1,
)
from contracts.tentacle.subjects import TASK_LIST
from contracts.tentacle.triggers import (
    TRIGGER_CREATE,
    TRIGGER_DELETE,
    TRIGGER_DISABLE,
    TRIGGER_ENABLE,
    TRIGGER_GET,
    TRIGGER_LIST,
    TRIGGER_UPDATE,
    CreateTriggerV1,
    ListTriggersV1,
    TriggerRefV1,
    TriggerV1,
    UpdateTriggerV1,
)
from shared.bus import Bus, RemoteError
from shared.bus.codec import decode
from shared.context import CallContext, new_stamp, system_actor
from shared.db.urls import to_asyncpg_dsn
from shared.service import ServiceApp
from tentacle.adapters.pg import TaskDb, ordered_publisher
from tentacle.domain.triggers import fire_request_id
from tentacle.service.answer_trigger import answer_key
from tentacle.service.fire_trigger import (
    callback_key,
    fire_for_integration_event,
    fire_for_object_event,
)
from tentacle.service.trigger_deps import TriggerDeps
from tests.tentacle.conftest import ORG, OTHER_ORG, Caller, Start

DISCORD_INTEGRATION = "int-discord-1"


async def make(caller: Caller, **fields: Any) -> TriggerV1:
    values: dict[str, Any] = {
        "goal": "Tell a programming joke",
        "trigger_source": "discord",
        "event_filter": {"command": "ping"},
        "response_type": "discord_followup",
    }
    values.update(fields)
    try:
        request = CreateTriggerV1.model_validate(values)
    except ValidationError:  # sent anyway, as a careless client would
        request = CreateTriggerV1.model_construct(**values)
    result: TriggerV1 = await caller.ask(TRIGGER_CREATE, request)
    return result


def ping_event(
    command: str = "ping", integration_id: str = DISCORD_INTEGRATION
) -> IntegrationEventV1:
    return IntegrationEventV1(
        event_id=new_id(),
        integration_id=integration_id,
        provider="discord",
        event_type="application_command",
        delivery_id=new_id(),
        received_at=datetime.now(UTC),
        channel_id="998877",
        command=command,
        actor=ExternalActorV1(id="42", name="ada"),
        reply=ReplyHandleV1(
            kind="discord_interaction", application_id="123456789", token="tok-" + new_id()
        ),
        payload={"type": 2},
    )


async def publish_event(
    bus: Bus, event: IntegrationEventV1, org_id: str = ORG, message_id: str | None = None
) -> None:
    await bus.publish(
        WEBHOOK_RECEIVED,
        event,
        org_id=org_id,
        actor=Actor(kind=ActorKind.INTEGRATION, id=event.integration_id),
        message_id=message_id,
    )


async def eventually(check: Any, *, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not met in time")
        await asyncio.sleep(0.05)


async def fetch(caller: Caller, trigger_id: str) -> TriggerV1:
    result: TriggerV1 = await caller.ask(TRIGGER_GET, TriggerRefV1(trigger_id=trigger_id))
    return result


async def action_commands(bus: Bus) -> list[Any]:
    """Every outbound action command staged for mimic (mimic is not running here), read
    without consuming them."""
    state = (await bus.js.stream_info("MIMIC_COMMANDS")).state
    out = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        msg = await bus.js.get_msg("MIMIC_COMMANDS", seq)
        if msg.subject == ACTION_EXECUTE.wildcard and msg.data:
            out.append(decode(ACTION_EXECUTE, msg.data, strict=True, max_bytes=1 << 20))
    return out


# ---------------------------------------------------------------------------- the RPCs
async def test_triggers_are_created_read_changed_and_deleted_per_org(
    tentacle: ServiceApp, caller: Caller, stranger: Caller
) -> None:
    trigger = await make(caller, name="jokes", integration_id=DISCORD_INTEGRATION)
    assert trigger.enabled
    assert trigger.version == 1
    assert trigger.org_id == ORG
    assert trigger.created_by == caller.actor
    assert await fetch(caller, trigger.trigger_id) == trigger

    listed = await caller.ask(TRIGGER_LIST, ListTriggersV1())
    assert [t.trigger_id for t in listed.triggers] == [trigger.trigger_id]
    assert (await stranger.ask(TRIGGER_LIST, ListTriggersV1())).triggers == []
    for subject in (TRIGGER_GET, TRIGGER_DISABLE, TRIGGER_DELETE):
        with pytest.raises(RemoteError) as caught:
            await stranger.ask(subject, TriggerRefV1(trigger_id=trigger.trigger_id))
        assert caught.value.code == "tentacle.trigger_not_found"

    changed = await caller.ask(
        TRIGGER_UPDATE,
        UpdateTriggerV1(
            trigger_id=trigger.trigger_id,
            event_filter={"command": {"$in": ["ping", "joke"]}},
            expected_version=1,
        ),
    )
    assert changed.version == 2
    assert changed.event_filter == {"command": {"$in": ["ping", "joke"]}}
    with pytest.raises(RemoteError) as caught:
        await caller.ask(
            TRIGGER_UPDATE,
            UpdateTriggerV1(trigger_id=trigger.trigger_id, goal="stale", expected_version=1),
        )
    assert caught.value.code == "tentacle.trigger_invalid"

    disabled = await caller.ask(TRIGGER_DISABLE, TriggerRefV1(trigger_id=trigger.trigger_id))
    assert not disabled.enabled
    only_enabled = await caller.ask(TRIGGER_LIST, ListTriggersV1(include_disabled=False))
    assert only_enabled.triggers == []
    enabled = await caller.ask(TRIGGER_ENABLE, TriggerRefV1(trigger_id=trigger.trigger_id))
    assert enabled.enabled
    assert enabled.version == 4

    await caller.ask(TRIGGER_DELETE, TriggerRefV1(trigger_id=trigger.trigger_id))
    with pytest.raises(RemoteError) as caught:
        await fetch(caller, trigger.trigger_id)
    assert caught.value.code == "tentacle.trigger_not_found"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"event_filter": {"comand": "ping"}}, "tentacle.trigger_filter_invalid"),
        ({"event_filter": {"command": {"$regex": "p.*"}}}, "tentacle.trigger_filter_invalid"),
        ({"event_filter": {"channel_id": {"$in": "123"}}}, "tentacle.trigger_filter_invalid"),
        ({"trigger_source": "github"}, "tentacle.trigger_invalid"),
        (
            {"trigger_source": "platform", "integration_id": "x", "response_type": "none"},
            "tentacle.trigger_invalid",
        ),
        ({"response_type": "webhook"}, "tentacle.trigger_invalid"),
        ({"trigger_source": "email"}, "bus.invalid_payload"),
        ({"goal": ""}, "bus.invalid_payload"),
    ],
)
async def test_bad_triggers_are_refused_with_a_code_and_change_nothing(
    tentacle: ServiceApp, caller: Caller, fields: dict[str, Any], code: str
) -> None:
    with pytest.raises(RemoteError) as caught:
        await make(caller, **fields)
    assert caught.value.code == code
    assert (await caller.ask(TRIGGER_LIST, ListTriggersV1())).triggers == []


async def test_an_update_that_breaks_the_filter_is_refused_and_keeps_the_trigger(
    tentacle: ServiceApp, caller: Caller
) -> None:
    trigger = await make(caller)
    with pytest.raises(RemoteError) as caught:
        await caller.ask(
            TRIGGER_UPDATE,
            UpdateTriggerV1(trigger_id=trigger.trigger_id, event_filter={"nope": 1}),
        )
    assert caught.value.code == "tentacle.trigger_filter_invalid"
    assert await fetch(caller, trigger.trigger_id) == trigger


# ---------------------------------------------------------------------------- firing
async def test_an_event_fires_matching_enabled_triggers_of_its_org_once(
    tentacle: ServiceApp, bus: Bus, caller: Caller, stranger: Caller
) -> None:
    ping = await make(caller, integration_id=DISCORD_INTEGRATION)
    anywhere = await make(caller, response_type="none")  # any Discord integration
    disabled = await make(caller, enabled=False)
    other_command = await make(caller, event_filter={"command": "deploy"})
    other_integration = await make(caller, integration_id="int-discord-2")
    foreign = await make(stranger)

    event = ping_event()
    await publish_event(bus, event)
    fired = {
        t.trigger_id: task_id_for(ORG, fire_request_id(t.trigger_id, event.event_id))
        for t in (ping, anywhere)
    }
    for task_id in fired.values():
        done = await caller.wait(task_id, timeout=60)
        assert done.task.status is TaskStatus.COMPLETED
        assert done.task.goal == "Tell a programming joke"
        assert done.task.created_by == caller.actor

    # Redelivered beyond JetStream's duplicate window (another message id, same event).
    await publish_event(bus, event, message_id=new_id())
    # An event of another org with the same integration id fires only that org's trigger.
    foreign_event = ping_event()
    await publish_event(bus, foreign_event, org_id=OTHER_ORG)
    foreign_task = task_id_for(
        OTHER_ORG, fire_request_id(foreign.trigger_id, foreign_event.event_id)
    )
    await stranger.wait(foreign_task, timeout=60)

    async def consumed() -> bool:
        info = await bus.js.consumer_info("MIMIC_WEBHOOKS", "tentacle-trigger-integrations")
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(consumed, what="events consumed")
    counts = {
        t.trigger_id: (await fetch(caller, t.trigger_id)).fire_count
        for t in (ping, anywhere, disabled, other_command, other_integration)
    }
    assert counts == {
        ping.trigger_id: 1,
        anywhere.trigger_id: 1,
        disabled.trigger_id: 0,
        other_command.trigger_id: 0,
        other_integration.trigger_id: 0,
    }
    assert (await fetch(stranger, foreign.trigger_id)).fire_count == 1
    tasks = await caller.ask(TASK_LIST, ListTasksV1())
    assert sorted(t.task_id for t in tasks.tasks) == sorted(fired.values())


async def test_a_finished_task_answers_its_event_once_through_mimic(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    trigger = await make(caller, integration_id=DISCORD_INTEGRATION)
    event = ping_event()
    await publish_event(bus, event)
    task_id = task_id_for(ORG, fire_request_id(trigger.trigger_id, event.event_id))
    done = await caller.wait(task_id, timeout=60)
    assert done.task.status is TaskStatus.COMPLETED

    async def answered() -> bool:
        return len(await action_commands(bus)) >= 1

    await eventually(answered, what="an answer staged for mimic")
    [command] = await action_commands(bus)
    key = answer_key(trigger.trigger_id, event.event_id)
    assert command.data.idempotency_key == key
    assert command.data.integration_id == DISCORD_INTEGRATION
    action = command.data.action
    assert action.type == "reply_interaction"
    assert action.reply == event.reply
    assert action.text == done.task.summary
    assert command.meta.org_id == ORG
    assert action_id(ORG, key)  # mimic reports on this id


async def test_two_replicas_racing_on_one_event_fire_it_once(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    trigger = await make(caller)
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    pools = [
        TaskDb(lambda: to_asyncpg_dsn(url), ordered_publisher(bus.publish_message))
        for _ in range(2)
    ]
    for pool in pools:
        await pool.connect()
    try:
        replicas = [TriggerDeps(db=pool, platform=tentacle.settings.platform) for pool in pools]
        event = ping_event()
        stamp = new_stamp("IntegrationEventV1", org_id=ORG, default_actor=system_actor("mimic"))
        results = await asyncio.gather(
            *(fire_for_integration_event(r, event, stamp.to_meta()) for r in replicas * 3)
        )
    finally:
        for pool in pools:
            await pool.close()
    created = [task for result in results for task in result]
    assert created == [task_id_for(ORG, fire_request_id(trigger.trigger_id, event.event_id))]
    await caller.wait(created[0], timeout=60)
    assert (await fetch(caller, trigger.trigger_id)).fire_count == 1


async def test_platform_triggers_fire_when_a_task_finishes_but_not_on_their_own_tasks(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    trigger = await make(
        caller,
        trigger_source="platform",
        event_filter={"event_type": "task_completed", "status": "completed"},
        response_type="none",
        goal="Tell a programming joke",
    )
    failed_only = await make(
        caller,
        trigger_source="platform",
        event_type="task_failed",
        event_filter={},
        response_type="none",
    )
    first = await caller.create("Say hello", plan={"steps": [{"id": "a", "agent": "noop"}]})
    await caller.wait(first.task_id, timeout=60)
    follow_up = task_id_for(
        ORG,
        fire_request_id(
            trigger.trigger_id,
            f"task-{first.task_id}-{(await caller.get(first.task_id)).task.event_seq}",
        ),
    )
    done = await caller.wait(follow_up, timeout=60)
    assert done.task.status is TaskStatus.COMPLETED

    async def consumed() -> bool:
        info = await bus.js.consumer_info("TENTACLE_EVENTS", "tentacle-trigger-task-events")
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(consumed, what="lifecycle events consumed")
    # The follow-up finishing fired nothing more: a trigger never feeds on its own tasks.
    assert (await fetch(caller, trigger.trigger_id)).fire_count == 1
    assert (await fetch(caller, failed_only.trigger_id)).fire_count == 0


async def test_object_triggers_fire_on_matching_changes_but_never_on_their_own_tasks(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    trigger = await make(
        caller,
        trigger_source="platform",
        event_type="object_created",
        event_filter={"object_type": "contact", "data.company": {"$in": ["Acme", "Initech"]}},
        response_type="none",
    )
    matching: ObjectV1 = await caller.ask(
        OBJECT_CREATE, CreateObjectV1(type="contact", data={"name": "Ada", "company": "Acme"})
    )
    await caller.ask(
        OBJECT_CREATE, CreateObjectV1(type="contact", data={"name": "Eve", "company": "Globex"})
    )
    await caller.ask(OBJECT_CREATE, CreateObjectV1(type="note", data={"company": "Acme"}))
    event_id = f"object-{matching.id}-{matching.version}-created"
    task_id = task_id_for(ORG, fire_request_id(trigger.trigger_id, event_id))
    fired_task = (await caller.wait(task_id, timeout=60)).task

    async def consumed() -> bool:
        info = await bus.js.consumer_info(
            "TENTACLE_WORKSPACE_EVENTS", "tentacle-trigger-objects-created"
        )
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(consumed, what="object events consumed")
    assert (await fetch(caller, trigger.trigger_id)).fire_count == 1

    # The same kind of change made from inside the fired task's execution tree fires nothing.
    inside = CallContext(new_id(), fired_task.root_call_id, ORG, caller.actor)
    meta = new_stamp("ObjectChangedV1", parent=inside, default_actor=caller.actor).to_meta()
    again = ObjectChangedV1(
        org_id=ORG,
        object_type="contact",
        object_id="made-by-the-task",
        change=ObjectChange.CREATED,
        version=1,
        object=matching.model_copy(update={"id": "made-by-the-task"}),
    )
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    pool = TaskDb(lambda: to_asyncpg_dsn(url), ordered_publisher(bus.publish_message))
    await pool.connect()
    try:
        deps = TriggerDeps(db=pool, platform=tentacle.settings.platform)
        assert await fire_for_object_event(deps, again, meta) == []
        # Outside that tree the same change would have fired (the guard, not the filter).
        meta = new_stamp("ObjectChangedV1", org_id=ORG, default_actor=caller.actor).to_meta()
        assert len(await fire_for_object_event(deps, again, meta)) == 1
    finally:
        await pool.close()
    assert (await fetch(caller, trigger.trigger_id)).fire_count == 2


# ---------------------------------------------------------------------------- routing
def issue_event(repository: str = "acme/api") -> IntegrationEventV1:
    return IntegrationEventV1(
        event_id=new_id(),
        integration_id="int-github-1",
        provider="github",
        event_type="issues_opened",
        delivery_id=new_id(),
        received_at=datetime.now(UTC),
        channel_id=repository,
        text="Crash on start",
        actor=ExternalActorV1(id="7", name="ada"),
        payload={"issue": {"number": 12, "labels": ["bug"]}},
    )


ROUTE: dict[str, Any] = {
    "goal": None,
    "trigger_source": "github",
    "event_type": "issues_opened",
    "event_filter": {"repository": "acme/api"},
    "response_type": "none",
}


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"goal": "also a task"}, "exactly one of goal"),
        ({"callback": None}, "exactly one of goal"),
        ({"response_type": "webhook", "response_integration_id": "x"}, "answers nothing"),
        ({"callback": {"kind": "message", "integration_id": "s"}}, "needs its text"),
        (
            {"callback": {"kind": "message", "integration_id": "s", "text": "{titel}"}},
            "no field 'titel'",
        ),
    ],
)
async def test_bad_routes_are_refused(
    tentacle: ServiceApp, caller: Caller, fields: dict[str, Any], says: str
) -> None:
    values = {
        **ROUTE,
        "callback": {"kind": "message", "integration_id": "s", "text": "hi"},
        **fields,
    }
    with pytest.raises(RemoteError) as caught:
        await make(caller, **values)
    assert caught.value.code == "tentacle.trigger_invalid"
    assert says in str(caught.value)


async def test_a_route_sends_its_callback_once_per_event_without_a_task(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    to_slack = await make(
        caller,
        **ROUTE,
        callback={
            "kind": "message",
            "integration_id": "int-slack-1",
            "channel_id": "C0123",
            "text": "New issue in {repository} by {actor.name}: {text} {payload.issue.labels}",
        },
    )
    to_hook = await make(
        caller, **ROUTE, callback={"kind": "webhook", "integration_id": "int-hook-1"}
    )
    event = issue_event()
    await publish_event(bus, event)
    await publish_event(bus, event, message_id=new_id())  # redelivered
    await publish_event(bus, issue_event("acme/other"))  # filtered out

    async def routed() -> bool:
        return len(await action_commands(bus)) >= 2

    await eventually(routed, what="two callbacks staged")

    async def consumed() -> bool:
        info = await bus.js.consumer_info("MIMIC_WEBHOOKS", "tentacle-trigger-integrations")
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(consumed, what="events consumed")
    commands = {c.data.integration_id: c.data for c in await action_commands(bus)}
    assert len(await action_commands(bus)) == 2
    message = commands["int-slack-1"]
    assert message.idempotency_key == callback_key(to_slack.trigger_id, event.event_id)
    assert message.action.type == "send_message"
    assert message.action.channel_id == "C0123"
    assert message.action.text == 'New issue in acme/api by ada: Crash on start ["bug"]'
    hook = commands["int-hook-1"].action
    assert hook.type == "post_webhook"
    assert hook.event == "issues_opened"
    assert hook.payload["trigger_id"] == to_hook.trigger_id
    assert hook.payload["event"]["payload"] == {"issue": {"number": 12, "labels": ["bug"]}}
    assert (await caller.ask(TASK_LIST, ListTasksV1())).tasks == []
    assert (await fetch(caller, to_slack.trigger_id)).fire_count == 1


@pytest.mark.parametrize(
    ("provider", "response", "action_type"),
    [("slack", "slack_message", "send_message"), ("webhook", "webhook", "post_webhook")],
)
async def test_answers_go_as_slack_messages_and_webhook_posts(
    tentacle: ServiceApp,
    bus: Bus,
    caller: Caller,
    provider: str,
    response: str,
    action_type: str,
) -> None:
    integration = f"int-{provider}-1"
    trigger = await make(
        caller,
        trigger_source=provider,
        event_filter={"text": {"$contains": "joke"}},
        response_type=response,
    )
    event = IntegrationEventV1(
        event_id=new_id(),
        integration_id=integration,
        provider=provider,
        event_type="message",
        delivery_id=new_id(),
        received_at=datetime.now(UTC),
        channel_id="C0999",
        text="tell me a joke",
        payload={},
    )
    await publish_event(bus, event)
    task_id = task_id_for(ORG, fire_request_id(trigger.trigger_id, event.event_id))
    done = await caller.wait(task_id, timeout=60)

    async def answered() -> bool:
        return len(await action_commands(bus)) >= 1

    await eventually(answered, what="an answer staged for mimic")
    [command] = await action_commands(bus)
    assert command.data.integration_id == integration
    action = command.data.action
    assert action.type == action_type
    if action_type == "send_message":
        assert action.channel_id == "C0999"
        assert action.text == done.task.summary
    else:
        assert action.payload["task_id"] == task_id
        assert action.payload["status"] == "completed"
        assert action.payload["text"] == done.task.summary


async def test_two_running_replicas_fire_a_redelivered_event_once(
    start_tentacle: Start, bus: Bus, caller: Caller
) -> None:
    await start_tentacle()
    await start_tentacle()
    trigger = await make(caller, response_type="none")
    event = ping_event()
    # The same event arriving five times (as redeliveries past JetStream's duplicate window
    # would), spread over both replicas by the shared durable consumer.
    await asyncio.gather(*(publish_event(bus, event, message_id=new_id()) for _ in range(5)))
    task_id = task_id_for(ORG, fire_request_id(trigger.trigger_id, event.event_id))
    await caller.wait(task_id, timeout=60)

    async def consumed() -> bool:
        info = await bus.js.consumer_info("MIMIC_WEBHOOKS", "tentacle-trigger-integrations")
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await eventually(consumed, what="events consumed")
    assert (await fetch(caller, trigger.trigger_id)).fire_count == 1
    assert [t.task_id for t in (await caller.ask(TASK_LIST, ListTasksV1())).tasks] == [task_id]


async def test_a_trigger_does_not_fire_for_an_event_older_than_itself(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    event = ping_event()  # received now, before the trigger exists
    await asyncio.sleep(0.01)
    trigger = await make(caller)
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    pool = TaskDb(lambda: to_asyncpg_dsn(url), ordered_publisher(bus.publish_message))
    await pool.connect()
    try:
        deps = TriggerDeps(db=pool, platform=tentacle.settings.platform)
        stamp = new_stamp("IntegrationEventV1", org_id=ORG, default_actor=system_actor("mimic"))
        assert await fire_for_integration_event(deps, event, stamp.to_meta()) == []
        fresh = event.model_copy(update={"event_id": new_id(), "received_at": datetime.now(UTC)})
        assert len(await fire_for_integration_event(deps, fresh, stamp.to_meta())) == 1
    finally:
        await pool.close()
    assert (await fetch(caller, trigger.trigger_id)).fire_count == 1


async def test_without_an_encryption_key_the_answer_goes_to_the_channel(
    tentacle: ServiceApp, bus: Bus, caller: Caller
) -> None:
    await make(caller)
    url = tentacle.db.engine.url.render_as_string(hide_password=False)
    keyless = tentacle.settings.platform.model_copy(
        update={"secret_key": None, "encryption_keys": None}
    )
    pool = TaskDb(lambda: to_asyncpg_dsn(url), ordered_publisher(bus.publish_message))
    await pool.connect()
    try:
        deps = TriggerDeps(db=pool, platform=keyless)
        event = ping_event()
        stamp = new_stamp("IntegrationEventV1", org_id=ORG, default_actor=system_actor("mimic"))
        [task_id] = await fire_for_integration_event(deps, event, stamp.to_meta())
    finally:
        await pool.close()
    done = await caller.wait(task_id, timeout=60)

    async def answered() -> bool:
        return len(await action_commands(bus)) >= 1

    await eventually(answered, what="an answer staged for mimic")
    [command] = await action_commands(bus)
    assert command.data.action.type == "send_message"
    assert command.data.action.channel_id == "998877"
    assert command.data.action.text == done.task.summary
