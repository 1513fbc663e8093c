"""Intent and slot parsing of recognized text: phrasings real customers use, not the corpus'."""

import pytest

from voice.intents import INTENTS, PHRASES, parse
from voice.numerals import en_amount_phrases, zh_amount_phrases
from voice.payees import Payee, PayeeBook

ZHANGSAN = PayeeBook.for_customer("zhangsan")

ZH = [
    # transfer, with the colloquial amounts and the ways people name a payee
    ("我想给我儿子打两千块钱吧", "transfer", {"payee": "儿子", "amount": 2000}),
    ("给李思汇五百", "transfer", {"payee": "李四", "amount": 500}),
    ("给力四转一千二", "transfer", {"payee": "李四", "amount": 1200}),
    ("帮我往王五那儿转一万二", "transfer", {"payee": "王五", "amount": 12000}),
    ("麻烦给赵六转两百五", "transfer", {"payee": "赵六", "amount": 250}),
    ("转一千零五十块给刘芳", "transfer", {"payee": "刘芳", "amount": 1050}),
    ("给女儿转四百元整", "transfer", {"payee": "女儿", "amount": 400}),
    ("给张伟转五十块钱", "transfer", {"payee": "张伟", "amount": 50}),
    ("女儿那边打三千过去", "transfer", {"payee": "女儿", "amount": 3000}),
    ("汇款给刘方五百元", "transfer", {"payee": "刘芳", "amount": 500}),
    ("给儿子打个五块五", "transfer", {"payee": "儿子", "amount": 5.5}),
    ("转账", "transfer", {}),
    ("我想转点钱", "transfer", {}),
    ("帮我转一下", "transfer", {}),
    ("给李四转账", "transfer", {"payee": "李四"}),
    ("五百", "transfer", {"amount": 500}),
    ("转给王五吧", "transfer", {"payee": "王五"}),
    ("给陈七转五百", "transfer", {"amount": 500}),
    # balance
    ("帮我看一下还剩多少钱", "balance", {}),
    ("我账户里还有多少", "balance", {}),
    ("余额多少", "balance", {}),
    ("查下我卡上的钱还剩多少", "balance", {}),
    ("我有多少钱", "balance", {}),
    # records
    ("我最近花了多少钱", "records", {}),
    ("把这个月的账单给我看看", "records", {}),
    ("查一下转账记录", "records", {}),
    ("看看交易明细", "records", {}),
    # support
    ("我要找人工客服", "contact_support", {}),
    ("转人工", "contact_support", {}),
    ("我想跟工作人员说话", "contact_support", {}),
    ("我要投诉", "contact_support", {}),
    # navigation
    ("返回上一步", "back", {}),
    ("退回去", "back", {}),
    ("回到首页", "home", {}),
    ("返回主页", "home", {}),
    # cancel / confirm / deny
    ("算了不转了", "cancel", {}),
    ("取消这笔转账", "cancel", {}),
    ("我不要了", "cancel", {}),
    ("确认转账", "confirm", {}),
    ("好的", "confirm", {}),
    ("没错", "confirm", {}),
    ("不对", "deny", {}),
    ("不是这个人", "deny", {}),
    # nothing to act on
    ("今天天气怎么样", None, {}),
    ("", None, {}),
]

EN = [
    ("send five hundred to li si", "transfer", {"payee": "李四", "amount": 500}),
    ("please pay wang wu two thousand yuan", "transfer", {"payee": "王五", "amount": 2000}),
    ("transfer twelve hundred dollars to my son", "transfer", {"payee": "儿子", "amount": 1200}),
    ("wire fifty kuai to my daughter", "transfer", {"payee": "女儿", "amount": 50}),
    ("give zhao liu one thousand two hundred", "transfer", {"payee": "赵六", "amount": 1200}),
    ("can you send some money to liu fang", "transfer", {"payee": "刘芳"}),
    ("i'd like to make a transfer", "transfer", {}),
    ("send money to bob", "transfer", {}),
    ("what's my balance", "balance", {}),
    ("how much is left in my account", "balance", {}),
    ("show me my transaction history", "records", {}),
    ("what did i spend this month", "records", {}),
    ("let me talk to a real person", "contact_support", {}),
    ("i need help from customer service", "contact_support", {}),
    ("take me back", "back", {}),
    ("go to the home page", "home", {}),
    ("never mind", "cancel", {}),
    ("cancel the transfer", "cancel", {}),
    ("yes that is right", "confirm", {}),
    ("no that is wrong", "deny", {}),
    ("what is the weather like", None, {}),
]


@pytest.mark.parametrize("text,intent,slots", ZH)
def test_mandarin_phrasings(text, intent, slots):
    result = parse(text, "zh", ZHANGSAN)
    assert (result.name, result.slots) == (intent, slots)


@pytest.mark.parametrize("text,intent,slots", EN)
def test_english_phrasings(text, intent, slots):
    result = parse(text, "en", ZHANGSAN)
    assert (result.name, result.slots) == (intent, slots)


def test_unknown_payee_is_reported():
    assert parse("给陈七转五百", "zh", ZHANGSAN).message == "没有找到这个收款人"
    assert parse("send money to bob", "en", ZHANGSAN).message == "No saved payee by that name."


def test_sound_alike_payees_are_an_ambiguity_with_a_question():
    book = PayeeBook((Payee("李四"), Payee("李思"), Payee("王五")))
    result = parse("给李四转五百", "zh", book)
    assert result.name == "transfer"
    assert result.slots == {"amount": 500}
    assert result.candidates == ("李四", "李思")
    assert result.message == "转给李四还是李思？"
    assert parse("send 500 to li si", "en", book).candidates == ("李四", "李思")


def test_without_payees_a_name_is_just_text():
    assert parse("给李四转五百", "zh", None).slots == {"amount": 500}


def test_nothing_understood_says_so():
    assert parse("今天天气怎么样", "zh", ZHANGSAN).message == "没听清，请再说一遍"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_grammar_phrase_parses_to_its_own_intent(lang):
    # The grammar teaches the recognizer these phrases; each must come back as its intent.
    payee = "李四" if lang == "zh" else "li si"
    amount = zh_amount_phrases()[7] if lang == "zh" else en_amount_phrases()[30]
    for intent, phrases in PHRASES[lang].items():
        assert intent in INTENTS
        for phrase in phrases:
            text = phrase.format(payee=payee, amount=amount)
            assert parse(text, lang, ZHANGSAN).name == intent, text
