"""Where the speech models come from, and one shared copy of each per owner (SpeechModels).

Mandarin needs the Vosk model; the order of places tried is the operator's order of intent:
an explicit setting, then our cache, then the copy beside the checkout, then the official
download. English uses the Vosk English model when one is provided, otherwise PocketSphinx,
whose en-us model ships inside its wheel, so English never blocks on a download.

The settings (ASSIST_VOSK_MODEL_ZH, ASSIST_VOSK_MODEL_EN, ASSIST_CACHE_DIR) are read by
assist.config; the composition root hands them over as the ModelSources of its SpeechModels.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .grammar import VoskVocabulary, vosk_grammar
from .payees import PayeeBook

REPO = Path(__file__).resolve().parent.parent
DOWNLOAD_TIMEOUT_S = 30


class ModelUnavailable(RuntimeError):
    """A model cannot be found or fetched; the message says which setting provides it."""


@dataclass(frozen=True)
class ModelSpec:
    name: str  # the directory name inside the official zip
    url: str
    sha256: str
    env: str  # the setting that points at an unpacked copy (named in errors)

    @property
    def zip_name(self) -> str:
        return f"{self.name}.zip"


ZH = ModelSpec(
    name="vosk-model-small-cn-0.22",
    url="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
    sha256="3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba",
    env="ASSIST_VOSK_MODEL_ZH",
)
EN = ModelSpec(
    name="vosk-model-small-en-us-0.15",
    url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
    env="ASSIST_VOSK_MODEL_EN",
)
VOSK_SPECS = {"zh": ZH, "en": EN}


@dataclass(frozen=True)
class ModelSources:
    """Where models come from: the operator's settings, as the composition root passes them."""

    cache_dir: Path = REPO / "var" / "models"  # ASSIST_CACHE_DIR
    vosk_dirs: Mapping[str, Path | None] = field(default_factory=dict)  # language → its spec's setting


def shared_models_dir() -> Path:
    """The team's copies beside the checkout (`../shared/models`), for machines without internet."""
    return REPO.parent / "shared" / "models"


def _is_vosk_model(path: Path) -> bool:
    return (path / "am").is_dir() and (path / "conf").is_dir()


def locate(
    spec: ModelSpec, *, download: bool, cache: Path | None = None, shared: Path | None = None, explicit: Path | None = None
) -> Path | None:
    """The directory of an unpacked, verified model, unpacking or downloading it if needed.

    `explicit` is the operator's setting for this model (`spec.env`), which wins when given.
    Returns None when the model is simply absent and `download` is off; raises
    ModelUnavailable when it was asked for (setting, download) and cannot be had.
    """
    if explicit:
        path = Path(explicit)
        if not _is_vosk_model(path):
            raise ModelUnavailable(
                f"{spec.env}={explicit} is not an unpacked Vosk model directory "
                f"(expected am/ and conf/ inside it; unzip {spec.zip_name} and point {spec.env} "
                f"at it)"
            )
        return path
    cache = cache or ModelSources.cache_dir
    unpacked = cache / spec.name
    if _is_vosk_model(unpacked):
        return unpacked
    local_zip = (shared or shared_models_dir()) / spec.zip_name
    if local_zip.is_file():
        _verify(local_zip, spec)
        return _unpack(local_zip, spec, cache)
    if not download:
        return None
    return _unpack(_download(spec, cache), spec, cache, remove_zip=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, spec: ModelSpec) -> None:
    actual = _sha256(path)
    if actual != spec.sha256:
        raise ModelUnavailable(
            f"{path} has sha256 {actual}, expected {spec.sha256}: the file is damaged or not the "
            f"official {spec.zip_name}; replace it, or set {spec.env} to an unpacked copy"
        )


def _unpack(archive: Path, spec: ModelSpec, cache: Path, *, remove_zip: bool = False) -> Path:
    """Unzip into a private temporary directory, then rename into place in one step.

    A crash or a concurrent process never leaves a half-written model where `locate` looks.
    """
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / spec.name
    staging = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=cache))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        unpacked = staging / spec.name
        if not _is_vosk_model(unpacked):
            raise ModelUnavailable(f"{archive} does not contain a {spec.name}/ model directory")
        try:
            unpacked.rename(target)
        except OSError:
            if not _is_vosk_model(target):  # not a lost race with another process: a real failure
                raise
    except zipfile.BadZipFile as exc:
        raise ModelUnavailable(f"{archive} is not a readable zip ({exc}); replace it") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if remove_zip:
            archive.unlink(missing_ok=True)
    return target


def _download(spec: ModelSpec, cache: Path) -> Path:
    """Fetch the official zip with a progress bar on stderr and check its sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    part = cache / f".{spec.zip_name}.part"
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(spec.url, timeout=DOWNLOAD_TIMEOUT_S) as response, part.open("wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            progress = _Progress(spec.zip_name, total)
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                digest.update(block)
                progress.advance(len(block))
            progress.done()
    except (urllib.error.URLError, OSError) as exc:
        part.unlink(missing_ok=True)
        reason = getattr(exc, "reason", exc)
        raise ModelUnavailable(
            f"the speech model {spec.name} is not installed and could not be downloaded from "
            f"{spec.url} ({reason}). Set {spec.env} to an unpacked copy of {spec.zip_name}, "
            f"or put the zip in {shared_models_dir()}, or unpack it into {cache} "
            f"(ASSIST_CACHE_DIR)"
        ) from exc
    if digest.hexdigest() != spec.sha256:
        part.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"the download of {spec.url} has sha256 {digest.hexdigest()}, expected {spec.sha256}; "
            f"not using it. Set {spec.env} to a verified unpacked copy instead"
        )
    return part


class _Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.seen, self.drawn_at = label, total, 0, 0.0

    def advance(self, n: int) -> None:
        self.seen += n
        now = time.monotonic()
        if now - self.drawn_at >= 0.1:
            self.drawn_at = now
            self._draw()

    def done(self) -> None:
        self._draw()
        sys.stderr.write("\n")

    def _draw(self) -> None:
        mb = self.seen / 1e6
        if self.total:
            frac = self.seen / self.total
            bar = "#" * int(frac * 30)
            total = self.total / 1e6
            sys.stderr.write(f"\rdownloading {self.label} [{bar:<30}] {mb:.1f}/{total:.1f} MB")
        else:
            sys.stderr.write(f"\rdownloading {self.label} {mb:.1f} MB")
        sys.stderr.flush()


# --- one copy per owner ----------------------------------------------------------------------


class SpeechModels:
    """The speech models, loaded once each by their owner (the server's app, a CLI run, a
    bench, a test session) and shared by its utterances: each Vosk model on first use, what is
    built from it (its vocabulary, each customer's grammar), and the PocketSphinx decoders.
    Thread-safe: utterances open on the decoding threads."""

    GRAMMARS = 256  # customers' grammars kept (building one takes ~15 ms)

    def __init__(self, sources: ModelSources | None = None) -> None:
        self.sources = sources or ModelSources()
        self.sphinx = SphinxPool()
        self._lock = threading.Lock()
        self._vosk: dict[str, object] = {}
        self._vocabularies: dict[str, VoskVocabulary] = {}
        self._grammars: OrderedDict[tuple[str, PayeeBook | None], str] = OrderedDict()

    def vosk_model(self, lang: str):
        """The Vosk model for `lang`, loaded on first use; None for English when no English
        Vosk model is provided (callers then use PocketSphinx)."""
        with self._lock:
            if lang not in self._vosk:
                self._vosk[lang] = _load_vosk(lang, self.sources)
            return self._vosk[lang]

    def vocabulary(self, lang: str) -> VoskVocabulary:
        model = self.vosk_model(lang)
        with self._lock:
            if lang not in self._vocabularies:
                self._vocabularies[lang] = VoskVocabulary(model)
            return self._vocabularies[lang]

    def vosk_grammar(self, lang: str, payees: PayeeBook | None) -> str:
        """The customer's grammar for Vosk, reused for all their utterances."""
        key = (lang, payees)
        with self._lock:
            if key in self._grammars:
                self._grammars.move_to_end(key)
                return self._grammars[key]
        grammar = vosk_grammar(self.vocabulary(lang), lang, payees)
        with self._lock:
            self._grammars[key] = grammar
            while len(self._grammars) > self.GRAMMARS:
                self._grammars.popitem(last=False)
        return grammar


def _load_vosk(lang: str, sources: ModelSources):
    spec = VOSK_SPECS[lang]
    # Mandarin has no other engine, so it may download; English falls back to PocketSphinx.
    path = locate(spec, download=(lang == "zh"), cache=sources.cache_dir, explicit=sources.vosk_dirs.get(lang))
    if path is None:
        return None
    import vosk

    vosk.SetLogLevel(-1)  # Kaldi's INFO lines on stderr; we check grammar words ourselves
    try:
        return vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception when Kaldi refuses the files
        raise ModelUnavailable(f"Vosk could not load the model in {path} ({exc}); replace it or set {spec.env}") from exc


class SphinxPool:
    """PocketSphinx decoders, reused across utterances.

    A decoder loads its acoustic model and the 130k-word dictionary (~0.4 s) and is not
    thread-safe, so each stream borrows one for its lifetime instead of sharing one.
    """

    def __init__(self) -> None:
        self._idle: list = []
        self._lock = threading.Lock()

    def acquire(self):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _new_sphinx_decoder()

    def release(self, decoder) -> None:
        with self._lock:
            self._idle.append(decoder)


def _new_sphinx_decoder():
    from pocketsphinx import Decoder

    # bestpath's lattice pass turns correct grammar paths into truncated ones (measured on the
    # dev corpus: "cancel" → "", "i want to make a transfer" → "i want") and is 10× slower.
    return Decoder(bestpath=False, loglevel="FATAL")
