"""Grammars built at run time: every phrase hearable, amounts in pieces, names by sound."""

import json

import pytest
from pypinyin import lazy_pinyin

from voice.grammar import VoskVocabulary, jsgf, sentences, vosk_grammar
from voice.intents import parse
from voice.payees import Payee, PayeeBook
from voice.pinyin_arpabet import arpabet

ZHANGSAN = PayeeBook.for_customer("zhangsan")


@pytest.fixture
def vocabulary(speech_models):  # function scope: the zh_model check (an autouse fixture) must run first
    return VoskVocabulary(speech_models.vosk_model("zh"))


def test_sentences_fill_every_payee_and_amounts():
    text = sentences("zh", ZHANGSAN)
    for payee in ("李四", "王五", "赵六", "刘芳", "张伟", "儿子", "张丽", "女儿"):
        assert any(payee in s for s in text), payee
    assert "五百元整" in text  # the {amount} phrase alone offers every sample amount
    assert not any("{" in s for s in text)


def test_without_payees_no_phrase_needs_one():
    assert not any("{" in s for s in sentences("zh", None))


@pytest.mark.zh_model
def test_every_mandarin_phrase_is_hearable_word_for_word(vocabulary):
    # A word the model does not know would be dropped from the grammar without a sound.
    for sentence in sentences("zh", ZHANGSAN):
        assert "".join(vocabulary.split(sentence, "zh")) == sentence


@pytest.mark.zh_model
def test_amounts_are_offered_in_digit_and_unit_pieces(vocabulary):
    words = {w for s in json.loads(vosk_grammar(vocabulary, "zh", ZHANGSAN)) for w in s.split()}
    assert {"五百", "两千", "一万", "二", "元", "块", "钱"} <= words
    # compounds that made the decoder hear 三百元 as 三万元 and 三千 as 三千五
    assert not words & {"三万元", "五百元", "三千五", "一万二", "两千块"}
    assert "[unk]" in json.loads(vosk_grammar(vocabulary, "zh", ZHANGSAN))


@pytest.mark.zh_model
def test_a_name_character_the_model_lacks_becomes_a_homophone(vocabulary):
    assert not vocabulary.knows("璐")
    first, stand_in = vocabulary.split("王璐", "zh")
    assert first == "王" and vocabulary.knows(stand_in)
    assert lazy_pinyin(stand_in) == lazy_pinyin("璐")
    # and the payee matcher, comparing sounds, takes the stand-in for the name
    book = PayeeBook((Payee("王璐"),))
    assert parse(f"给王{stand_in}转五百", "zh", book).slots == {"payee": "王璐", "amount": 500}


def test_english_grammar_adds_pinyin_names_to_the_dictionary(speech_models):
    decoder = speech_models.sphinx.acquire()
    try:
        book = PayeeBook((Payee("张鑫"), Payee("周强", "儿子")))
        grammar = jsgf(decoder, book)
        assert "zhang xin" in grammar and "my son" in grammar
        assert decoder.lookup_word("xin") is not None  # not in cmudict: added from pinyin
        decoder.add_jsgf_string("test_grammar", grammar)  # PocketSphinx accepts it
    finally:
        speech_models.sphinx.release(decoder)


def test_english_grammar_without_payees_has_no_payee_rule(speech_models):
    decoder = speech_models.sphinx.acquire()
    try:
        assert "<payee>" not in jsgf(decoder, None)
    finally:
        speech_models.sphinx.release(decoder)


@pytest.mark.parametrize(
    "syllable,phones",
    [
        ("xin", "SH IH N"),
        ("zhou", "JH OW"),
        ("ge", "G AH"),
        ("zhi", "JH ER"),
        ("si", "S IH"),
        ("qiang", "CH Y AA NG"),
        ("er", "ER"),
        ("lv", "L Y UW"),
    ],
)
def test_pinyin_to_arpabet(syllable, phones):
    assert arpabet(syllable) == phones


def test_a_word_that_is_not_pinyin_has_no_phones():
    assert arpabet("bob") is None
