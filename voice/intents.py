"""What the customer asked for: an intent and its slots, from recognized text.

Two tables per language. TRIGGERS decides the intent: rows in precedence order, the first
row with a trigger in the sentence wins, so 转账记录 is records and 不转了 is cancel although
both contain 转; an intent may have a strong row early and a weak row late (确认 beats 转 in
确认转账, while a bare 好 only counts when nothing else matched). Weak evidence counts only in
a short utterance: a yes/no answer or a bare "李四" / "五百" answering a question is short,
while a 对 or a name-like sound inside a long sentence is noise, often mis-heard speech.
PHRASES are ways people say each intent; the recognizer grammars are built from them (see
voice.grammar), and a test checks that every phrase parses back to its own intent, so the
two tables cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from voice.numerals import find_amount
from voice.payees import PayeeBook, PayeeMatch, syllables, tokens

INTENTS = ("transfer", "balance", "records", "contact_support", "back", "home", "cancel", "confirm", "deny")

# An utterance is short up to this many characters (zh) or words (en).
SHORT = {"zh": 8, "en": 6}
# Answers to a yes/no question: said on their own, so the English grammar offers them without
# lead-ins or endings (voice.grammar), and their weak triggers count only when short.
ANSWERS = ("confirm", "deny")
WEAK = True  # a row that counts only in a short utterance

TRIGGERS: dict[str, tuple[tuple, ...]] = {
    "zh": (
        ("cancel", ("取消", "不转了", "不转", "算了", "不要转", "不要了", "不用了", "撤销", "不办了")),
        ("contact_support", ("客服", "人工", "工作人员", "投诉", "柜员")),
        ("records", ("记录", "账单", "明细", "流水", "交易", "花了", "消费", "收支")),
        ("balance", ("余额", "多少钱", "还剩", "还有多少", "剩多少", "剩下多少", "有多少")),
        ("confirm", ("确认", "确定")),
        ("transfer", ("转账", "转钱", "转", "汇款", "汇", "打钱", "付款", "付钱")),
        ("home", ("首页", "主页", "主界面", "主菜单")),
        ("back", ("返回", "上一步", "上一页", "后退", "回去", "退回")),
        ("deny", ("不是", "不对", "错了", "不要", "不行", "不用"), WEAK),
        ("confirm", ("是的", "对的", "对", "好的", "好", "可以", "没错", "行", "嗯", "是"), WEAK),
    ),
    "en": (
        ("cancel", ("cancel", "never mind", "nevermind", "forget it", "stop", "abort", "don't transfer", "do not transfer")),
        (
            "contact_support",
            (
                "customer service",
                "agent",
                "human",
                "support",
                "representative",
                "operator",
                "real person",
                "help from",
                "need help",
                "talk to someone",
                "speak to someone",
                "call the bank",
            ),
        ),
        (
            "records",
            (
                "transaction",
                "transactions",
                "history",
                "record",
                "records",
                "statement",
                "statements",
                "recent activity",
                "spending",
                "spend",
                "spent",
            ),
        ),
        (
            "balance",
            (
                "balance",
                "how much money",
                "how much do i have",
                "how much is left",
                "how much is in my account",
                "money left",
                "funds",
            ),
        ),
        ("confirm", ("confirm",)),
        ("transfer", ("transfer", "send", "pay", "wire", "remit", "give")),
        ("home", ("home", "main page", "main menu", "start page", "start over")),
        ("back", ("back", "previous", "return")),
        ("deny", ("no", "nope", "wrong", "incorrect", "not right", "not correct"), WEAK),
        ("confirm", ("yes", "yeah", "yep", "correct", "okay", "ok", "sure", "right", "go ahead", "do it"), WEAK),
    ),
}

# {payee} and {amount} are filled from the customer's payees and voice.numerals.
PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "zh": {
        "transfer": (
            "给{payee}转{amount}",
            "给{payee}转账{amount}",
            "给{payee}转账",
            "转{amount}给{payee}",
            "转账给{payee}{amount}",
            "转给{payee}{amount}",
            "帮我给{payee}转{amount}",
            "我想给{payee}打{amount}",
            "我要给{payee}汇{amount}",
            "给{payee}汇款{amount}",
            "给我{payee}转{amount}吧",
            "打{amount}给{payee}",
            "帮我转{amount}给我{payee}",
            "付{amount}给{payee}",
            "转钱给{payee}",
            "给{payee}打钱",
            "我要转账",
            "转账",
            "我想转钱",
            "帮我转一笔钱",
            "汇款",
            "{payee}",
            "{amount}",
        ),
        "balance": (
            "查询余额",
            "查一下余额",
            "帮我查一下余额",
            "看看余额",
            "余额是多少",
            "我还有多少钱",
            "我卡里还有多少钱",
            "帮我看一下还剩多少钱",
            "账户里还剩多少",
            "还有多少钱",
            "余额还剩多少",
            "查余额",
            "我的钱还有多少",
        ),
        "records": (
            "查一下交易记录",
            "看看我的账单",
            "最近的转账记录",
            "查询明细",
            "我最近花了多少钱",
            "看一下流水",
            "交易明细",
            "我的消费记录",
            "查账单",
        ),
        "contact_support": (
            "帮我联系客服",
            "我要找人工",
            "转人工",
            "人工服务",
            "找客服",
            "我要人工客服",
            "联系工作人员",
            "我要投诉",
            "打客服电话",
        ),
        "back": ("返回", "返回上一步", "回去", "上一页", "后退", "退回去"),
        "home": ("回到首页", "返回首页", "去主页", "回首页", "回到主页"),
        "cancel": ("取消", "不转了", "算了", "取消转账", "我不要了", "不用了", "先不转了", "撤销"),
        "confirm": ("确认", "确定", "是的", "对", "好的", "没错", "可以", "对的", "确认转账"),
        "deny": ("不是", "不对", "错了", "不要", "不行"),
    },
    "en": {
        "transfer": (
            "transfer {amount} to {payee}",
            "send {amount} to {payee}",
            "pay {payee} {amount}",
            "send {payee} {amount}",
            "wire {amount} to {payee}",
            "give {payee} {amount}",
            "transfer money to {payee}",
            "send some money to {payee}",
            "transfer to {payee}",
            "make a transfer",
            "transfer money",
            "send money",
            "a transfer",
            "transfer",
        ),
        "balance": (
            "check my balance",
            "what is my balance",
            "show my balance",
            "my balance",
            "balance",
            "account balance",
            "how much money do i have",
            "how much money is left",
            "how much is in my account",
            "how much do i have left",
            "how much do i have",
        ),
        "records": (
            "show my transactions",
            "transaction history",
            "my recent transactions",
            "show my statement",
            "check my records",
            "show my history",
            "what did i spend",
        ),
        "contact_support": (
            "call customer service",
            "customer service",
            "talk to an agent",
            "help from an agent",
            "speak to a human",
            "contact support",
            "a real person",
            "call the bank",
        ),
        "back": ("go back", "back", "previous page", "go to the previous page"),
        "home": ("go home", "home page", "the home page", "go to the home page", "main menu", "main page"),
        "cancel": ("cancel", "cancel that", "cancel the transfer", "never mind", "stop", "forget it"),
        "confirm": (
            "yes",
            "confirm",
            "correct",
            "that is right",
            "that's right",
            "yes that's right",
            "okay",
            "yes please",
            "go ahead",
            "sure",
        ),
        "deny": ("no", "that is wrong", "that's wrong", "no that's wrong", "not right", "wrong", "no thanks"),
    },
}

MESSAGES = {
    "zh": {"not_understood": "没听清，请再说一遍"},
    "en": {"not_understood": "Sorry, I did not catch that."},
}


@dataclass(frozen=True)
class Intent:
    name: str | None  # None: nothing we can act on
    slots: dict = field(default_factory=dict)  # payee (str), amount (yuan, int or float)
    message: str | None = None  # a question or an explanation for the customer
    candidates: tuple[str, ...] = ()  # payees to choose from when the name was ambiguous


def normalize(text: str, lang: str) -> str:
    if lang == "zh":
        return re.sub(r"[\s\W_]+", "", text)
    return " ".join(tokens(text, lang))


def is_short(text: str, lang: str) -> bool:
    return len(text if lang == "zh" else text.split()) <= SHORT[lang]


def classify(text: str, lang: str) -> str | None:
    short = is_short(text, lang)
    sounds = f" {' '.join(syllables(text))} " if lang == "zh" else ""
    for name, triggers, *weak in TRIGGERS[lang]:
        if (short or not weak) and any(_has(text, sounds, t, lang) for t in triggers):
            return name
    return None


def _has(text: str, sounds: str, trigger: str, lang: str) -> bool:
    if lang != "zh":
        return re.search(rf"\b{re.escape(trigger)}\b", text) is not None
    # Free-form decoding writes homophones (克服 for 客服), so a trigger of two or more
    # characters also matches by sound; a single character would match far too much.
    return trigger in text or (len(trigger) > 1 and f" {_sounds(trigger)} " in sounds)


@functools.cache
def _sounds(trigger: str) -> str:
    return " ".join(syllables(trigger))


def parse(text: str, lang: str, payees: PayeeBook | None = None) -> Intent:
    norm = normalize(text, lang)
    name = classify(norm, lang)
    if name not in (None, "transfer"):
        return Intent(name)
    match = payees.find(norm, lang) if payees else None
    amount = find_amount(_without(norm, match, lang), lang)
    # Without a transfer word, a name and an amount together are a transfer (给儿子打两千), and
    # so is a bare name or amount in a short answer to "转给谁？" / "转多少？".
    if name is None and not ((match and amount is not None) or ((match or amount is not None) and is_short(norm, lang))):
        return Intent(None, message=MESSAGES[lang]["not_understood"])
    slots: dict = {}
    if match and match.status == "found":
        slots["payee"] = match.slot
    if amount is not None:
        slots["amount"] = amount
    return Intent("transfer", slots, match.message if match else None, match.candidates if match else ())


def _without(text: str, match: PayeeMatch | None, lang: str) -> str:
    """The sentence with the payee's name blanked: 李四 and 王五 hold numerals (四, 五)."""
    if lang != "zh" or match is None or match.span is None:
        return text
    start, end = match.span
    return text[:start] + "·" * (end - start) + text[end:]
