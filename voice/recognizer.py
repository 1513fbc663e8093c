"""Streaming speech recognition behind one interface, with two engines and two passes.

Engines: Vosk (Mandarin; English when an English Vosk model is provided) and PocketSphinx
(English otherwise). Passes: "free" decodes with the engine's own language model;
"grammar" decodes against a grammar built at run time for this customer (voice.grammar).
Audio is 16 kHz mono signed 16-bit PCM. A recognizer is not thread-safe: one per stream.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass

from voice.grammar import UNKNOWN, jsgf
from voice.models import SpeechModels, SphinxPool
from voice.payees import PayeeBook

SAMPLE_RATE = 16000
PASSES = ("grammar", "free")


@dataclass(frozen=True)
class Result:
    text: str
    confidence: float  # 0–1: the least certain word, since one wrong word spoils an intent
    engine: str
    pass_name: str
    words_s: float = 0.0  # seconds of audio the recognized words span


class Recognizer(ABC):
    engine: str
    pass_name: str
    # Whether the free pass is worth running when the grammar pass is unsure: not for
    # PocketSphinx, whose free-form English gets most intents wrong (docs/voice.md).
    free_pass_useful: bool

    @abstractmethod
    def accept(self, pcm: bytes) -> str | None:
        """Decode more audio; the partial text so far, or None while there is none."""

    @abstractmethod
    def final(self) -> Result:
        """The result for all audio accepted since the start or the last reset()."""

    @abstractmethod
    def reset(self) -> None:
        """Forget the audio so far and start a new utterance."""

    def close(self) -> None:  # noqa: B027 (a no-op unless the engine holds something shared)
        """Give back shared resources; the recognizer is unusable afterwards."""


def open_recognizer(models: SpeechModels, lang: str, pass_name: str, payees: PayeeBook | None = None) -> Recognizer:
    if pass_name not in PASSES:
        raise ValueError(f"pass must be one of {PASSES}, not {pass_name!r}")
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    model = models.vosk_model(lang)
    if model is not None:
        grammar = models.vosk_grammar(lang, payees) if pass_name == "grammar" else None
        return VoskRecognizer(model, lang, pass_name, grammar)
    return SphinxRecognizer(models.sphinx, pass_name, payees)


# --- Vosk ----------------------------------------------------------------------------------


class VoskRecognizer(Recognizer):
    engine = "vosk"
    free_pass_useful = True
    _done: list[dict]  # words of segments Vosk closed at its own endpoints

    def __init__(self, model, lang: str, pass_name: str, grammar: str | None) -> None:
        """`grammar`: the customer's (SpeechModels.vosk_grammar) for the grammar pass."""
        import vosk

        self.lang, self.pass_name = lang, pass_name
        args: tuple = (model, SAMPLE_RATE)
        if grammar is not None:
            args += (grammar,)
        # Vosk's own Reset() keeps audio its feature pipeline has buffered but not decoded
        # (it came back in the next utterance), so reset() makes a new recognizer: ~1 ms
        # with a grammar, ~70 ms free-form.
        self._new = lambda: vosk.KaldiRecognizer(*args)
        self.reset()

    def accept(self, pcm: bytes) -> str | None:
        # Vosk closes a segment at each pause it detects; we keep going until our own
        # endpointer ends the utterance, so closed segments are collected, not lost.
        if self._rec.AcceptWaveform(pcm):
            self._done += json.loads(self._rec.Result()).get("result", [])
        partial = json.loads(self._rec.PartialResult()).get("partial", "")
        text = self._join([w["word"] for w in self._done] + partial.split())
        return text or None

    def final(self) -> Result:
        words = self._done + json.loads(self._rec.FinalResult()).get("result", [])
        self._done = []
        # speech outside the grammar adds no text and counts as zero certainty
        confidence = min((0.0 if w["word"] == UNKNOWN else w["conf"] for w in words), default=0.0)
        text = self._join([w["word"] for w in words])
        span = sum(w["end"] - w["start"] for w in words if w["word"] != UNKNOWN)
        return Result(text, round(confidence, 3), self.engine, self.pass_name, round(span, 2))

    def reset(self) -> None:
        self._rec = self._new()
        self._rec.SetWords(True)
        self._done = []

    def _join(self, words: list[str]) -> str:
        return ("" if self.lang == "zh" else " ").join(w for w in words if w != UNKNOWN)


# --- PocketSphinx --------------------------------------------------------------------------


class SphinxRecognizer(Recognizer):
    engine = "pocketsphinx"
    free_pass_useful = False
    _FREE = "_default"  # the search PocketSphinx creates for its own language model

    def __init__(self, pool: SphinxPool, pass_name: str, payees: PayeeBook | None) -> None:
        self.pass_name = pass_name
        self._pool = pool
        self._decoder = pool.acquire()
        search = self._FREE
        if pass_name == "grammar":
            grammar = jsgf(self._decoder, payees)
            search = "g" + hashlib.sha1(grammar.encode()).hexdigest()[:16]
            try:  # a pooled decoder keeps the searches it compiled for earlier customers
                self._decoder.activate_search(search)
            except KeyError:
                self._decoder.add_jsgf_string(search, grammar)
        self._decoder.activate_search(search)
        self._audio = bytearray()

    # PocketSphinx normalizes the cepstrum with a running mean when fed piece by piece, and
    # the first second of every utterance suffers: streamed, "five hundred yuan" came out
    # "five hundred two". Decoding the whole utterance at once uses its own mean, and the
    # grammar search is fast enough (RTF ≈ 0.05) to run at the end; so no partials here.
    def accept(self, pcm: bytes) -> str | None:
        self._audio += pcm
        return None

    def final(self) -> Result:
        self._decoder.start_utt()
        self._decoder.process_raw(bytes(self._audio), False, True)
        self._decoder.end_utt()
        self._audio = bytearray()
        hyp = self._decoder.hyp()
        text = hyp.hypstr if hyp else ""
        # Without the bestpath pass (models.py) PocketSphinx reports no usable posterior; a
        # grammar hypothesis exists only when the whole utterance fit the grammar, so that
        # fit is the confidence: 1 or 0.
        frames = sum(
            seg.end_frame - seg.start_frame + 1 for seg in (self._decoder.seg() or ()) if seg.word[0] not in "<[(+"
        )  # fillers: <sil>, [NOISE], (NULL), ++…++
        return Result(text, 1.0 if text else 0.0, self.engine, self.pass_name, round(frames / 100, 2))  # 100 frames a second

    def reset(self) -> None:
        self._audio = bytearray()

    def close(self) -> None:
        if self._decoder is not None:
            self._pool.release(self._decoder)
            self._decoder = None
