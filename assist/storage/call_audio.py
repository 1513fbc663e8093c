"""The call's audio, recorded on the server beside the session's mirror (docs/recordings.md).

The call is peer to peer; the agent's console already has both voices decoded (it plays the
customer and captures the agent), so it mixes them and sends one track to a receive-only aiortc
peer here, the way it forwards the call to a monitoring supervisor. Each such connection writes
one segment, Ogg/Opus mono at 24 kbit/s, named by its start time in milliseconds so the player
can place it on the recording's clock: <recordings>/<id[:2]>/<id>/audio-<start ms>.ogg.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import structlog
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from voice.rtc import answer_offer, peer_connection

from .recordings import audio_dir

log = structlog.get_logger("recordings")

RATE = 48_000
BIT_RATE = 24_000  # speech: Opus at 24 kbit/s is wideband and clear


class OggOpusWriter:
    """Frames in (any layout or rate aiortc gives), Ogg/Opus out; gaps in the frames' times
    stay gaps, so the file's clock is the call's."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.container = av.open(str(path), "w", format="ogg")
        self.stream = self.container.add_stream("libopus", rate=RATE, layout="mono")
        self.stream.bit_rate = BIT_RATE
        self.resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self.first_pts: int | None = None
        self.next_pts = 0

    def write(self, frame: av.AudioFrame) -> None:
        if frame.pts is not None and frame.sample_rate:
            at = int(frame.pts * RATE / frame.sample_rate)
            self.first_pts = at if self.first_pts is None else self.first_pts
            self.next_pts = max(self.next_pts, at - self.first_pts)
        for out in self.resampler.resample(frame):
            out.pts, out.time_base = self.next_pts, Fraction(1, RATE)
            self.next_pts += out.samples
            for packet in self.stream.encode(out):
                self.container.mux(packet)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            for packet in self.stream.encode(None):
                self.container.mux(packet)
        self.container.close()


class AudioSegment:
    """One receive-only connection from the agent's console and the file it writes."""

    def __init__(self, path: Path, ice_servers: tuple[dict, ...], loopback_only: bool = False) -> None:
        self.path = path
        self.pc = peer_connection(ice_servers)
        self.loopback_only = loopback_only
        self.task: asyncio.Task | None = None
        self.cpu_s = 0.0  # process time spent decoding and encoding (the bench reads it)

    async def answer(self, offer_sdp: str) -> str:
        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio" and self.task is None:
                self.task = asyncio.create_task(self._write(track), name=f"call-audio-{self.path.stem}")

        return await answer_offer(self.pc, offer_sdp, self.loopback_only)

    async def _write(self, track: MediaStreamTrack) -> None:
        writer = OggOpusWriter(self.path)
        try:
            while True:
                frame = await track.recv()
                started = time.process_time()
                writer.write(cast(av.AudioFrame, frame))  # an audio track gives audio frames
                self.cpu_s += time.process_time() - started
        except MediaStreamError:  # the console hung up: the segment is complete
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call_audio_failed", file=self.path.name)
        finally:
            writer.close()

    async def close(self) -> None:
        await self.pc.close()  # ends the track: the writer closes the file
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.task, 5)


class CallAudio:
    """This process's audio segments being written, by session."""

    def __init__(self, directory: Path, ice_servers: tuple[dict, ...] = (), loopback_only: bool = False) -> None:
        self.directory = directory
        self.ice_servers = ice_servers
        self.loopback_only = loopback_only  # tests on a loopback-only host (voice.rtc.gather_on_loopback)
        self.live: dict[str, AudioSegment] = {}
        self.closing: set[asyncio.Task] = set()  # segments being finished, kept until they are

    async def start(self, session_id: str, offer_sdp: str, now: float | None = None) -> str:
        """A (new) connection for the session: the previous one's segment is closed first."""
        await self.forget(session_id)
        started = time.time() if now is None else now
        path = audio_dir(self.directory, session_id) / f"audio-{int(started * 1000)}.ogg"
        segment = self.live[session_id] = AudioSegment(path, self.ice_servers, self.loopback_only)
        try:
            return await segment.answer(offer_sdp)
        except Exception:
            self.live.pop(session_id, None)
            await segment.close()
            raise

    async def forget(self, session_id: str) -> None:
        """The session ended (or its agent's console reconnected): close its segment.

        In the background: closing a peer whose console is gone can take seconds, and this runs
        where the session's end is published, so waiting here held up the end's record and the
        ticker behind it (a dropped session's end reason was missing when the customer rated)."""
        segment = self.live.pop(session_id, None)
        if segment is not None:
            task = asyncio.create_task(segment.close(), name=f"call-audio-close-{session_id}")
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)

    async def close(self) -> None:
        for session_id in list(self.live):
            await self.forget(session_id)
        if self.closing:
            await asyncio.gather(*self.closing, return_exceptions=True)
