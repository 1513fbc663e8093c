"""From audio to an intent: the file path, the streaming Utterance and its asyncio wrapper.

Pass choice ("auto"): the grammar pass streams with the audio, since it is cheap (RTF ≈ 0.05)
and gets names right; when its sentence does not parse into an intent or its least certain
word is below ACCEPT_CONFIDENCE, the free pass decodes the buffered audio and the better of
the two is kept. Only unsure utterances pay for the free pass (RTF ≈ 0.7).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from voice.audio import BYTES_PER_SECOND, LevelMeter, read_pcm
from voice.endpoint import EndpointConfig, Endpointer
from voice.intents import MESSAGES as INTENT_MESSAGES
from voice.intents import Intent, parse
from voice.models import SpeechModels
from voice.payees import PayeeBook
from voice.recognizer import Recognizer, Result, open_recognizer

ACCEPT_CONFIDENCE = 0.7
# A free-pass result whose least certain word is below this is taken for noise: on speech
# the model does not follow, the free pass writes fluent nonsense whose weakest words sit
# at 0.15–0.4, where real speech it hears stays above 0.4 (docs/voice.md).
FREE_MIN_CONFIDENCE = 0.4
# The recognized words must span at least this share of the speech the endpointer heard.
# PocketSphinx has no confidence and fits noise into its grammar as one short word ("no"
# over 4 s of noise: 1–2 % of it); real utterances measured 29 % and up (docs/voice.md).
MIN_WORD_COVERAGE = 0.2
LIVE = EndpointConfig()  # the live path's endpointing: 800 ms of silence, 15 s cap
CLIPPED_WARNING = 0.005  # fraction of full-scale samples worth telling the operator about
STRATEGIES = ("auto", "grammar", "free")
_FALLBACK_CHUNK = BYTES_PER_SECOND // 2

MESSAGES = {
    "zh": {"no_speech": "没有听到说话声，请再说一遍"},
    "en": {"no_speech": "No speech was heard; please try again."},
}


@dataclass(frozen=True)
class Recognition:
    text: str
    intent: str | None
    slots: dict
    engine: str
    pass_name: str | None  # None when nothing was decoded (no speech)
    confidence: float = 0.0
    message: str | None = None  # for the customer: a question, or why nothing happened
    candidates: tuple[str, ...] = ()  # payees to choose from after an ambiguous name
    warnings: tuple[str, ...] = ()  # for the operator: clipped audio, cut at the cap
    seconds: float = 0.0  # audio decoded

    def to_json(self) -> dict:
        """The CLI's and the live path's wire form; absent slots and empty fields omitted."""
        out: dict[str, Any] = {
            "text": self.text,
            "intent": self.intent,
            "slots": self.slots,
            "engine": self.engine,
            "pass": self.pass_name,
        }
        if self.message:
            out["message"] = self.message
        if self.candidates:
            out["candidates"] = list(self.candidates)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


@dataclass(frozen=True)
class Update:
    partial: str | None  # what the streaming pass has heard so far
    ended: bool  # the endpointer or the cap closed the utterance: call finish()


def payees_for(customer: str | PayeeBook | None) -> PayeeBook | None:
    if customer is None or isinstance(customer, PayeeBook):
        return customer
    return PayeeBook.for_customer(customer)


class Utterance:
    """One spoken request, fed as it arrives. Not thread-safe; see AsyncUtterance for asyncio.

    `strategy` "auto" is the product's choice; "grammar" and "free" run one pass only, for
    measurements. Feed 16 kHz mono s16 PCM (voice.audio.Resampler converts other audio).
    """

    def __init__(
        self,
        models: SpeechModels,
        lang: str,
        customer: str | PayeeBook | None = None,
        *,
        endpoint: EndpointConfig = LIVE,
        strategy: str = "auto",
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
        self.models, self.lang, self.strategy = models, lang, strategy
        self.payees = payees_for(customer)
        self._endpoint = Endpointer(endpoint)
        self._max_bytes = endpoint.max_ms * BYTES_PER_SECOND // 1000
        self._first: Recognizer = open_recognizer(models, lang, "free" if strategy == "free" else "grammar", self.payees)
        self._keep_audio = strategy == "auto" and self._first.free_pass_useful
        self._audio = bytearray()
        self._odd = b""  # a trailing half sample, completed by the next feed
        self._fed = 0
        self._capped = False
        self._levels = LevelMeter()
        self._partial: str | None = None

    @property
    def ended(self) -> bool:
        return self._capped or self._endpoint.ended

    def feed(self, pcm: bytes) -> Update:
        if self.ended:
            return Update(self._partial, True)
        data = self._odd + pcm
        self._odd = data[len(data) - len(data) % 2 :]
        data = data[: len(data) - len(self._odd)]
        room = self._max_bytes - self._fed
        if len(data) >= room:
            data, self._capped = data[:room], True
        self._fed += len(data)
        if data:
            self._endpoint.push(data)
            self._levels.add(data)
            if self._keep_audio:
                self._audio += data
            self._partial = self._first.accept(data) or self._partial
        return Update(self._partial, self.ended)

    def finish(self) -> Recognition:
        try:
            return self._finish()
        finally:
            self.close()

    def close(self) -> None:
        """Give back what the recognizer borrowed, without decoding (finish() does this too)."""
        self._first.close()

    def _finish(self) -> Recognition:
        warnings = self._warnings()
        seconds = round(self._fed / BYTES_PER_SECOND, 2)
        if not self._endpoint.speech_started:
            return Recognition(
                "",
                None,
                {},
                self._first.engine,
                None,
                seconds=seconds,
                message=MESSAGES[self.lang]["no_speech"],
                warnings=warnings,
            )
        result = self._first.final()
        intent = self._parse(result)
        if self._keep_audio and (intent.name is None or result.confidence < ACCEPT_CONFIDENCE):
            result, intent = self._better(result, intent, self._free_pass())
        return Recognition(
            result.text,
            intent.name,
            intent.slots,
            result.engine,
            result.pass_name,
            result.confidence,
            intent.message,
            intent.candidates,
            warnings,
            seconds,
        )

    def _parse(self, result: Result) -> Intent:
        if result.words_s < MIN_WORD_COVERAGE * self._endpoint.speech_ms / 1000:
            return Intent(None, message=INTENT_MESSAGES[self.lang]["not_understood"])
        return parse(result.text, self.lang, self.payees)

    def _free_pass(self) -> Result:
        free = open_recognizer(self.models, self.lang, "free", self.payees)
        try:
            for i in range(0, len(self._audio), _FALLBACK_CHUNK):
                free.accept(bytes(self._audio[i : i + _FALLBACK_CHUNK]))
            return free.final()
        finally:
            free.close()

    def _better(self, grammar: Result, grammar_intent: Intent, free: Result) -> tuple[Result, Intent]:
        """Called when the grammar pass was unsure or found no intent."""
        if free.confidence < FREE_MIN_CONFIDENCE:  # the free pass heard noise
            return grammar, grammar_intent
        free_intent = self._parse(free)
        if free_intent.name == grammar_intent.name:  # agreed: the grammar pass spells names right
            return grammar, grammar_intent
        if grammar_intent.name is None or free_intent.name is None:
            # The free pass heard real words: if they hold no request, the unsure grammar
            # result was forced out of speech it does not cover (你叫什么名字 became 一千).
            return free, free_intent
        if grammar.confidence >= free.confidence:
            return grammar, grammar_intent
        return free, free_intent

    def _warnings(self) -> tuple[str, ...]:
        out = []
        if self._capped:
            out.append(f"utterance cut at {self._max_bytes // BYTES_PER_SECOND} s; the rest was not decoded")
        if self._levels.clipped_fraction >= CLIPPED_WARNING:
            out.append(
                f"audio is clipped ({self._levels.clipped_fraction:.1%} of samples at full "
                f"scale): the microphone gain is too high"
            )
        return tuple(out)


def recognize_wav(
    models: SpeechModels, path: str | Path, lang: str, customer: str | PayeeBook | None = None, *, strategy: str = "auto"
) -> Recognition:
    """One file, one utterance: pauses inside the file do not end it, only the cap does."""
    utterance = Utterance(models, lang, customer, strategy=strategy, endpoint=EndpointConfig(silence_ms=None))
    try:
        for chunk in read_pcm(path):
            if utterance.feed(chunk).ended:
                break
        return utterance.finish()
    finally:
        utterance.close()


# --- asyncio ---------------------------------------------------------------------------------


class Speech:
    """What asynchronous decoding needs, owned by whoever decodes (the server's app, a bench, a
    test): the speech models and the worker threads decoding runs on, started by start() and
    shut down by close() (or `with Speech(models) as speech:`). Vosk releases the GIL while it
    decodes.

    Twice as many threads as cores by default: a free-pass fallback holds its thread for a
    second or two, and with one thread per core it held up every other stream's frames
    meanwhile (measured: 16 streams fell behind on 2 cores; see docs/voice.md)."""

    def __init__(self, models: SpeechModels, workers: int | None = None) -> None:
        self.models = models
        self.workers = workers or 2 * (os.cpu_count() or 2)
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="voice")

    def close(self) -> None:
        """Stop the threads; decoding not yet begun is dropped (its utterances are closed)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Speech:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    async def run(self, fn, *args):
        """`fn(*args)` on a decoding thread."""
        if self._executor is None:
            raise RuntimeError("Speech is not started (start() it, or use it in a with block)")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)


class AsyncUtterance:
    """An Utterance whose decoding runs on worker threads, so the event loop never blocks.

    A caller may fire feed() for each incoming frame without awaiting the previous one:
    calls are serialized (a recognizer is not thread-safe), and frames that queue up while a
    decode is running are decoded together in the next one, which is what lets one process
    keep up with many streams of 20 ms frames.
    """

    def __init__(self, utterance: Utterance, speech: Speech) -> None:
        self.utterance = utterance
        self.speech = speech
        self._lock = asyncio.Lock()
        self._pending = bytearray()
        self._last = Update(None, False)

    @classmethod
    async def open(cls, speech: Speech, lang: str, customer: str | PayeeBook | None = None, **options) -> AsyncUtterance:
        # Opening may load a model (about a second, once per owner): off the loop too.
        return cls(await speech.run(lambda: Utterance(speech.models, lang, customer, **options)), speech)

    async def feed(self, pcm: bytes) -> Update:
        self._pending += pcm
        async with self._lock:
            if self._pending:  # else an earlier caller's decode already took this audio
                data, self._pending = bytes(self._pending), bytearray()
                self._last = await self._run(self.utterance.feed, data)
            return self._last

    async def finish(self) -> Recognition:
        async with self._lock:
            if self._pending:
                data, self._pending = bytes(self._pending), bytearray()
                await self._run(self.utterance.feed, data)
            return await self._run(self.utterance.finish)

    async def _run(self, fn, *args):
        return await self.speech.run(fn, *args)


async def recognize_wav_async(
    speech: Speech, path: str | Path, lang: str, customer: str | PayeeBook | None = None, **options
) -> Recognition:
    return await speech.run(lambda: recognize_wav(speech.models, path, lang, customer, **options))


def preload(models: SpeechModels, lang: str) -> str:
    """Load the model for `lang` now (at server start) rather than on the first request;
    returns the engine that will serve it."""
    if models.vosk_model(lang) is not None:
        return "vosk"
    models.sphinx.release(models.sphinx.acquire())
    return "pocketsphinx"
