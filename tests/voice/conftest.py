"""Voice tests use the real models on real audio: nothing here is faked."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.config import Config
from voice import models
from voice.cli import read_corpus

CORPUS = models.REPO.parent / "shared" / "voice" / "dev" / "corpus.tsv"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "zh_model: needs the Mandarin Vosk model; fails, never skips, without it")


@pytest.fixture(scope="session", autouse=True)
def _model_settings() -> None:
    """The models where this machine's settings put them (ASSIST_VOSK_MODEL_ZH …), as `assist` does."""
    config = Config.from_env()
    models.configure(config.cache_dir, config.vosk_models())


@pytest.fixture(autouse=True)
def _mandarin_model(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("zh_model") is None:
        return
    try:
        models.vosk_model("zh")
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
