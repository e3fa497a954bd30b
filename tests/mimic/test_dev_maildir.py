"""The dev mailbox's Maildir delivery: many writers at once, every message whole and readable."""

from __future__ import annotations

import mailbox
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mimic.adapters.dev_sink import deliver


def test_concurrent_deliveries_each_land_once_and_whole(tmp_path: Path) -> None:
    for part in ("tmp", "new", "cur"):
        (tmp_path / part).mkdir()
    bodies = [
        f"Subject: message {i}\r\nTo: user{i}@example.com\r\n\r\nbody {i}\r\n".encode()
        for i in range(200)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda body: deliver(tmp_path, body), bodies))
    assert len(set(keys)) == len(bodies)
    assert list((tmp_path / "tmp").iterdir()) == []  # nothing left half-written
    box = mailbox.Maildir(tmp_path, create=False)
    assert sorted(box.keys()) == sorted(keys)
    subjects = {box[key]["Subject"] for key in keys}
    assert subjects == {f"message {i}" for i in range(200)}
    assert (tmp_path / "new" / keys[7]).read_bytes() == bodies[7]
