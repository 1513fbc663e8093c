"""When an utterance starts and ends, from the audio level alone.

Engine-independent on purpose: Vosk has an endpointer, PocketSphinx has none, and the live
path must behave the same in both languages. A frame is speech when it stands clearly above
a noise floor that follows the quietest recent frames, so steady background noise stops
counting as speech after a few seconds instead of holding the microphone open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from voice.audio import BYTES_PER_SECOND

FRAME_MS = 20
_FRAME_BYTES = BYTES_PER_SECOND * FRAME_MS // 1000


@dataclass(frozen=True)
class EndpointConfig:
    silence_ms: int | None = 800  # trailing silence that ends the utterance; None: never
    max_ms: int = 15_000  # hard cap: audio past it is not decoded
    min_speech_ms: int = 100  # this much speech-level audio before it counts (not a click)
    speech_db: float = -50.0  # a frame quieter than this (dBFS) is never speech
    above_floor_db: float = 12.0  # speech stands this far above the noise floor
    floor_rise_db_per_s: float = 4.0  # how fast the floor climbs to steady noise

    def __post_init__(self) -> None:
        if self.max_ms <= 0 or (self.silence_ms is not None and self.silence_ms <= 0):
            raise ValueError("silence_ms and max_ms must be positive")


class Endpointer:
    def __init__(self, config: EndpointConfig) -> None:
        self.config = config
        self.speech_started = False
        self.ended = False
        self.speech_ms = 0  # all frames at speech level, pauses excluded
        self._floor_db = -60.0
        self._run_ms = 0  # consecutive speech frames before the start, silence frames after
        self._pending = b""

    def push(self, pcm: bytes) -> None:
        data = self._pending + pcm
        whole = len(data) - len(data) % _FRAME_BYTES
        self._pending = data[whole:]
        if whole:
            frames = np.frombuffer(data[:whole], dtype="<i2").reshape(-1, _FRAME_BYTES // 2)
            for level in _dbfs(frames):
                self._frame(level)

    def _frame(self, level: float) -> None:
        cfg = self.config
        rise = cfg.floor_rise_db_per_s * FRAME_MS / 1000
        self._floor_db = min(self._floor_db + rise, max(level, -90.0))
        speech = level > cfg.speech_db and level > self._floor_db + cfg.above_floor_db
        self.speech_ms += FRAME_MS if speech else 0
        if not self.speech_started:
            self._run_ms = self._run_ms + FRAME_MS if speech else 0
            if self._run_ms >= cfg.min_speech_ms:
                self.speech_started, self._run_ms = True, 0
        elif cfg.silence_ms is not None and not self.ended:
            self._run_ms = 0 if speech else self._run_ms + FRAME_MS
            self.ended = self._run_ms >= cfg.silence_ms


def _dbfs(frames: np.ndarray) -> list[float]:
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return [20 * math.log10(r / 32768) if r > 0 else -math.inf for r in rms]
