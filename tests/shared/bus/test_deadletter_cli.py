"""`fluxos deadletter list | show | replay` against a real server, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from shared.bus import Bus, Delivery
from shared.errors import CodedPermanentError
from tests.shared.bus.conftest import ORDER, OrderWidgetV1, RunConsumer, eventually, order_consumer


async def _fluxos(*args: str, nats_url: str, home: Path) -> tuple[int, str, str]:
    env = {**os.environ, "FLUXOS_NATS_URL": nats_url, "FLUXOS_HOME": str(home)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shared.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_an_operator_finds_inspects_and_replays_a_dead_letter(
    bus: Bus, run_consumer: RunConsumer, nats_url: str, tmp_path: Path
) -> None:
    stock = {"gear": 0}
    shipped: list[str] = []

    async def handle(order: OrderWidgetV1, delivery: Delivery) -> None:
        if stock[order.item] < order.quantity:
            raise CodedPermanentError("shop.out_of_stock", f"{order.item} is out of stock")
        shipped.append(order.order_id)

    await run_consumer(order_consumer(), handle)
    await bus.publish(ORDER, OrderWidgetV1(order_id="o-cli", item="gear", quantity=1))

    async def listed() -> bool:
        code, out, _ = await _fluxos(
            "deadletter", "list", "--json", nats_url=nats_url, home=tmp_path
        )
        return code == 0 and "shop.out_of_stock" in out

    await eventually(listed, timeout=30)
    code, out, err = await _fluxos("deadletter", "list", "--json", nats_url=nats_url, home=tmp_path)
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 1
    assert rows[0]["code"] == "shop.out_of_stock"
    assert rows[0]["consumer"] == "shop-orders"
    seq = str(rows[0]["seq"])

    code, out, err = await _fluxos("deadletter", "show", seq, nats_url=nats_url, home=tmp_path)
    assert code == 0, err
    shown = json.loads(out)
    assert json.loads(shown["body"])["data"]["order_id"] == "o-cli"
    assert "Nats-Msg-Id" in shown["headers"]

    stock["gear"] = 3
    code, out, err = await _fluxos("deadletter", "replay", seq, nats_url=nats_url, home=tmp_path)
    assert code == 0, err
    assert "shop.v1.cmd.widget.o-cli.order" in out
    await eventually(lambda: _true(shipped == ["o-cli"]))

    code, _, err = await _fluxos("deadletter", "show", "999999", nats_url=nats_url, home=tmp_path)
    assert code == 1
    assert "no dead letter with sequence 999999" in err


async def _true(value: bool) -> bool:
    return value
