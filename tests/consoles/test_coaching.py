"""Coaching modes in real Chromium, checked on the receiving peers' inbound audio: in silent
monitor only the supervisor listens; in whisper the agent hears the supervisor and the customer
does not; in a barge the customer hears the supervisor too, and is told."""

from __future__ import annotations

import math
import struct
import wave

from playwright.async_api import expect

from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.consoles.test_consoles_browser import DESK, open_supervisor
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

# Every peer connection a page makes, so the test can read its inbound audio statistics.
COLLECT_PEERS = """
  const Native = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.__peers.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
"""
# Inbound audio energy heard so far on the given connections (played audio only counts).
ENERGY = """async (which) => {
  const peers = which === 'feed' ? [window.assistConsole.feeds.get('super01')].filter(Boolean)
              : which === 'monitor' ? [window.assistSupervisor.audio && window.assistSupervisor.audio.pc].filter(Boolean)
              : window.__peers.filter((pc) => pc.connectionState === 'connected');
  let energy = 0;
  for (const pc of peers) for (const s of (await pc.getStats()).values())
    if (s.type === 'inbound-rtp' && s.kind === 'audio') energy += s.totalAudioEnergy || 0;
  return energy;
}"""
HEARS = "async ([which, from]) => (await (" + ENERGY + ")(which)) - from > 0.01"


def tone(path) -> str:
    """A steady 440 Hz tone: every fake microphone plays it, so silence means nobody sent it."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / 48000))) for i in range(48000 * 4)))
    return str(path)


async def hears(page, which: str) -> None:
    start = await page.evaluate(ENERGY, which)
    await page.wait_for_function(HEARS, arg=[which, start], timeout=15_000)


async def silent(page, which: str, other) -> None:
    """Nothing arrives on `which` while `other` (a peer that does hear the same mouths) hears."""
    start = await page.evaluate(ENERGY, which)
    await hears(other[0], other[1])
    await hears(other[0], other[1])
    assert await page.evaluate(ENERGY, which) - start < 0.001


async def test_monitor_whisper_barge_who_hears_whom(start_server, tmp_path):
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    args = [
        *WEBRTC_ARGS,
        f"--use-file-for-fake-audio-capture={tone(tmp_path / 'tone.wav')}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    async with chromium(*args) as browser:
        contexts = [await browser.new_context(**DESK), await browser.new_context(**DESK), await browser.new_context(**PHONE)]
        for context in contexts:
            await context.add_init_script(COLLECT_PEERS)
        supervisor = await open_supervisor(contexts[0], harness.base_url)
        agent = await open_agent(contexts[1], harness.base_url)
        customer = await open_customer(contexts[2], harness.base_url, await harness.login("zhangsan"))
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await agent.click("#accept-offer")
        await agent.click("#ask-share")  # the call comes first; then the agent asks to see the screen
        await customer.click("[data-assist-action=agree]")
        await agent.wait_for_function("() => document.body.dataset.callState === 'connected'", timeout=20_000)
        await hears(customer, "call")  # the agent's microphone reaches the customer …
        await agent.click("#mute")  # … and from now on only a supervisor could be heard there

        await supervisor.locator("#sessions button[data-mode=monitor]").click()
        await supervisor.wait_for_function("() => document.body.dataset.monitorAudio === 'connected'", timeout=20_000)
        await hears(supervisor, "monitor")  # the supervisor hears the call
        await silent(agent, "feed", (supervisor, "monitor"))  # nobody hears the supervisor
        await silent(customer, "call", (supervisor, "monitor"))
        assert "主管" not in await customer.locator("#assist-sdk").inner_text()

        await supervisor.click("#monitor-modes button[data-switch=whisper]")
        await hears(agent, "feed")  # the agent hears the coach …
        await silent(customer, "call", (agent, "feed"))  # … the customer does not, nor is told
        assert "主管" not in await customer.locator("#assist-sdk").inner_text()

        await supervisor.click("#monitor-modes button[data-switch=barge]")
        await expect(customer.locator("#assist-sdk")).to_contain_text("主管")  # told who joined
        await hears(customer, "call")  # the customer hears the supervisor through the agent's line
        await hears(agent, "feed")
        await hears(supervisor, "monitor")
