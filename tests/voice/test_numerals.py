"""Amounts of money as people say them."""

import pytest

from voice.numerals import find_amount, zh_amount_phrases, zh_spoken, zh_value

ZH = [
    ("五百元", 500),
    ("两千块", 2000),
    ("一千二", 1200),
    ("一万二", 12000),
    ("两百五", 250),
    ("一千零五十", 1050),
    ("五十块钱", 50),
    ("四百元整", 400),
    ("三千", 3000),
    ("一千二百五", 1250),
    ("三万五", 35000),
    ("十块", 10),
    ("两块钱", 2),
    ("五块五", 5.5),
    ("三块五毛", 3.5),
    ("一百零五", 105),
    ("转1万2", 12000),
    ("转500元", 500),
    ("给他转二百五十元吧", 250),
    # words holding numeral characters are not amounts
    ("帮我查一下余额", None),
    ("千万别转", None),
    ("一起去", None),
    ("转账", None),
    # a stray digit from a mis-heard name loses to the amount with a unit
    ("给照料六转五十块钱", 50),
]

EN = [
    ("send five hundred", 500),
    ("two thousand yuan", 2000),
    ("twelve hundred dollars", 1200),
    ("one thousand two hundred", 1200),
    ("a hundred", 100),
    ("five hundred and fifty", 550),
    ("fifty kuai", 50),
    ("send 300", 300),
    ("i want to make a transfer", None),
]


@pytest.mark.parametrize("text,value", ZH)
def test_mandarin_amounts(text, value):
    assert find_amount(text, "zh") == value


@pytest.mark.parametrize("text,value", EN)
def test_english_amounts(text, value):
    assert find_amount(text, "en") == value


@pytest.mark.parametrize("value", [1, 10, 15, 250, 1050, 1200, 2000, 12000, 22000, 35000])
def test_every_spoken_form_reads_back_as_its_value(value):
    forms = zh_spoken(value)
    assert forms
    assert all(zh_value(form) == value for form in forms), forms


def test_colloquial_and_liang_forms_are_offered():
    assert {"一千二", "一千二百", "一千两百"} <= set(zh_spoken(1200))
    assert "两千" in zh_spoken(2000)
    assert zh_spoken(1050) == ["一千零五十"]  # 一千零五 would be 1005


def test_grammar_amounts_all_parse():
    for phrase in zh_amount_phrases():
        assert find_amount(phrase, "zh") is not None, phrase
