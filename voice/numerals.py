"""Amounts of money in recognized speech, Mandarin and English.

Mandarin goes through cn2an's "normal" mode, which already reads the colloquial forms people
say aloud (一千二 = 1200, 一万二 = 12000, 两百五 = 250); we find the numeral spans, their units
(元, 块, 块钱, 整) and the 块-decimal (五块五 = 5.5). English number words go through text2num
(`text_to_num.alpha2digit`). The same module lists the spoken amounts the recognizer grammars
are built from, so what the grammar can hear and what the parser can read stay one list.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import cn2an
from text_to_num import alpha2digit

Number = int | float

ZH_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
# Words that contain numeral characters but are not amounts; blanked before scanning so
# "帮我转一下" has no amount of 1 and "千万别转" is not ten million.
ZH_NOT_AMOUNTS = (
    "一下",
    "一点",
    "一些",
    "一个",
    "一次",
    "一起",
    "一直",
    "一定",
    "一般",
    "一样",
    "一共",
    "一会",
    "一笔",
    "一遍",
    "万一",
    "千万",
    "十分",
    "两个",
    "统一",
    "唯一",
)
_ZH_AMOUNT = re.compile(
    rf"(?P<num>[\d{ZH_NUMERAL}]+)"
    r"(?:(?P<unit>块钱|块|元|圆|钱)(?P<jiao>[一二两三四五六七八九])?[毛角]?)?"
)
_EN_AMOUNT = re.compile(r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>yuan|kuai|rmb|dollars?|bucks)?\b")


class _Candidate(NamedTuple):
    value: Number
    has_unit: bool
    length: int


def find_amount(text: str, lang: str) -> Number | None:
    """The amount of money in `text`, or None.

    When several numbers occur, the one with a currency unit wins, then the longest: a
    mis-heard name can leave a stray digit behind (给照料六转五十块钱), the amount has the unit.
    A lone digit without a unit is no amount: in mis-heard speech 一 and 五 turn up anywhere.
    """
    candidates = _zh_candidates(text) if lang == "zh" else _en_candidates(text)
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.has_unit, c.length)).value


def _zh_candidates(text: str) -> list[_Candidate]:
    for word in ZH_NOT_AMOUNTS:
        text = text.replace(word, "·" * len(word))
    found = []
    for m in _ZH_AMOUNT.finditer(text):
        value = zh_value(m["num"])
        if value is None:
            continue
        if len(m["num"]) == 1 and not m["unit"] and m["num"] != "十":
            continue
        if m["jiao"]:
            value = value + (zh_value(m["jiao"]) or 0) / 10  # one digit 一…九: always a number
        found.append(_Candidate(value, bool(m["unit"]), len(m["num"])))
    return found


def zh_value(numeral: str) -> Number | None:
    """一千二 → 1200, 两百五 → 250, 1万2 → 12000; None when it is not a well-formed number."""
    mode = "smart" if any(c.isdigit() for c in numeral) else "normal"
    try:
        value = cn2an.cn2an(numeral, mode)
    except (ValueError, KeyError):  # cn2an reports malformed numerals as ValueError
        return None
    return int(value) if float(value).is_integer() else float(value)


def _en_candidates(text: str) -> list[_Candidate]:
    # threshold=0: "two dollars" is an amount too; lone digits are weeded out below instead.
    digits = alpha2digit(text, "en", threshold=0)
    found = []
    for m in _EN_AMOUNT.finditer(digits):
        value = float(m["num"])
        if value < 10 and not m["unit"]:
            continue
        found.append(_Candidate(int(value) if value.is_integer() else value, bool(m["unit"]), len(m["num"])))
    return found


# --- what the grammars can hear ----------------------------------------------------------------

ZH_UNITS = ("元", "块", "块钱", "", "元整")

# Round sums and the colloquial shapes people use for the rest; the grammar pass learns word
# pairs from these, so any amount built from the same pieces is reachable, not only these.
_ZH_SAMPLE_VALUES = (
    list(range(1, 11))
    + [15, 20, 30, 50, 80]
    + [v * 100 for v in range(1, 10)]
    + [v * 1000 for v in range(1, 10)]
    + [v * 10000 for v in (1, 2, 3, 5, 10)]
    + [120, 150, 250, 1050, 1200, 1500, 2500, 3500, 12000, 15000, 25000, 1250, 888, 666]
)


def zh_spoken(value: int) -> list[str]:
    """The ways a whole amount is said: 1200 → 一千二百, 一千二; 2000 → 二千, 两千."""
    formal = cn2an.an2cn(value, "low")
    forms = {formal}
    # Colloquial: the last unit is dropped after a digit (一千二百 → 一千二, 两百五十 → 两百五).
    # Not after 零: 一千零五十 shortened would read 一千零五, which is 1005.
    dropped = re.sub(r"(?<!零)([一二三四五六七八九])([十百千])$", r"\1", formal)
    if dropped != formal and re.search(r"[十百千万]", dropped[:-1]):
        forms.add(dropped)
    # 二 before a unit of a hundred or more is said 两.
    forms |= {re.sub(r"(^|[^十])二(?=[百千万])", r"\1两", f) for f in forms}
    return sorted(forms)


def zh_amount_phrases() -> list[str]:
    phrases = []
    for i, value in enumerate(_ZH_SAMPLE_VALUES):
        # a lone digit is an amount only with its unit (find_amount)
        unit = ZH_UNITS[i % len(ZH_UNITS)] or ("块" if value < 10 else "")
        phrases += [form + unit for form in zh_spoken(value)]
    return phrases


EN_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
EN_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
EN_SCALES = ("hundred", "thousand")
EN_CURRENCY = ("yuan", "dollars", "kuai")


def en_amount_phrases() -> list[str]:
    """Spoken English amounts for a Vosk English grammar (PocketSphinx gets a JSGF rule)."""
    phrases = list(EN_UNITS + EN_TEENS + EN_TENS)
    phrases += [f"{u} {s}" for u in EN_UNITS for s in EN_SCALES]
    phrases += [f"{t} {u}" for t in EN_TENS for u in EN_UNITS[::4]]
    phrases += [
        "a hundred",
        "a thousand",
        "one thousand two hundred",
        "twelve hundred",
        "two hundred and fifty",
        "five hundred yuan",
        "two thousand dollars",
        "fifty kuai",
    ]
    return phrases
