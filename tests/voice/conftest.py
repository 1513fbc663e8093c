"""Voice tests use the real models on real audio: nothing here is faked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voice import models
from voice.cli import read_corpus
from voice.pipeline import Speech

CORPUS = models.REPO.parent / "shared" / "voice" / "dev" / "corpus.tsv"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "zh_model: needs the Mandarin Vosk model; fails, never skips, without it")


@pytest.fixture
def speech(speech_models: models.SpeechModels) -> Iterator[Speech]:
    """The models and decoding threads the asynchronous path needs, shut down after the test."""
    with Speech(speech_models) as speech:
        yield speech


@pytest.fixture(autouse=True)
def _mandarin_model(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("zh_model") is None:
        return
    try:
        request.getfixturevalue("speech_models").vosk_model("zh")
    except models.ModelUnavailable as exc:
        pytest.fail(f"this test needs the Mandarin speech model, which cannot be found: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    if not CORPUS.is_file():
        pytest.fail(f"the dev corpus is missing: expected {CORPUS} (shared/ beside the checkout)", pytrace=False)
    return CORPUS


@pytest.fixture(scope="session")
def corpus(corpus_path: Path) -> list[dict]:
    return read_corpus(corpus_path)
