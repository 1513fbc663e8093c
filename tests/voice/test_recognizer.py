"""The two engines behind one streaming interface, on real audio."""

import pytest

from tests.voice.audio_files import read
from voice.payees import PayeeBook
from voice.recognizer import open_recognizer

CHUNK = 3200  # 0.1 s of 16 kHz s16
ZHANGSAN = PayeeBook.for_customer("zhangsan")


def pcm(corpus_path, name: str) -> bytes:
    return read(corpus_path.parent / name).astype("<i2").tobytes()


def feed(recognizer, data: bytes) -> list:
    return [recognizer.accept(data[i : i + CHUNK]) for i in range(0, len(data), CHUNK)]


@pytest.mark.zh_model
def test_vosk_grammar_pass_streams_partials_and_gets_the_name(corpus_path):
    rec = open_recognizer("zh", "grammar", ZHANGSAN)
    partials = feed(rec, pcm(corpus_path, "d01.wav"))
    assert any(partials)
    result = rec.final()
    assert (result.text, result.engine, result.pass_name) == ("给李四转五百元", "vosk", "grammar")
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.zh_model
def test_vosk_reset_forgets_and_final_starts_a_new_utterance(corpus_path):
    rec = open_recognizer("zh", "grammar", ZHANGSAN)
    feed(rec, pcm(corpus_path, "d01.wav")[:30000])
    rec.reset()
    feed(rec, pcm(corpus_path, "d22.wav"))
    assert rec.final().text == "返回"
    feed(rec, pcm(corpus_path, "d24.wav"))  # after final(), the next audio is a new utterance
    assert rec.final().text == "取消"


@pytest.mark.zh_model
def test_vosk_free_pass_hears_words_outside_any_grammar(corpus_path):
    rec = open_recognizer("zh", "free")
    feed(rec, pcm(corpus_path, "d12.wav"))
    result = rec.final()
    assert result.pass_name == "free" and "多少" in result.text


def test_pocketsphinx_grammar_pass_for_english(corpus_path):
    rec = open_recognizer("en", "grammar", ZHANGSAN)
    assert rec.engine == "pocketsphinx"
    feed(rec, pcm(corpus_path, "d32.wav"))
    assert rec.final().text == "send two thousand to wang wu"
    rec.close()


def test_pocketsphinx_decoders_are_pooled():
    first = open_recognizer("en", "grammar")
    decoder = first._decoder
    first.close()
    second = open_recognizer("en", "free")
    assert second._decoder is decoder
    second.close()


def test_silence_fits_no_english_grammar():
    rec = open_recognizer("en", "grammar")
    rec.accept(bytes(32000))
    result = rec.final()
    assert (result.text, result.confidence) == ("", 0.0)
    rec.close()


def test_a_misuse_is_refused():
    with pytest.raises(ValueError, match="pass must be"):
        open_recognizer("zh", "fast")
    with pytest.raises(ValueError, match="lang must be"):
        open_recognizer("fr", "free")
