"""Recordings written by several nodes into one shared directory, one of them killed mid-write."""

from __future__ import annotations

import sqlalchemy as sa

from assist.storage.recordings import RecordingStore, metadata


async def test_segments_of_several_nodes_read_as_one_recording_despite_a_torn_tail(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'index.db'}")
    metadata.create_all(engine)
    first = RecordingStore(engine, tmp_path / "rec", 90, node="n1~a")
    second = RecordingStore(engine, tmp_path / "rec", 90, node="n2~b")
    for store in (first, second):
        store.start()
    first.append("s1", "mirror", {"seq": 1}, request_id="r1", customer_id="c", agent_id="a")
    await first.flush()
    first.append("s1", "mirror", {"seq": 2})
    await first.flush()
    # n1 dies in the middle of its next append: half a gzip member at the end of its segment.
    segment = first.segment("s1")
    segment.write_bytes(segment.read_bytes() + segment.read_bytes()[: len(segment.read_bytes()) // 3])
    second.append("s1", "mirror", {"seq": 3})  # the customer came back through n2
    await second.flush()
    assert second.segment("s1") != segment and len(first.files("s1")) == 2
    assert [e["data"]["seq"] for e in second.read("s1")] == [1, 2, 3]
    row = engine.connect().execute(sa.text("select events from recordings where session_id='s1'")).one()
    assert row.events == 3
    assert first.delete_expired(now=10**12) == 1 and first.files("s1") == []
    for store in (first, second):
        await store.stop()
