"""Writing many connections' chunks at once (`ParallelWriter`) on real sockets: every byte
arrives once and in order, what a full socket did not take goes to its transport, a broken
connection is reported, and the work is shared with the helper threads only when it pays."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from shared.service.direct_body import ParallelWriter, http_chunk


class Peer:
    """One end written by the writer (non-blocking, as the server's are), the other read here;
    `finish` collects what the writer handed back, as a transport's buffer would."""

    def __init__(self) -> None:
        self.ours, self.theirs = socket.socketpair()
        self.ours.setblocking(False)
        self.fd = self.ours.fileno()
        self.finished: list[bytes] = []
        self.broken = False

    def finish(self, rest: bytes) -> None:
        if self.broken:
            raise ConnectionResetError("the connection is gone")
        self.finished.append(rest)

    def received(self) -> bytes:
        self.theirs.setblocking(False)
        data = b""
        while True:
            try:
                part = self.theirs.recv(1 << 20)
            except BlockingIOError:
                return data
            if not part:
                return data
            data += part

    def close(self) -> None:
        self.ours.close()
        self.theirs.close()


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    made = [Peer() for _ in range(40)]
    yield made
    for peer in made:
        peer.close()


def test_every_chunk_arrives_once_and_the_helpers_share_the_work(peers: list[Peer]) -> None:
    writer = ParallelWriter(2, min_share=8)
    writer.start()
    try:
        for n in range(3):
            items = [(peer, f"entry {n} for {i}\n".encode()) for i, peer in enumerate(peers)]
            assert writer.write(items) == []
        assert writer.parallel_batches == 3
        for i, peer in enumerate(peers):
            assert peer.received() == b"".join(f"entry {n} for {i}\n".encode() for n in range(3))
            assert peer.finished == []
    finally:
        writer.close()


def test_small_batches_and_no_helpers_are_written_by_the_caller(peers: list[Peer]) -> None:
    for writer in (ParallelWriter(0, min_share=1), ParallelWriter(2, min_share=64)):
        writer.start()
        try:
            assert writer.write([(peer, b"x") for peer in peers]) == []
            assert writer.parallel_batches == 0
        finally:
            writer.close()
    assert all(peer.received() == b"xx" for peer in peers)


def test_what_a_full_socket_does_not_take_goes_to_its_transport(peers: list[Peer]) -> None:
    full = peers[7]
    while True:  # the reader reads nothing: fill its socket to the brim
        try:
            full.ours.send(b"." * 65536)
        except BlockingIOError:
            break
    writer = ParallelWriter(1, min_share=8)
    writer.start()
    try:
        chunk = b"z" * 200_000  # more than any socket buffer takes at once
        assert writer.write([(peer, chunk) for peer in peers]) == []
    finally:
        writer.close()
    assert full.finished == [chunk]  # nothing of it went out: all of it waits, in order
    for peer in peers:
        if peer is full:
            continue
        taken = peer.received()
        rest = b"".join(peer.finished)
        assert taken + rest == chunk  # split where the socket stopped taking, nothing lost
        assert len(peer.finished) <= 1


def test_a_broken_connection_is_reported_and_the_others_still_get_theirs(
    peers: list[Peer],
) -> None:
    gone = peers[3]
    gone.theirs.close()
    gone.broken = True
    writer = ParallelWriter(1, min_share=8)
    writer.start()
    try:
        failed = writer.write([(peer, b"entry") for peer in peers])
    finally:
        writer.close()
    assert [sock for sock, _ in failed] == [gone]
    assert isinstance(failed[0][1], ConnectionResetError)
    assert all(peer.received() == b"entry" for peer in peers if peer is not gone)


def test_chunks_are_framed_as_http_1_1_chunked_bodies() -> None:
    assert http_chunk(b"event: x\n\n") == b"a\r\nevent: x\n\n\r\n"
    assert http_chunk(b"y" * 300) == b"12c\r\n" + b"y" * 300 + b"\r\n"
