"""Finding the saved payee a sentence names, by sound."""

import pytest

from voice.payees import Payee, PayeeBook, syllable_similarity

ZHANGSAN = PayeeBook.for_customer("zhangsan")


@pytest.mark.parametrize(
    "text,slot",
    [
        ("给李四转五百", "李四"),
        ("给李思转五百", "李四"),  # homophone
        ("给力四转五百", "李四"),  # homophone, as free-form Vosk writes it
        ("比例四转五百元", "李四"),
        ("转账给文物两千块", "王五"),  # near sound: wen wu / wang wu
        ("给照料六转五十", "赵六"),
        ("给刘方转一万", "刘芳"),
        ("给张伟转一百", "张伟"),  # the name of a payee saved under a nickname
        ("给我儿子转三千", "儿子"),  # the nickname itself is the slot
        ("转给女儿八百块", "女儿"),
    ],
)
def test_mandarin_names_resolve_by_sound(text, slot):
    match = ZHANGSAN.find(text, "zh")
    assert (match.status, match.slot) == ("found", slot)


@pytest.mark.parametrize(
    "text,slot",
    [
        ("send five hundred to li si", "李四"),
        ("pay wang wu", "王五"),
        ("transfer to zhao liu", "赵六"),
        ("send 500 to my son", "儿子"),
        ("pay my daughter fifty", "女儿"),
    ],
)
def test_english_names_resolve_by_pinyin_and_kinship(text, slot):
    match = ZHANGSAN.find(text, "en")
    assert (match.status, match.slot) == ("found", slot)


def test_span_covers_the_name_so_its_numeral_is_not_an_amount():
    assert ZHANGSAN.find("给王五转两千", "zh").span == (1, 3)


def test_sound_alike_payees_make_an_ambiguity():
    book = PayeeBook((Payee("李四"), Payee("李思"), Payee("李斯"), Payee("王五")))
    match = book.find("给李四转五百", "zh")
    assert match.status == "ambiguous"
    assert match.candidates == ("李四", "李思", "李斯")
    assert match.message == "转给李四、李思还是李斯？"


def test_a_clearly_better_sound_is_not_ambiguous():
    book = PayeeBook((Payee("李四"), Payee("李思"), Payee("王五")))
    assert book.find("给王五转五百", "zh").slot == "王五"


@pytest.mark.parametrize("text,lang", [("给陈七转五百", "zh"), ("转给陈七五百", "zh"), ("send money to bob", "en")])
def test_a_named_stranger_is_not_found(text, lang):
    assert ZHANGSAN.find(text, lang).status == "not_found"


@pytest.mark.parametrize(
    "text,lang", [("我要转账", "zh"), ("查询余额", "zh"), ("帮我转一下", "zh"), ("i want to make a transfer", "en")]
)
def test_no_name_at_all_is_none(text, lang):
    assert ZHANGSAN.find(text, lang) is None


def test_syllable_similarity_weighs_initials_and_finals():
    assert syllable_similarity("li", "li") == 1.0
    # a shared initial counts as much as a shared final: 文 ≈ 王 more than 给 ≈ 伟
    assert syllable_similarity("wen", "wang") > syllable_similarity("gei", "wei")
    assert syllable_similarity("zhang", "zhan") > syllable_similarity("zhang", "wang")
    assert syllable_similarity("si", "shi") > syllable_similarity("si", "bi")


def test_unknown_customer_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown customer 'nobody'"):
        PayeeBook.for_customer("nobody")


def test_records_from_the_bank_build_a_book():
    book = PayeeBook.from_records([{"name": "周杰", "nickname": "老公", "account": "1"}])
    assert book.find("给老公转一百", "zh").slot == "老公"
    assert book.find("send 100 to my husband", "en").slot == "老公"
    assert book.find("pay zhou jie", "en").slot == "周杰"
