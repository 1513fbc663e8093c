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
def test_vosk_grammar_pass_streams_partials_and_gets_the_name(speech_models, corpus_path):
    rec = open_recognizer(speech_models, "zh", "grammar", ZHANGSAN)
    partials = feed(rec, pcm(corpus_path, "d01.wav"))
    assert any(partials)
    result = rec.final()
    assert (result.text, result.engine, result.pass_name) == ("给李四转五百元", "vosk", "grammar")
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.zh_model
def test_vosk_reset_forgets_and_final_starts_a_new_utterance(speech_models, corpus_path):
    rec = open_recognizer(speech_models, "zh", "grammar", ZHANGSAN)
    feed(rec, pcm(corpus_path, "d01.wav")[:30000])
    rec.reset()
    feed(rec, pcm(corpus_path, "d22.wav"))
    assert rec.final().text == "返回"
    feed(rec, pcm(corpus_path, "d24.wav"))  # after final(), the next audio is a new utterance
    assert rec.final().text == "取消"


@pytest.mark.zh_model
def test_vosk_free_pass_hears_words_outside_any_grammar(speech_models, corpus_path):
    rec = open_recognizer(speech_models, "zh", "free")
    feed(rec, pcm(corpus_path, "d12.wav"))
    result = rec.final()
    assert result.pass_name == "free" and "多少" in result.text


def test_pocketsphinx_grammar_pass_for_english(speech_models, corpus_path):
    rec = open_recognizer(speech_models, "en", "grammar", ZHANGSAN)
    assert rec.engine == "pocketsphinx"
    feed(rec, pcm(corpus_path, "d32.wav"))
    assert rec.final().text == "send two thousand to wang wu"
    rec.close()


def test_pocketsphinx_decoders_are_pooled(speech_models):
    first = open_recognizer(speech_models, "en", "grammar")
    decoder = first._decoder
    first.close()
    second = open_recognizer(speech_models, "en", "free")
    assert second._decoder is decoder
    second.close()


def test_silence_fits_no_english_grammar(speech_models):
    rec = open_recognizer(speech_models, "en", "grammar")
    rec.accept(bytes(32000))
    result = rec.final()
    assert (result.text, result.confidence) == ("", 0.0)
    rec.close()


def test_a_misuse_is_refused(speech_models):
    with pytest.raises(ValueError, match="pass must be"):
        open_recognizer(speech_models, "zh", "fast")
    with pytest.raises(ValueError, match="lang must be"):
        open_recognizer(speech_models, "fr", "free")
