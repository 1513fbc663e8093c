"""Voice figures: accuracy per pass, real-time factor against bare Vosk, latency, model load,
and how many live streams one process keeps up with.

    .venv/bin/python -m bench.voice_bench

Uses the dev corpus in ../shared/voice/dev and the held-out phrasings in tests/voice/heldout.
Every figure is measured here, on this machine; run() returns the rows it prints:
(section, metric, value, unit).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from assist.config import Config
from voice import models
from voice.audio import BYTES_PER_SECOND, read_pcm
from voice.cli import read_corpus
from voice.endpoint import FRAME_MS
from voice.models import ModelSources, SpeechModels
from voice.pipeline import LIVE, STRATEGIES, AsyncUtterance, Speech, Utterance, recognize_wav

CORPUS = models.REPO.parent / "shared" / "voice" / "dev" / "corpus.tsv"
# phrasings the grammar was not built from
HELD_OUT = models.REPO / "tests" / "voice" / "heldout" / "heldout.tsv"
CUSTOMER = "zhangsan"
TRAILING_SILENCE_S = 1.0  # what a customer's pause after speaking looks like to the endpointer
KEEP_UP_P95_S = 0.2  # a stream keeps up when its frames are decoded this soon after spoken
STREAM_COUNTS = (1, 2, 4, 8, 16, 24, 32, 48, 64)


def run() -> list[tuple]:
    speech = _speech_models()
    rows: list[tuple] = []
    corpus = _rows(CORPUS)
    for lang in ("zh", "en"):
        rows += _model_load(lang)
    rows += _accuracy_and_speed(speech, corpus)
    held_out = _rows(HELD_OUT)
    rows += _accuracy(speech, held_out, "held-out")[0]
    rows += _latency(speech, corpus, "dev") + _latency(speech, held_out, "held-out")
    rows += _concurrency(speech, [row for row in corpus if row["lang"] == "zh"])
    _print(rows)
    return rows


def _speech_models() -> SpeechModels:
    """The models where the settings put them (ASSIST_VOSK_MODEL_ZH …), as `assist` loads them."""
    config = Config.from_env()
    return SpeechModels(ModelSources(config.cache_dir, config.vosk_models()))


def _model_load(lang: str) -> list[tuple]:
    """In a fresh process, so the load is cold in Python terms and RSS is the model's own."""
    script = (
        "import json, time\n"
        "from bench.voice_bench import _rss_mb, _speech_models\n"
        "from voice import pipeline\n"
        "speech = _speech_models()\n"
        "before = _rss_mb(); t = time.perf_counter()\n"
        f"engine = pipeline.preload(speech, {lang!r})\n"
        "print(json.dumps([engine, time.perf_counter() - t, _rss_mb() - before]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=models.REPO, check=True).stdout
    engine, seconds, mb = json.loads(out)
    return [
        ("model", f"{lang} load ({engine})", round(seconds, 2), "s"),
        ("model", f"{lang} RSS added ({engine})", round(mb), "MB"),
    ]


def _pcm(path: Path) -> bytes:
    return b"".join(read_pcm(path))


def _rows(tsv: Path) -> list[dict]:
    return [dict(row, path=tsv.parent / row["file"]) for row in read_corpus(tsv)]


def _accuracy(speech: SpeechModels, corpus: list[dict], name: str) -> tuple[list[tuple], dict[tuple, float]]:
    """Intents and slots right per language and pass, and the seconds each run took.

    "wrong" counts actions the customer did not ask for (another intent): worse than "not
    understood", which only asks again."""
    rows, seconds = [], {}
    for lang in ("zh", "en"):
        files = [row for row in corpus if row["lang"] == lang]
        recognize_wav(speech, files[0]["path"], lang, CUSTOMER)  # warm: model, grammar, decoder pool
        for strategy in STRATEGIES:
            intents = slots = wrong = 0
            t = time.perf_counter()
            for row in files:
                result = recognize_wav(speech, row["path"], lang, CUSTOMER, strategy=strategy)
                expected = row["intent"] or None
                intents += result.intent == expected
                wrong += result.intent not in (None, expected)
                slots += result.slots == json.loads(row["slots"])
            seconds[lang, strategy] = time.perf_counter() - t
            n = len(files)
            rows.append(
                (
                    "accuracy",
                    f"{name} {lang} pass={strategy}",
                    f"{intents / n:.3f} / {slots / n:.3f} / {wrong}",
                    f"intent / slots / wrong actions, {n} utterances",
                )
            )
    return rows, seconds


def _accuracy_and_speed(speech: SpeechModels, corpus: list[dict]) -> list[tuple]:
    rows, seconds = _accuracy(speech, corpus, "dev")
    for (lang, strategy), spent in seconds.items():
        audio_s = sum(len(_pcm(r["path"])) for r in corpus if r["lang"] == lang) / BYTES_PER_SECOND
        rows.append(("speed", f"{lang} RTF, pass={strategy}", round(spent / audio_s, 3), "x real time"))
    bare = _bare_vosk_rtf(speech, [row for row in corpus if row["lang"] == "zh"])
    auto = next(r[2] for r in rows if r[1] == "zh RTF, pass=auto")
    rows += [
        ("speed", "zh RTF, bare Vosk free-form decode", round(bare, 3), "x real time"),
        ("speed", "zh pipeline (auto) / bare Vosk", round(auto / bare, 3), "ratio"),
    ]
    return rows


def _bare_vosk_rtf(speech: SpeechModels, files: list[dict]) -> float:
    """Vosk alone on the same audio: no file reading, grammar, endpointing or parsing."""
    import vosk

    model = speech.vosk_model("zh")
    audio = [_pcm(row["path"]) for row in files]
    t = time.perf_counter()
    for pcm in audio:
        rec = vosk.KaldiRecognizer(model, 16000)
        rec.AcceptWaveform(pcm)
        rec.FinalResult()
    return (time.perf_counter() - t) / (sum(map(len, audio)) / BYTES_PER_SECOND)


def _latency(speech: SpeechModels, corpus: list[dict], name: str) -> list[tuple]:
    """End of speech → intent: the endpointer's silence window, then what finish() costs.

    Frames are fed as fast as the recognizer takes them; the decoder is synchronous, so when
    the endpoint fires all earlier audio is decoded, as it is live when RTF < 1."""
    silence_ms = LIVE.silence_ms
    assert silence_ms is not None, "the live path ends an utterance at a pause"
    rows = []
    for lang in ("zh", "en"):
        costs = []
        for row in (r for r in corpus if r["lang"] == lang):
            pcm = _pcm(row["path"]) + bytes(int(TRAILING_SILENCE_S * BYTES_PER_SECOND))
            utterance = Utterance(speech, lang, CUSTOMER, endpoint=LIVE)
            step = BYTES_PER_SECOND * FRAME_MS // 1000
            for i in range(0, len(pcm), step):
                if utterance.feed(pcm[i : i + step]).ended:
                    break
            t = time.perf_counter()
            utterance.finish()
            costs.append(time.perf_counter() - t)
        p50, p95 = _percentile(costs, 50), _percentile(costs, 95)
        rows += [
            ("latency", f"{name} {lang} finish() p50 / p95", f"{p50 * 1000:.0f} / {p95 * 1000:.0f}", "ms"),
            (
                "latency",
                f"{name} {lang} end of speech → intent p50 / p95",
                f"{silence_ms + p50 * 1000:.0f} / {silence_ms + p95 * 1000:.0f}",
                f"ms, of which {silence_ms} ms is the silence window",
            ),
        ]
    return rows


def _concurrency(speech: SpeechModels, files: list[dict]) -> list[tuple]:
    """Streams fed in real time (20 ms frames on the clock) through AsyncUtterance, as the
    WebRTC path will. A count is sustained when audio is decoded as fast as it arrives: the
    p95 delay from a frame being spoken to its feed() returning stays under KEEP_UP_P95_S."""
    audio = [_pcm(row["path"]) + bytes(int(TRAILING_SILENCE_S * BYTES_PER_SECOND)) for row in files]
    sustained, per_stream_mb, rows = 0, 0.0, []
    for n in STREAM_COUNTS:
        delays, lags, mb, right = asyncio.run(_streams(speech, n, audio, files))
        feed_p95 = _percentile(delays, 95)
        rows += [
            ("streams", f"{n:>2} streams: frame → decoded p95", round(feed_p95 * 1000), "ms"),
            (
                "streams",
                f"{n:>2} streams: endpoint → intent p50 / p95",
                f"{_percentile(lags, 50) * 1000:.0f} / {_percentile(lags, 95) * 1000:.0f}",
                "ms",
            ),
            ("streams", f"{n:>2} streams: intents right", f"{right}/{n}", ""),
        ]
        if feed_p95 > KEEP_UP_P95_S:
            break
        sustained, per_stream_mb = n, mb / n
    return rows + [
        ("streams", "zh streams sustained in real time, one process", sustained, ""),
        ("streams", "memory per stream (peak RSS growth / streams)", round(per_stream_mb, 1), "MB"),
    ]


async def _streams(
    models: SpeechModels, n: int, audio: list[bytes], files: list[dict]
) -> tuple[list[float], list[float], float, int]:
    with Speech(models) as speech:  # decoding threads for this count of streams
        return await _stream_all(speech, n, audio, files)


async def _stream_all(
    speech: Speech, n: int, audio: list[bytes], files: list[dict]
) -> tuple[list[float], list[float], float, int]:
    loop = asyncio.get_running_loop()
    before = peak = _rss_mb()
    utterances = [await AsyncUtterance.open(speech, "zh", CUSTOMER, endpoint=LIVE) for _ in range(n)]
    start = loop.time() + 0.2
    step = BYTES_PER_SECOND * FRAME_MS // 1000
    delays: list[float] = []

    async def one(k: int, utterance: AsyncUtterance) -> tuple[float, bool]:
        pcm, row = audio[k % len(audio)], files[k % len(files)]
        begin = start + (k % 50) * FRAME_MS / 1000  # staggered, not in lock-step
        spoken_until = begin
        for i in range(0, len(pcm), step):
            spoken_until = begin + (i + step) / BYTES_PER_SECOND
            await asyncio.sleep(max(0.0, spoken_until - loop.time()))
            ended = (await utterance.feed(pcm[i : i + step])).ended
            delays.append(loop.time() - spoken_until)
            if ended:
                break
        result = await utterance.finish()
        return loop.time() - spoken_until, result.intent == row["intent"]

    async def watch_memory() -> None:
        nonlocal peak
        while True:
            peak = max(peak, _rss_mb())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_memory())
    done = await asyncio.gather(*(one(k, u) for k, u in enumerate(utterances)))
    watcher.cancel()
    return delays, [lag for lag, _ in done], peak - before, sum(ok for _, ok in done)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmRSS")).split()[1]) / 1024


def _percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _print(rows: list[tuple]) -> None:
    from .common import print_table

    for section in dict.fromkeys(r[0] for r in rows):
        print_table(
            f"Voice: {section}",
            ("measure", "value", "unit"),
            [(metric, value, unit) for s, metric, value, unit in rows if s == section],
        )


if __name__ == "__main__":
    run()
