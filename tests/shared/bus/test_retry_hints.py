"""Retry timing a handler can influence: jitter on the consumer's backoff, Retry-After hints."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from shared.bus import Bus, Delivery
from shared.bus.deadletter import list_dead_letters
from shared.errors import CodedTransientError
from tests.shared.bus.conftest import ORDER, OrderWidgetV1, RunConsumer, eventually, order_consumer


class _Throttled(CodedTransientError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("shop.throttled", "the warehouse asked us to wait")
        self.retry_after = retry_after


def test_jitter_spreads_each_delay_within_its_fraction() -> None:
    spec = order_consumer(backoff=(timedelta(seconds=10),), jitter=0.2)
    delays = {spec.jittered_delay(1).total_seconds() for _ in range(200)}
    assert all(8.0 <= d <= 12.0 for d in delays)
    assert len(delays) > 50, "jitter must actually vary the delay"
    assert order_consumer(backoff=(timedelta(seconds=10),)).jittered_delay(1) == timedelta(
        seconds=10
    )


@pytest.mark.parametrize("jitter", [-0.1, 1.0])
def test_jitter_outside_a_fraction_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter"):
        order_consumer(jitter=jitter)


async def test_a_retry_after_hint_longer_than_the_backoff_wins(
    bus: Bus, run_consumer: RunConsumer
) -> None:
    seen: list[float] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        seen.append(asyncio.get_running_loop().time())
        if delivery.attempt == 1:
            raise _Throttled(retry_after=0.8)

    spec = order_consumer(max_deliver=3, backoff=(timedelta(milliseconds=50),))
    await run_consumer(spec, handle)
    await bus.publish(ORDER, OrderWidgetV1(order_id="o-9", item="gear", quantity=1))

    async def twice() -> bool:
        return len(seen) == 2

    await eventually(twice)
    assert seen[1] - seen[0] >= 0.75
    assert await list_dead_letters(bus) == []
