"""WAV files for the bad-input cases, made with numpy and the wave module."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 16000


def read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


def write(path: Path, samples: np.ndarray, rate: int = RATE, channels: int = 1, width: int = 2) -> Path:
    """`samples` is (n,) or (n, channels) in the int16 range; width 1 writes 8-bit unsigned."""
    x = np.clip(np.asarray(samples), -32768, 32767)
    data = ((x / 256) + 128).astype(np.uint8) if width == 1 else x.astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return path


def resample(x: np.ndarray, rate: int) -> np.ndarray:
    """Linear interpolation: crude, and independent of the PyAV path under test."""
    t = np.arange(len(x)) / RATE
    return np.interp(np.arange(int(len(x) * rate / RATE)) / rate, t, x)


def noise(seconds: float, rms: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, rms, int(seconds * RATE))
