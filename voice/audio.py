"""Audio in the one format the recognizers take: 16 kHz mono signed 16-bit PCM.

Files of any rate, channel count or sample format are converted with PyAV rather than
refused: a customer's recording app decides those, not the customer. The same Resampler
serves the live path, whose WebRTC frames arrive as 48 kHz stereo.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 2
FULL_SCALE = 32767


class AudioError(ValueError):
    """The input is not audio we can use; the message says why."""


class Resampler:
    """PyAV audio frames of any layout and rate → 16 kHz mono s16 bytes."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

    def pcm(self, frame: av.AudioFrame | None) -> bytes:
        """Converted audio for `frame`; None flushes what the resampler still holds."""
        # to_ndarray, not bytes(plane): planes carry alignment padding past the samples.
        return b"".join(f.to_ndarray().tobytes() for f in self._resampler.resample(frame))


def read_pcm(path: str | Path) -> Iterator[bytes]:
    """The file's audio as 16 kHz mono PCM chunks, decoded lazily so a caller that stops
    early (the length cap) never decodes the rest of a long file."""
    try:
        container = av.open(str(path))
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path}: contains no audio stream")
        resampler = Resampler()
        try:
            for frame in container.decode(audio=0):
                yield resampler.pcm(frame)
        except av.error.FFmpegError as exc:
            raise AudioError(f"{path}: audio data is damaged ({exc})") from None
        yield resampler.pcm(None)


class LevelMeter:
    """Running statistics a customer-facing message may need: how much audio is clipped."""

    def __init__(self) -> None:
        self.samples = 0
        self.clipped = 0

    def add(self, pcm: bytes) -> None:
        x = np.frombuffer(pcm, dtype="<i2")
        self.samples += x.size
        self.clipped += int(np.count_nonzero((x >= FULL_SCALE) | (x <= -FULL_SCALE)))

    @property
    def clipped_fraction(self) -> float:
        return self.clipped / self.samples if self.samples else 0.0
