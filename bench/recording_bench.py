"""Recording cost per session-minute (mirror bytes, audio bytes, server CPU-seconds) and the
time to open a 30-minute recording over the API (docs/recordings.md).

Audio: a real aiortc peer in its own process sends pink noise (harder to compress than speech), as the agent's console sends the
mixed call, to the server's recorder (assist.storage.call_audio) in this process, whose CPU
time is measured. Mirror: a synthetic active session (one full snapshot of ~40 KB, then per
second 4 keystrokes, 10 pointer moves and one DOM change, plus an annotation every 10 s) through
the recording store's writer, the same gzip NDJSON the server keeps.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from assist.storage.call_audio import CallAudio, OggOpusWriter
from assist.storage.recordings import RecordingStore

from .common import assist_server, print_table

AUDIO_SECONDS = 20


def _snapshot() -> dict:
    rows = [
        {
            "type": 2,
            "tagName": "div",
            "attributes": {"class": "row"},
            "id": 100 + i,
            "childNodes": [{"type": 3, "textContent": f"收款人 {i} 尾号 ****", "id": 1000 + i}],
        }
        for i in range(300)
    ]
    return {"type": 2, "data": {"node": {"type": 0, "childNodes": rows, "id": 1}}, "timestamp": 0}


def mirror_minute(second: int) -> list[tuple[float, str, dict]]:
    """(t, kind, data) of one active second of a session."""
    items: list[tuple[float, str, dict]] = [
        (
            second + k * 0.25,
            "mirror",
            {"events": [{"type": 3, "data": {"source": 5, "text": "*" * (k + 1), "isChecked": False, "id": 1200}}]},
        )
        for k in range(4)
    ]
    items.append(
        (
            second + 0.5,
            "mirror",
            {
                "events": [
                    {
                        "type": 3,
                        "data": {
                            "source": 1,
                            "positions": [{"x": 100 + k, "y": 300 + k, "id": 5, "timeOffset": -k * 50} for k in range(10)],
                        },
                    }
                ]
            },
        )
    )
    items.append(
        (
            second + 0.75,
            "mirror",
            {
                "events": [
                    {
                        "type": 3,
                        "data": {
                            "source": 0,
                            "adds": [
                                {
                                    "parentId": 1,
                                    "nextId": None,
                                    "node": {"type": 3, "textContent": f"余额 {second}", "id": 5000 + second},
                                }
                            ],
                            "removes": [],
                            "texts": [],
                            "attributes": [],
                        },
                    }
                ]
            },
        )
    )
    if second % 10 == 0:
        items.append(
            (
                second + 0.9,
                "annotation",
                {"kind": "highlight", "selector": "#next", "caption": "点这里", "from": "agent", "session_id": "s"},
            )
        )
    return items


def write_mirror(store: RecordingStore, session_id: str, start: float, seconds: int) -> int:
    batch = [
        {"t": start, "kind": "mirror", "data": {"events": [{"type": 4, "data": {"width": 390, "height": 844}}, _snapshot()]}}
    ]
    for second in range(seconds):
        batch += [{"t": start + t, "kind": kind, "data": data} for t, kind, data in mirror_minute(second)]
        if len(batch) > 2000:  # the server flushes every half second: many gzip members, like here
            store._write({session_id: batch}, {session_id: {"customer_id": "zhangsan", "agents": ["agent01"]}})
            batch = []
    if batch:
        store._write({session_id: batch}, {session_id: {"customer_id": "zhangsan", "agents": ["agent01"]}})
    return sum(p.stat().st_size for p in store.files(session_id))


def _sender(conn, seconds: float) -> None:
    """The agent console's side: a tone over WebRTC to the recorder (its own process)."""
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaPlayer

    from voice.rtc import gather_on_loopback

    async def main() -> None:
        pc = RTCPeerConnection()
        player = MediaPlayer("anoisesrc=color=pink:amplitude=0.2:sample_rate=48000", format="lavfi")
        assert player.audio is not None, "the lavfi noise source has audio"
        pc.addTrack(player.audio)
        gather_on_loopback(pc)
        await pc.setLocalDescription(await pc.createOffer())
        conn.send(pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(conn.recv(), "answer"))
        await asyncio.sleep(seconds)
        await pc.close()
        conn.send("done")

    asyncio.run(main())


async def record_audio(directory: Path, seconds: float) -> tuple[int, float]:
    recorder = CallAudio(directory, loopback_only=True)
    ours, theirs = multiprocessing.Pipe()
    proc = multiprocessing.get_context("spawn").Process(target=_sender, args=(theirs, seconds))
    proc.start()
    loop = asyncio.get_running_loop()
    offer = await loop.run_in_executor(None, ours.recv)
    cpu0 = time.process_time()
    ours.send(await recorder.start("bench-audio", offer))
    await loop.run_in_executor(None, ours.recv)
    await recorder.close()  # ends the segment and waits for its file (forget() closes in the background)
    cpu = time.process_time() - cpu0
    proc.join(10)
    size = sum(p.stat().st_size for p in (directory / "be" / "bench-audio").glob("audio-*.ogg"))
    return size, cpu


def write_audio(path: Path, seconds: int) -> int:
    """A long call's audio, encoded directly (no need to wait 30 minutes)."""
    import av
    import numpy as np

    writer = OggOpusWriter(path)
    rng = np.random.default_rng(0)
    for i in range(seconds * 50):
        noise = (3000 * rng.standard_normal(960)).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(noise, format="s16", layout="mono")
        frame.sample_rate, frame.pts = 48000, i * 960
        writer.write(frame)
    writer.close()
    return path.stat().st_size


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=120) as resp:
        return len(resp.read())


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        engine = sa.create_engine(f"sqlite:///{var / 'bench.db'}")
        from assist.storage.sql import metadata

        metadata.create_all(engine)
        store = RecordingStore(engine, var / "recordings", retention_days=90)
        mirror_bytes = write_mirror(store, "bench-mirror", time.time(), 60)
        cpu_mirror0 = time.process_time()
        write_mirror(store, "bench-mirror-2", time.time(), 60)
        cpu_mirror = time.process_time() - cpu_mirror0
        audio_bytes, audio_cpu = asyncio.run(record_audio(var / "recordings", AUDIO_SECONDS))
        per_minute = 60 / AUDIO_SECONDS
        print_table(
            "Recording cost per session-minute (synthetic active mirror; real aiortc audio path, "
            f"{AUDIO_SECONDS} s scaled to a minute)",
            ("what", "bytes / min", "server CPU-s / min"),
            [
                ("mirror + annotations (gzip NDJSON)", mirror_bytes, cpu_mirror),
                ("call audio (Opus 24 kbit/s in Ogg)", round(audio_bytes * per_minute), audio_cpu * per_minute),
                ("total", round(mirror_bytes + audio_bytes * per_minute), cpu_mirror + audio_cpu * per_minute),
            ],
        )

        # A 30-minute recording, opened the way the console opens it.
        server_var = var / "server"
        with assist_server(server_var) as (base, _pid):
            server_engine = sa.create_engine(f"sqlite:///{server_var / 'assist.db'}")
            long_store = RecordingStore(server_engine, server_var / "recordings", retention_days=90)
            start = time.time() - 1800
            mirror_30 = write_mirror(long_store, "bench-long", start, 1800)
            audio_30 = write_audio(server_var / "recordings" / "be" / "bench-long" / f"audio-{int(start * 1000)}.ogg", 1800)
            login = urllib.request.Request(
                f"{base}/api/auth/login",
                method="POST",
                data=json.dumps({"username": "super01", "password": "demo1234"}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(login) as resp:
                token = json.loads(resp.read())["token"]
            rows = []
            for what, path in (
                ("metadata + timeline", "/api/recordings/bench-long"),
                ("mirror events", "/api/recordings/bench-long/events"),
                ("audio segment list", "/api/recordings/bench-long/audio"),
                ("audio (30 min)", "/api/recordings/bench-long/audio/0"),
            ):
                began = time.perf_counter()
                size = _get(f"{base}{path}", token)
                rows.append((what, size, (time.perf_counter() - began) * 1000))
            rows.append(("total to open", sum(r[1] for r in rows), sum(r[2] for r in rows)))
        print_table(
            f"Opening a 30-minute recording over the API (stored: mirror {mirror_30} B gzip, audio {audio_30} B)",
            ("request", "bytes sent", "ms"),
            rows,
        )


if __name__ == "__main__":
    run()
