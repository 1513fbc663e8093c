"""The call's audio is recorded on the server with the session and played with the mirror."""

from __future__ import annotations

import asyncio

import av
import numpy as np

from tests.browser import WEBRTC_ARGS, chromium
from tests.consoles.test_coaching import COLLECT_PEERS, hears, tone
from tests.consoles.test_consoles_browser import DESK, first_recording, open_supervisor, shared_session
from tests.customer.pages import TEST_SCRIPT, open_agent, page_html


async def test_call_audio_is_recorded_and_played_with_the_session(start_server, tmp_path):
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    args = [
        *WEBRTC_ARGS,
        f"--use-file-for-fake-audio-capture={tone(tmp_path / 'tone.wav')}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    async with chromium(*args) as browser:
        agent_context = await browser.new_context(**DESK)
        await agent_context.add_init_script(COLLECT_PEERS)
        agent = await open_agent(agent_context, harness.base_url)
        customer, _ = await shared_session(browser, harness, agent)
        await agent.wait_for_function("() => document.body.dataset.recordingAudio === 'on'", timeout=20_000)
        await hears(agent, "call")
        await asyncio.sleep(3)  # some conversation
        await agent.click("#end-session")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")
        await agent.select_option("#outcome", "resolved")
        await agent.click("#wrapup-form button[type=submit]")

        sid = await first_recording(harness)
        token = await harness.login("super01")
        status, listing = await harness.http("GET", f"/api/recordings/{sid}/audio", token)
        assert status == 200 and len(listing["segments"]) == 1, listing
        segment = listing["segments"][0]
        _, meta = await harness.http("GET", f"/api/recordings/{sid}", token)
        # Recorded from the call's connection (after consent) to the session's end.
        call_s = meta["request"]["ended_at"] - segment["started_at"]
        assert meta["request"]["consent_at"] <= segment["started_at"]
        async with harness._http.get(
            f"{harness.base_url}/api/recordings/{sid}/audio/0", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "audio/ogg"
            (tmp_path / "call.ogg").write_bytes(await resp.read())
        with av.open(str(tmp_path / "call.ogg")) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == "opus"
            samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
        # How much call the file holds (a length of content, not a speed): the whole recorded call.
        recorded_s = len(samples) / 48_000
        assert abs(recorded_s - call_s) < 1.0, (recorded_s, call_s)
        assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 0.01  # the voices (float samples), not silence
        status, views = await harness.http("GET", f"/api/recordings/{sid}/views", token)
        assert "audio" in [v["what"] for v in views["views"]]
        # Another agent's recording answers like a missing one.
        assert (await harness.http("GET", f"/api/recordings/{sid}/audio/0", await harness.login("agent02")))[0] == 404

        supervisor = await open_supervisor(await browser.new_context(**DESK), harness.base_url)
        await supervisor.click("#tab-recordings")
        await supervisor.locator("button[data-recording]").first.click()
        await supervisor.wait_for_function("() => document.body.dataset.player === 'ready'")
        assert await supervisor.evaluate("document.body.dataset.audioSegments") == "1"
        await supervisor.click("#play")
        await supervisor.wait_for_function("() => document.body.dataset.audioPlaying === '1'", timeout=15_000)
        await customer.close()
