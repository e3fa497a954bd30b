"""A consumer of a few kinds of a busy subject: the server filters, and a subject whose shape
changed (a token added) keeps the messages of its old shape flowing through an upgrade."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from enum import StrEnum

import pytest

from contracts.ids import SubjectToken
from contracts.model import ContractModel
from contracts.platform.errors import BusErrorCode
from contracts.streams import Consumer
from contracts.subject import event
from shared.bus import Bus, Delivery
from shared.bus.deadletter import list_dead_letters
from shared.bus.provisioning import ensure_consumer
from tests.shared.bus.conftest import SHOP_EVENTS, RunConsumer, eventually


class Speed(StrEnum):
    EXPRESS = "express"
    STANDARD = "standard"


class ParcelSentV1(ContractModel):
    order_id: SubjectToken
    speed: Speed


SENT = event("shop", "parcel", "sent", ParcelSentV1, tokens=("org_id", "order_id", "speed"))
SENT_BEFORE = event("shop", "parcel", "sent", ParcelSentV1, tokens=("org_id", "order_id"))
"""The subject as an earlier release published it, before it carried the speed."""


def _consumer(**overrides: object) -> Consumer[ParcelSentV1]:
    values: dict[str, object] = {
        "durable": "shop-express-parcels",
        "service": "shop",
        "stream": SHOP_EVENTS,
        "subject": SENT,
        "description": "express parcels only",
        "ack_wait": timedelta(seconds=5),
        "max_deliver": 3,
        "backoff": (timedelta(milliseconds=50),),
        "concurrency": 8,
        "filter_choices": (("speed", (Speed.EXPRESS.value,)),),
        "legacy_subjects": (SENT_BEFORE,),
    }
    values.update(overrides)
    return Consumer(**values)  # type: ignore[arg-type]


def test_filter_subjects_are_every_choice_then_the_legacy_shapes() -> None:
    both = _consumer(filter_choices=(("speed", ("express", "standard")),))
    assert both.filter_subjects == (
        "shop.v1.evt.parcel.*.*.express.sent",
        "shop.v1.evt.parcel.*.*.standard.sent",
        "shop.v1.evt.parcel.*.*.sent",
    )
    assert _consumer(legacy_subjects=()).filter_subject == "shop.v1.evt.parcel.*.*.express.sent"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"filter_choices": (("speed", ()),)}, "at least one value"),
        ({"filter_choices": (("colour", ("red",)),)}, "no token"),
        ({"filter_choices": (("speed", ("a.>",)),)}, "cannot be a subject token"),
        ({"filter_tokens": (("speed", "express"),)}, "filtered twice"),
        ({"legacy_subjects": (SENT,)}, "overlaps"),
    ],
)
def test_bad_filter_declarations_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _consumer(**overrides)


async def test_an_existing_durable_takes_the_new_filter_and_keeps_its_old_messages(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    # The previous release: the durable filters the old shape, and a message waits in it.
    before = _consumer(subject=SENT_BEFORE, filter_choices=(), legacy_subjects=())
    await ensure_consumer(bus.js, before)
    await bus.publish(SENT_BEFORE, ParcelSentV1(order_id="p-old", speed=Speed.STANDARD), org_id="o")

    spec = _consumer()
    await ensure_consumer(bus.js, spec)  # a second start with the new declaration
    info = await bus.js.consumer_info(spec.stream.name, spec.durable)
    assert info.config.filter_subjects == list(spec.filter_subjects)
    assert info.num_pending == 1  # its position was kept

    got: list[str] = []

    async def handle(parcel: ParcelSentV1, delivery: Delivery) -> None:
        got.append(parcel.order_id)

    await run_consumer(spec, handle)
    await bus.publish(SENT, ParcelSentV1(order_id="p-slow", speed=Speed.STANDARD), org_id="o")
    await bus.publish(SENT, ParcelSentV1(order_id="p-fast", speed=Speed.EXPRESS), org_id="o")
    # A message whose subject and payload disagree is still refused, in either shape.
    liar = bus.message(SENT, ParcelSentV1(order_id="p-liar", speed=Speed.STANDARD), org_id="o")
    lying_subject = SENT.filter(org_id="o", order_id="p-liar", speed="express")
    await bus.js.publish(lying_subject, liar.body, headers=liar.headers)

    async def liar_dead_lettered() -> bool:
        letters = await list_dead_letters(bus)
        return any(e.letter.subject == lying_subject for e in letters)

    await eventually(liar_dead_lettered)
    letter = next(e for e in await list_dead_letters(bus) if e.letter.subject == lying_subject)
    assert letter.letter.code == BusErrorCode.WRONG_SUBJECT
    await eventually(lambda: _truthy(len(got) >= 2))
    await asyncio.sleep(0.3)  # anything not filtered out would have arrived by now
    assert sorted(got) == ["p-fast", "p-old"]


async def _truthy(value: bool) -> bool:
    return value
