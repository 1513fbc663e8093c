"""Mirroring benchmark in real Chromium on loopback.

1. Glass-to-glass latency: a DOM change on the customer's page → applied in the agent's replay
   (the real SDK, the real server, the real agent console), p50 / p95 over N changes.
2. Bytes per minute of mirroring a scripted transfer-flow session in the demo bank app, side by
   side with a WebRTC video share of the same tab (getDisplayMedia, 390×844) during the same run.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from assist.config import Config
from assist.logs import configure as configure_logs
from assist.server import create_app
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

from .common import BENCH_SECRET, CountingProxy, percentile, print_table

COUNTER_PAGE = page_html().replace('<p id="clicks">0</p>', '<p id="clicks">0</p><p id="counter">start</p>')

WATCH_REPLAY = """() => {
  window.applied = {};
  const doc = document.querySelector('#replay-root iframe').contentDocument;
  const seen = () => {
    const el = doc.getElementById('counter');
    if (el && !(el.textContent in window.applied)) window.applied[el.textContent] = Date.now();
  };
  new MutationObserver(seen).observe(doc, {subtree: true, childList: true, characterData: true});
}"""


def _page(body: str, kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type=kind)

    return page


async def _server(tmp: Path, pages: dict[str, str]):
    config = Config(var_dir=tmp, jwt_secret=BENCH_SECRET, log_level="warning")
    app = create_app(config)
    for path, body in pages.items():
        app.router.add_get(path, _page(body, "text/javascript" if path.endswith(".js") else "text/html"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def _login(base: str, username: str) -> str:
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/api/auth/login", json={"username": username, "password": "demo1234"}) as r,
    ):
        return (await r.json())["token"]


async def _sharing(browser, base: str, shown: str):
    """An agent console and a phone-sized customer page, the call accepted and sharing agreed;
    returns (agent, customer) once the element `shown` is in the agent's mirror."""
    agent = await open_agent(await browser.new_context(viewport={"width": 1280, "height": 900}), base)
    customer = await open_customer(await browser.new_context(**PHONE), base, await _login(base, "zhangsan"))
    await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
    await agent.click("#accept-offer")
    await agent.click("#ask-share")  # the call first, then the request to share
    await customer.click("[data-assist-action=agree]")
    await agent.frame_locator("#replay-root iframe").locator(shown).wait_for()
    return agent, customer


async def glass_to_glass(changes: int, gap_ms: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = await _server(Path(tmp), {"/sdk-test": COUNTER_PAGE, "/sdk-test.js": TEST_SCRIPT})
        base = str(server.make_url("")).rstrip("/")
        try:
            async with chromium(*WEBRTC_ARGS) as browser:
                agent, customer = await _sharing(browser, base, "#counter")
                await agent.evaluate(WATCH_REPLAY)
                sent = await customer.evaluate(
                    """async ([n, gap]) => {
                    const sent = {};
                    const el = document.getElementById('counter');
                    for (let i = 0; i < n; i++) {
                        el.textContent = 'c' + i; sent['c' + i] = Date.now();
                        await new Promise(r => setTimeout(r, gap));
                    }
                    return sent; }""",
                    [changes, gap_ms],
                )
                await customer.wait_for_timeout(1000)
                applied = await agent.evaluate("window.applied")
        finally:
            await server.close()
    return [applied[k] - t for k, t in sent.items() if k in applied]


VIDEO_SHARE = """async () => {
  const stream = await navigator.mediaDevices.getDisplayMedia(
    {video: {width: 390, height: 844, frameRate: 30}, audio: false, preferCurrentTab: true});
  const a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  stream.getTracks().forEach((t) => a.addTrack(t, stream));
  const offer = await a.createOffer(); await a.setLocalDescription(offer); await b.setRemoteDescription(offer);
  const answer = await b.createAnswer(); await b.setLocalDescription(answer); await a.setRemoteDescription(answer);
  window.videoShare = a;
}"""

VIDEO_BYTES = """async () => {
  let sent = 0;
  (await window.videoShare.getStats()).forEach((r) => { if (r.type === 'outbound-rtp') sent += r.bytesSent; });
  return sent;
}"""


async def transfer_session_bytes(rounds: int) -> dict:
    """A scripted transfer-flow session in the demo bank app, mirrored and, at the same time,
    shared as WebRTC video of the same tab: bytes of each over the same minutes."""
    from tests.bank.bankapp import App

    with tempfile.TemporaryDirectory() as tmp:
        server = await _server(Path(tmp), {})
        base = str(server.make_url("")).rstrip("/")
        # The customer reaches the server through a byte-counting proxy: what their socket
        # sends is measured on the wire, after WebSocket compression, as a network would see it.
        proxy = CountingProxy(server.port)
        await proxy.start()
        customer_base = f"http://127.0.0.1:{proxy.port}"
        try:
            async with chromium(*WEBRTC_ARGS, "--auto-accept-this-tab-capture") as browser:
                agent = await open_agent(await browser.new_context(viewport={"width": 1280, "height": 900}), base)
                page = await (await browser.new_context(**PHONE)).new_page()
                mirrored = []
                page.on(
                    "websocket",
                    lambda ws: ws.on(
                        "framesent",
                        lambda f: mirrored.append(
                            len(f.encode() if isinstance(f, str) else f) if '"mirror"' in str(f)[:20] else 0
                        ),
                    ),
                )
                app = App(page, customer_base)
                await app.open()
                await app.login("zhangsan")
                await page.click(".help-chip")
                await agent.click("#accept-offer")
                await agent.click("#ask-share")  # the call first, then the request to share
                await page.click("[data-assist-action=agree]")
                await agent.frame_locator("#replay-root iframe").locator(".page-home").wait_for()
                await page.mouse.click(10, 300)  # a user gesture, which screen capture requires
                await page.evaluate(VIDEO_SHARE)
                mirrored.clear()
                proxy.reset()
                started = time.time()
                video_start = await page.evaluate(VIDEO_BYTES)
                for r in range(rounds):  # one round ≈ what a customer does in a transfer, ~20 s
                    await page.click(".actions a[href='#/transfer']")
                    await app.expect("transfer")
                    await page.wait_for_timeout(2000)
                    await page.click(".list-button:has-text('李四')")
                    await app.expect("transfer-amount")
                    await page.type("input[inputmode=decimal]", str(100 + r * 50), delay=250)
                    await page.wait_for_timeout(3000)
                    await page.click("form button[type=submit]")
                    await app.expect("transfer-confirm")
                    await page.wait_for_timeout(4000)
                    await page.go_back()
                    await page.wait_for_timeout(2000)
                    await app.go("#/records", "records")
                    await page.mouse.wheel(0, 400)
                    await page.wait_for_timeout(3000)
                    await app.go("#/home", "home")
                    await page.wait_for_timeout(2000)
                seconds = time.time() - started
                video = await page.evaluate(VIDEO_BYTES) - video_start
                wire = proxy.bytes_sent("GET /socket.io/?EIO=4&transport=websocket")
        finally:
            await proxy.stop()
            await server.close()
    return {"seconds": seconds, "mirror": wire, "mirror_uncompressed": sum(mirrored), "video": video}


def run(changes: int = 1000, gap_ms: int = 30, rounds: int = 3) -> None:
    configure_logs("warning")
    volume = asyncio.run(transfer_session_bytes(rounds))
    per_min = lambda n: n / volume["seconds"] * 60 / 1024  # noqa: E731
    print_table(
        f"Mirroring vs WebRTC video share of the same tab, 390×844, scripted transfer flow "
        f"({volume['seconds']:.0f} s; goal: mirror < 1/10 of video)",
        ("stream", "KiB per minute", "ratio to video"),
        [
            (
                "rrweb mirror, bytes on the wire (WebSocket deflate)",
                per_min(volume["mirror"]),
                volume["mirror"] / max(1, volume["video"]),
            ),
            (
                "rrweb mirror, uncompressed JSON",
                per_min(volume["mirror_uncompressed"]),
                volume["mirror_uncompressed"] / max(1, volume["video"]),
            ),
            ("WebRTC video (getDisplayMedia)", per_min(volume["video"]), 1.0),
        ],
    )
    latencies = asyncio.run(glass_to_glass(changes, gap_ms))
    print_table(
        f"Mirror glass-to-glass latency, ms ({changes} DOM changes, one every {gap_ms} ms; goal p95 < 100)",
        ("changes applied", "p50", "p95", "p99", "max"),
        [
            (
                f"{len(latencies)}/{changes}",
                percentile(latencies, 50),
                percentile(latencies, 95),
                percentile(latencies, 99),
                max(latencies) if latencies else float("nan"),
            )
        ],
    )


if __name__ == "__main__":
    run(int(os.environ.get("BENCH_MIRROR_CHANGES", 1000)))
