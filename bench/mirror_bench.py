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
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from assist.config import Config
from assist.logs import configure as configure_logs
from assist.server import create_app
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

from .common import BENCH_SECRET, percentile, print_table

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


async def _server(tmp: Path, pages: dict[str, str]):
    config = Config(var_dir=tmp, jwt_secret=BENCH_SECRET, log_level="warning")
    app = create_app(config)
    for path, body in pages.items():
        kind = "text/javascript" if path.endswith(".js") else "text/html"
        app.router.add_get(path, lambda request, body=body, kind=kind: web.Response(text=body, content_type=kind))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def _login(base: str, username: str) -> str:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/auth/login", json={"username": username, "password": "demo1234"}) as r:
            return (await r.json())["token"]


async def glass_to_glass(changes: int, gap_ms: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = await _server(Path(tmp), {"/sdk-test": COUNTER_PAGE, "/sdk-test.js": TEST_SCRIPT})
        base = str(server.make_url("")).rstrip("/")
        try:
            async with chromium(*WEBRTC_ARGS) as browser:
                agent = await open_agent(await browser.new_context(viewport={"width": 1280, "height": 900}), base)
                customer = await open_customer(await browser.new_context(**PHONE), base, await _login(base, "zhangsan"))
                await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
                await agent.click("#accept-offer")
                await customer.click("[data-assist-action=agree]")
                await agent.frame_locator("#replay-root iframe").locator("#counter").wait_for()
                await agent.evaluate(WATCH_REPLAY)
                sent = await customer.evaluate("""async ([n, gap]) => {
                    const sent = {};
                    const el = document.getElementById('counter');
                    for (let i = 0; i < n; i++) {
                        el.textContent = 'c' + i; sent['c' + i] = Date.now();
                        await new Promise(r => setTimeout(r, gap));
                    }
                    return sent; }""", [changes, gap_ms])
                await customer.wait_for_timeout(1000)
                applied = await agent.evaluate("window.applied")
        finally:
            await server.close()
    return [applied[k] - t for k, t in sent.items() if k in applied]


def run(changes: int = 1000, gap_ms: int = 30) -> None:
    configure_logs("warning")
    latencies = asyncio.run(glass_to_glass(changes, gap_ms))
    print_table(f"Mirror glass-to-glass latency, ms ({changes} DOM changes, one every {gap_ms} ms; goal p95 < 100)",
                ("changes applied", "p50", "p95", "p99", "max"),
                [(f"{len(latencies)}/{changes}", percentile(latencies, 50), percentile(latencies, 95),
                  percentile(latencies, 99), max(latencies) if latencies else float("nan"))])


if __name__ == "__main__":
    run(int(os.environ.get("BENCH_MIRROR_CHANGES", 1000)))
