"""The live voice path end to end: Chromium's microphone plays a corpus WAV into the elderly
edition; the server's aiortc peer decodes it offline; the page shows the caption and opens
the prefilled transfer."""

from __future__ import annotations

import wave
from pathlib import Path

from playwright.async_api import expect

from tests.bank.bankapp import App
from tests.browser import PHONE, WEBRTC_ARGS, chromium

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "voice" / "dev"


def spoken_then_silence(source: Path, target: Path, silence_s: float = 2.0) -> Path:
    """The utterance followed by silence, so the server's endpointer hears the speaker stop."""
    with wave.open(str(source)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    with wave.open(str(target), "wb") as out:
        out.setparams(params)
        out.writeframes(frames + b"\0" * int(params.framerate * silence_s) * params.sampwidth * params.nchannels)
    return target


async def speak(harness, wav: Path, tmp_path: Path) -> App:
    mic = spoken_then_silence(wav, tmp_path / wav.name)
    browser_cm = chromium(*WEBRTC_ARGS, f"--use-file-for-fake-audio-capture={mic}%noloop")
    browser = await browser_cm.__aenter__()
    context = await browser.new_context(**PHONE)
    await context.add_init_script("localStorage.setItem('assist-bank.edition', 'elderly');")
    # What the assistant says aloud, as the browser's speech API is asked to say it (silently here).
    await context.add_init_script("window.spoken = []; speechSynthesis.speak = (u) => window.spoken.push([u.text, u.lang]);")
    app = App(await context.new_page(), harness.base_url)
    app.close = lambda: browser_cm.__aexit__(None, None, None)
    await app.open()
    await app.login("zhangsan")
    await app.page.wait_for_function("() => window.Assist && Assist.state().connected")
    return app


async def test_spoken_transfer_opens_the_prefilled_transfer(harness, tmp_path):
    app = await speak(harness, CORPUS / "d01.wav", tmp_path)  # 给李四转五百元
    try:
        page = app.page
        await page.click("[data-voice-button]")
        assert await page.get_attribute("[data-voice-button]", "aria-pressed") == "true"
        # Listening looks and reads differently from waiting.
        await expect(page.locator("[data-voice-button]")).to_have_text("在听…点我结束")
        assert "listening" in await page.get_attribute("[data-voice-button]", "class")
        # Live captions in large type while the customer speaks.
        await page.wait_for_function("() => /李|四|转|五百/.test(document.getElementById('toast').textContent)", timeout=20_000)
        size = await page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#toast p')).fontSize)")
        assert size >= 24
        await app.expect("transfer-amount")
        assert "李四" in await page.locator(".payee-card").inner_text()
        await expect(page.locator("input[inputmode=decimal]")).to_have_value("500")
        assert "500" in await page.locator("#toast").inner_text()
        # The answer is spoken too, in the customer's language; the button is back to waiting.
        spoken = await page.evaluate("window.spoken")
        assert any("李四" in text and "500" in text and lang == "zh-CN" for text, lang in spoken), spoken
        await expect(page.locator("[data-voice-button]")).to_have_text("语音")
        # Speech can be turned off in Settings (and stays off).
        await app.go("#/settings", "settings")
        await page.uncheck("#voice-speaks")
        assert await page.evaluate("localStorage.getItem('assist-bank.voice.speak')") == "off"
        # Nothing was paid: the customer still reviews and confirms with the password.
        status, body = await harness.http("GET", "/api/bank/transactions?limit=50", await harness.login("zhangsan"))
        assert status == 200 and not any(tx.get("amount") == -500_00 for tx in body.get("transactions", []))
    finally:
        await app.close()


async def test_spoken_request_for_help_reaches_the_agent_with_the_transcript(harness, tmp_path):
    app = await speak(harness, CORPUS / "d18.wav", tmp_path)  # 帮我联系客服
    try:
        agent = await harness.agent("agent01")
        await app.page.click("[data-voice-button]")
        offer = await agent.expect("offer", timeout=20)
        assert offer["request"]["edition"] == "elderly"
        assert any("客服" in line for line in offer["transcript"])
    finally:
        await app.close()
