"""Den's bucket on a three-node cluster: replicated three times, read back through any replica."""

from __future__ import annotations

import hashlib

import pytest

from den.adapters.objectstore import ObjectStore, StoredPart, object_name
from shared.bus import Bus
from shared.runtime.nats_server import NatsCluster
from shared.settings import PlatformSettings
from tests.den.conftest import CHUNK, pattern

pytestmark = pytest.mark.cluster


async def test_parts_written_at_r3_read_back_at_once_from_any_replica(
    nats_cluster: NatsCluster,
) -> None:
    settings = PlatformSettings(nats_url=nats_cluster.url, stream_replicas=3)
    bus = await Bus(settings, name="den-cluster").connect()
    try:
        store = ObjectStore(bus, bucket="den", chunk_bytes=CHUNK, window=8, read_batch=4)
        await store.ensure_bucket(replicas=3)
        info = await bus.js.stream_info("OBJ_den")
        assert info.config.num_replicas == 3
        for round_ in range(20):
            data = pattern(5 * CHUNK + 17, seed=round_)
            nuid = store.new_nuid()
            writer = store.writer(object_name("org", f"blob{round_}", 0), nuid)
            await writer.write(data)
            written = await writer.finish()
            part = StoredPart(nuid, 0, written.size, CHUNK, written.chunk_seqs, written.sha256)
            # Read right after the acknowledgement: a replica answering a direct get may be
            # one that has not applied the newest chunks yet.
            back = b"".join([piece async for piece in store.read([part], 0, len(data) - 1)])
            assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
    finally:
        await bus.close()
