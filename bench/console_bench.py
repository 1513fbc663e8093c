"""Console benchmark: recording writes, recording size per minute, opening a 30-minute
recording in the supervisor's player, and wall update latency with 200 live sessions."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

import socketio
import sqlalchemy as sa

from assist.appkeys import RECORDINGS
from assist.auth import Tokens
from assist.logs import configure as configure_logs
from assist.storage.recordings import RecordingStore
from assist.storage.sql import metadata
from tests.browser import chromium

from .common import BENCH_SECRET, add_accounts, assist_server, percentile, print_table, sqlite_of
from .mirror_bench import COUNTER_PAGE, TEST_SCRIPT, _server, _sharing

HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "/transfer"}


def _incremental(i: int, t: float) -> dict:
    """A typical rrweb incremental event: a text change plus a mouse move."""
    return {
        "type": 3,
        "timestamp": int(t * 1000),
        "data": {
            "source": 0,
            "texts": [{"id": 40 + i % 7, "value": f"¥{i % 1000}.00"}],
            "attributes": [],
            "removes": [],
            "adds": [],
            "positions": [{"x": i % 390, "y": i % 844, "id": 12, "timeOffset": 0}],
        },
    }


async def write_throughput(tmp: Path, sessions: int = 50, batches: int = 400, per_batch: int = 5) -> dict:
    tmp.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{tmp / 'rec.db'}")
    metadata.create_all(engine)
    store = RecordingStore(engine, tmp / "recordings", 90)
    store.directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    t0 = time.perf_counter()
    for b in range(batches):
        for s in range(sessions):
            events = [_incremental(b * per_batch + k, now + b * 0.05) for k in range(per_batch)]
            store.append(
                f"s{s:04d}", "mirror", {"events": events, "seq": b + 1}, request_id=f"r{s}", customer_id=f"c{s}", agent_id="a1"
            )
        if b % 20 == 19:
            await store.flush()
    await store.flush()
    elapsed = time.perf_counter() - t0
    total = sessions * batches * per_batch
    size = sum(p.stat().st_size for p in (tmp / "recordings").rglob("*.gz"))
    await store.stop()
    return {"events": total, "per_s": total / elapsed, "bytes_per_event": size / total}


async def scripted_session_bytes(tmp: Path) -> dict:
    """Record a real one-minute-equivalent session (typing, page changes) and size it."""
    server = await _server(tmp, {"/sdk-test": COUNTER_PAGE, "/sdk-test.js": TEST_SCRIPT})
    base = str(server.make_url("")).rstrip("/")
    try:
        async with chromium() as browser:
            agent, customer = await _sharing(browser, base, "#heading")
            started = time.time()
            for round_ in range(6):  # ~10 s per round: type, move, change the page
                await customer.fill("#amount", "")
                await customer.type("#amount", str(100 * (round_ + 1)), delay=120)
                await customer.type("#memo", "给李四的房租", delay=120)
                for y in range(0, 800, 40):
                    await customer.mouse.move(200, y)
                await customer.evaluate("(n) => document.getElementById('counter').textContent = '第 ' + n + ' 步'", round_)
                await customer.wait_for_timeout(4000)
            seconds = time.time() - started
            await agent.click("#end-session")
        store = server.app[RECORDINGS]
        await store.flush()
        size = sum(p.stat().st_size for p in store.directory.rglob("*.gz"))
        events = [e for sid in [p.name.split(".")[0] for p in store.directory.rglob("*.gz")] for e in store.read(sid)]
    finally:
        await server.close()
    return {"seconds": seconds, "bytes": size, "per_minute": size / seconds * 60, "events": events}


async def open_long_recording(tmp: Path, sample: list[dict], minutes: int = 30) -> dict:
    """Build a 30-minute recording from the real session's events, then open it in the player."""
    server = await _server(tmp, {})
    base = str(server.make_url("")).rstrip("/")
    try:
        store = server.app[RECORDINGS]
        head = [e for e in sample if e["kind"] == "mirror"]
        snapshot, rest = head[:1], head[1:] or head
        start = time.time() - minutes * 60
        span = max(1.0, rest[-1]["t"] - rest[0]["t"])
        store.append("long30", "mirror", snapshot[0]["data"], request_id="r-long", customer_id="zhangsan", agent_id="agent01")
        store._pending["long30"][0]["t"] = start
        t, k = start, 0
        while t < start + minutes * 60:
            for item in rest:
                t = start + k * span + (item["t"] - rest[0]["t"])
                store.append("long30", "mirror", item["data"], request_id="r-long", customer_id="zhangsan", agent_id="agent01")
                store._pending["long30"][-1]["t"] = t
            k += 1
            if len(store._pending.get("long30", [])) > 2000:
                await store.flush()
        await store.flush()
        size = store.path("long30").stat().st_size
        async with chromium() as browser:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
            await page.goto(f"{base}/supervisor")
            await page.fill("#username", "super01")
            await page.fill("#password", "demo1234")
            await page.keyboard.press("Enter")
            await page.click("#tab-recordings")
            button = page.locator("button[data-recording=long30]")
            await button.wait_for()
            t0 = time.perf_counter()
            await button.click()
            await page.frame_locator("#player-root iframe").locator("#heading").wait_for(timeout=120_000)
            first_frame = time.perf_counter() - t0
    finally:
        await server.close()
    return {"bytes": size, "first_frame_s": first_frame}


async def wall_latency(url: str, database_url: str, sessions: int = 200, probes: int = 20) -> list[float]:
    tokens = Tokens(BENCH_SECRET, 3600)
    add_accounts(
        database_url,
        [(f"wa{i}", "agent") for i in range(sessions)]
        + [(f"wc{i}", "customer") for i in range(sessions)]
        + [("wsup", "supervisor")]
        + [(f"wp{i}", "customer") for i in range(probes)],
    )

    def token(name: str, role: str) -> str:
        return tokens.issue(
            {"username": name, "role": role, "display_name": name, "badge": name, "languages": ["zh"], "skills": []}
        )

    async def client(name: str, role: str) -> socketio.AsyncClient:
        c = socketio.AsyncClient(reconnection=False)
        await c.connect(url, auth={"token": token(name, role)}, transports=["websocket"], wait_timeout=30)
        return c

    agents, customers = [], []
    for i in range(sessions):
        a = await client(f"wa{i}", "agent")
        a.on("offer", lambda data, a=a: asyncio.ensure_future(a.emit("offer_accept", {"offer_id": data["offer_id"]})))
        await a.call("agent_state", {"state": "available"})
        agents.append(a)
    for i in range(sessions):
        c = await client(f"wc{i}", "customer")
        await c.call("help_request", HELP)
        customers.append(c)
    supervisor = await client("wsup", "supervisor")
    walls: asyncio.Queue = asyncio.Queue()
    supervisor.on("wall", lambda w: walls.put_nowait((time.perf_counter(), w)))
    await asyncio.sleep(2)
    latencies = []
    for i in range(probes):
        while not walls.empty():
            walls.get_nowait()
        c = await client(f"wp{i}", "customer")
        t0 = time.perf_counter()
        await c.call("help_request", HELP)
        while True:
            at, wall = await asyncio.wait_for(walls.get(), 10)
            if wall["waiting"] >= 1:
                latencies.append(at - t0)
                break
        await c.call("help_cancel", {"request_id": (await c.call("sync", {}))["view"]["request"]["request_id"]})
        await c.disconnect()
        await asyncio.sleep(random.uniform(0.1, 0.5))
    for c in [*agents, *customers, supervisor]:
        await c.disconnect()
    return latencies


def run() -> None:
    configure_logs("warning")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        writes = asyncio.run(write_throughput(tmp / "w"))
        session = asyncio.run(scripted_session_bytes(tmp / "s"))
        opened = asyncio.run(open_long_recording(tmp / "l", session["events"]))
        with assist_server(tmp / "wall") as (url, _pid):
            wall = asyncio.run(wall_latency(url, sqlite_of(tmp / "wall")))
    print_table(
        "Recordings",
        ("measure", "value"),
        [
            ("write throughput, events/s (50 sessions, gzip + SQL index)", round(writes["per_s"])),
            ("stored bytes per event", round(writes["bytes_per_event"], 1)),
            (f"scripted session: bytes per minute ({session['seconds']:.0f} s recorded)", round(session["per_minute"])),
            ("30-minute recording: size on disk, KiB", round(opened["bytes"] / 1024)),
            ("30-minute recording: time to first frame in the player, s", round(opened["first_frame_s"], 2)),
        ],
    )
    print_table(
        "Supervisor wall update latency with 200 live sessions, ms (pushed at most once a second)",
        ("probes", "p50", "p95", "max"),
        [(len(wall), percentile(wall, 50) * 1000, percentile(wall, 95) * 1000, max(wall) * 1000)],
    )


if __name__ == "__main__":
    run()
