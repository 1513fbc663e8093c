"""The model loader: setting, cache, the shared copy, the download, one copy per process."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
import zipfile

import pytest

from voice import models
from voice.models import ModelSpec, ModelUnavailable, locate

ENV = "ASSIST_TEST_VOSK_MODEL"  # the setting's name, as errors show it


def tiny_zip() -> bytes:
    """A zip shaped like an official model: one top directory holding am/ and conf/."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("tiny-model/am/final.mdl", b"am")
        zf.writestr("tiny-model/conf/model.conf", b"conf")
    return buf.getvalue()


def spec_for(data: bytes, url: str = "http://127.0.0.1:9/tiny-model.zip") -> ModelSpec:
    return ModelSpec("tiny-model", url, hashlib.sha256(data).hexdigest(), ENV)


@pytest.fixture
def served(tmp_path):
    """A real HTTP server on loopback serving files from a directory."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_setting_wins(tmp_path):
    model = tmp_path / "mine"
    (model / "am").mkdir(parents=True)
    (model / "conf").mkdir()
    assert locate(spec_for(b""), download=True, cache=tmp_path / "cache", explicit=model) == model


def test_a_wrong_setting_names_itself(tmp_path):
    with pytest.raises(ModelUnavailable, match=ENV):
        locate(spec_for(b""), download=True, cache=tmp_path / "cache", explicit=tmp_path)


def test_shared_zip_is_verified_and_unpacked_into_the_cache(tmp_path):
    data = tiny_zip()
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    shared.mkdir()
    (shared / "tiny-model.zip").write_bytes(data)
    path = locate(spec_for(data), download=False, cache=cache, shared=shared)
    assert path == cache / "tiny-model"
    assert (path / "am" / "final.mdl").read_bytes() == b"am"
    assert [p.name for p in cache.iterdir()] == ["tiny-model"]  # no staging directory left
    # the second time the unpacked copy is used as it is
    (shared / "tiny-model.zip").unlink()
    assert locate(spec_for(data), download=False, cache=cache, shared=shared) == path


def test_a_damaged_shared_zip_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "tiny-model.zip").write_bytes(b"not the model")
    with pytest.raises(ModelUnavailable, match="sha256"):
        locate(spec_for(tiny_zip()), download=False, cache=tmp_path / "cache", shared=shared)


def test_a_zip_without_the_model_directory_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("something-else/README", b"x")
    shared, cache = tmp_path / "shared", tmp_path / "cache"
    shared.mkdir()
    (shared / "tiny-model.zip").write_bytes(buf.getvalue())
    with pytest.raises(ModelUnavailable, match="does not contain"):
        locate(spec_for(buf.getvalue()), download=False, cache=cache, shared=shared)
    assert list(cache.iterdir()) == []


def test_absent_without_download_is_none(tmp_path):
    assert locate(spec_for(b""), download=False, cache=tmp_path, shared=tmp_path) is None
    assert locate(models.EN, download=False, cache=tmp_path, shared=tmp_path) is None


def test_download_checks_the_checksum_and_shows_progress(tmp_path, served, capsys):
    root, base = served
    data = tiny_zip()
    (root / "tiny-model.zip").write_bytes(data)
    cache = tmp_path / "cache"
    path = locate(spec_for(data, f"{base}/tiny-model.zip"), download=True, cache=cache, shared=tmp_path)
    assert (path / "conf" / "model.conf").read_bytes() == b"conf"
    assert [p.name for p in cache.iterdir()] == ["tiny-model"]  # the .part file is gone
    assert "downloading tiny-model.zip" in capsys.readouterr().err


def test_a_download_with_the_wrong_checksum_is_discarded(tmp_path, served):
    root, base = served
    (root / "tiny-model.zip").write_bytes(tiny_zip())
    cache = tmp_path / "cache"
    spec = ModelSpec("tiny-model", f"{base}/tiny-model.zip", "0" * 64, ENV)
    with pytest.raises(ModelUnavailable, match="expected 0000"):
        locate(spec, download=True, cache=cache, shared=tmp_path)
    assert list(cache.iterdir()) == []


def test_an_unreachable_download_names_the_setting(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = spec_for(b"", f"http://127.0.0.1:{port}/tiny-model.zip")
    with pytest.raises(ModelUnavailable) as exc:
        locate(spec, download=True, cache=tmp_path / "cache", shared=tmp_path)
    assert ENV in str(exc.value) and "could not be downloaded" in str(exc.value)


@pytest.mark.zh_model
def test_the_official_mandarin_zip_unpacks_from_the_shared_copy(tmp_path):
    if not (models.shared_models_dir() / models.ZH.zip_name).is_file():
        pytest.fail(f"expected {models.ZH.zip_name} in {models.shared_models_dir()}", pytrace=False)
    path = locate(models.ZH, download=False, cache=tmp_path)
    assert path == tmp_path / models.ZH.name
    assert (path / "am" / "final.mdl").is_file()


@pytest.mark.zh_model
def test_one_model_per_owner_even_when_asked_from_many_threads(speech_models):
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(speech_models.vosk_model("zh"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(m) for m in seen}) == 1 and seen[0] is speech_models.vosk_model("zh")


def test_the_configured_setting_reaches_the_loader(tmp_path):
    """The composition root's ASSIST_VOSK_MODEL_ZH (its SpeechModels' sources) is what loads."""
    owned = models.SpeechModels(models.ModelSources(tmp_path / "cache", {"zh": tmp_path}))
    with pytest.raises(ModelUnavailable, match=f"ASSIST_VOSK_MODEL_ZH={tmp_path} is not"):
        owned.vosk_model("zh")
