"""The live voice path under bad input, with a headless aiortc peer as the customer's phone:
silence, noise, an endless stream, a hang-up mid-utterance, a burst of starts, a bad offer.
Each ends cleanly with a clear message and gives its recognizer back."""

from __future__ import annotations

import asyncio
import fractions

import numpy as np
from aiortc import AudioStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from av import AudioFrame

from assist.appkeys import VOICE
from voice.rtc import gather_on_loopback

RATE = 48_000
FRAME = 960  # 20 ms


class Sound(AudioStreamTrack):
    """A microphone that plays silence or white noise, as long as it is asked."""

    def __init__(self, sound: str = "silence", level: float = 0.3) -> None:
        super().__init__()
        self.sound, self.level, self.pts = sound, level, 0
        self.rng = np.random.default_rng(7)

    async def recv(self) -> AudioFrame:
        await asyncio.sleep(FRAME / RATE)
        if self.sound == "noise":
            samples = (self.rng.standard_normal(FRAME) * self.level * 32767).clip(-32768, 32767).astype(np.int16)
        else:
            samples = np.zeros(FRAME, dtype=np.int16)
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self.pts, fractions.Fraction(1, RATE)
        self.pts += FRAME
        return frame


async def start_voice(client, sound: Sound) -> RTCPeerConnection:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(sound)
    gather_on_loopback(pc)  # the server's peer offers loopback only (the harness sets voice_loopback)
    await pc.setLocalDescription(await pc.createOffer())
    reply = await client.call("voice_start", {"lang": "zh", "sdp": pc.localDescription.sdp}, timeout=15)
    assert reply["ok"], reply
    await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
    return pc


async def settled(harness, timeout: float = 20.0) -> None:
    """Every utterance has ended and given its recognizer back."""
    gateway = harness.app[VOICE]
    for _ in range(int(timeout / 0.1)):
        if not gateway.streams:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"voice streams still open: {list(gateway.streams)}")


async def test_silence_then_tap_to_stop_says_nothing_was_heard(harness):
    client = await harness.client("zhangsan")
    pc = await start_voice(client, Sound("silence"))
    await asyncio.sleep(2)
    assert (await client.call("voice_stop", {}))["ok"]
    result = await client.expect("voice_result", timeout=15)
    assert result["intent"] is None and result["message"]
    await settled(harness)
    await pc.close()


async def test_noise_and_an_endless_stream_end_at_the_cap(start_server):
    harness = await start_server(voice_max_utterance_ms=3000)
    client = await harness.client("zhangsan")
    pc = await start_voice(client, Sound("noise"))  # never stops, never says anything
    result = await client.expect("voice_result", timeout=20)
    assert result["intent"] is None and result["message"] == "没听清，请再说一遍"
    assert any("cut at 3 s" in w for w in result["warnings"])
    await settled(harness)
    await pc.close()


async def test_hanging_up_mid_utterance_frees_the_recognizer(harness):
    client = await harness.client("zhangsan")
    pc = await start_voice(client, Sound("noise", 0.05))
    await asyncio.sleep(1)
    assert harness.app[VOICE].streams
    await client.close()  # the phone's connection drops mid-utterance
    await settled(harness)
    await pc.close()


async def test_a_burst_of_starts_leaves_one_utterance(harness):
    client = await harness.client("zhangsan")
    pcs = await asyncio.gather(*(start_voice(client, Sound("silence")) for _ in range(5)))
    await asyncio.sleep(0.5)
    assert len(harness.app[VOICE].streams) == 1  # each start replaced the one before
    assert (await client.call("voice_stop", {}))["ok"]
    await client.expect("voice_result", timeout=15)
    await settled(harness)
    for pc in pcs:
        await pc.close()


async def test_bad_offers_and_wrong_roles_are_refused(harness):
    client = await harness.client("zhangsan")
    reply = await client.call("voice_start", {"lang": "zh", "sdp": "v=0 not an offer"})
    assert reply["error"]["code"] == "bad_payload"
    reply = await client.call("voice_start", {"lang": "fr", "sdp": "v=0"})
    assert reply["error"]["code"] == "bad_payload"
    assert (await client.call("voice_stop", {}))["error"]["code"] == "not_found"
    agent = await harness.client("agent01")
    assert (await agent.call("voice_start", {"lang": "zh", "sdp": "v=0"}))["error"]["code"] == "forbidden"
    await settled(harness)


async def test_a_server_without_voice_says_so(start_server):
    harness = await start_server(voice=False)
    client = await harness.client("zhangsan")
    reply = await client.call("voice_start", {"lang": "zh", "sdp": "v=0"})
    assert reply["error"]["code"] == "voice_unavailable"
    assert (await client.call("voice_stop", {}))["error"]["code"] == "voice_unavailable"
