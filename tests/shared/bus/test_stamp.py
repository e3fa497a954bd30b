"""`Stamp`, the publish path's cheap envelope header, must stay identical to `Meta` on the wire."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from contracts.envelope import Actor, ActorKind, Meta
from shared.context import CallContext, Stamp, new_stamp, system_actor
from tests.shared.bus.conftest import ORDER, OrderWidgetV1

ids = st.from_regex(r"\A[A-Za-z0-9_-]{1,40}\Z")


def test_stamp_has_exactly_the_fields_of_meta() -> None:
    assert [f.name for f in dataclasses.fields(Stamp)] == list(Meta.model_fields)


@given(
    message_id=ids,
    org_id=st.none() | ids,
    actor_id=ids,
    kind=st.sampled_from(ActorKind),
    parent=st.none() | ids,
    when=st.datetimes(timezones=st.just(UTC)),
)
def test_stamp_json_is_meta_json(
    message_id: str,
    org_id: str | None,
    actor_id: str,
    kind: ActorKind,
    parent: str | None,
    when: datetime,
) -> None:
    stamp = Stamp(
        message_id, "OrderWidgetV1", org_id, Actor(kind=kind, id=actor_id), "c1", parent, "r1", when
    )
    meta = Meta.model_validate_json(stamp.to_json(), extra="forbid")
    assert meta == stamp.to_meta()
    assert json.loads(stamp.to_json()) == json.loads(meta.model_dump_json())


def test_a_child_stamp_continues_its_parents_tree() -> None:
    parent = CallContext.root(actor=Actor(kind=ActorKind.USER, id="u-1"), org_id="acme")
    stamp = new_stamp("OrderWidgetV1", parent=parent, default_actor=system_actor("shop"))
    assert stamp.parent_call_id == parent.call_id
    assert stamp.root_call_id == parent.root_call_id
    assert stamp.org_id == "acme"
    assert stamp.actor.id == "u-1"
    assert ORDER.render(OrderWidgetV1(order_id="o", item="i", quantity=1), stamp) == (
        "shop.v1.cmd.widget.o.order"
    )
