"""The customer's saved payees, and which of them a recognized sentence names.

Speech recognizers write a name with whatever characters sound right (李四 comes back as 李思
or 力四), so names are compared by sound: tone-less pinyin, syllable by syllable, with a
partial score for near sounds (照料 for 赵六, 文物 for 王五). Characters never break a tie: two
saved payees that sound alike are an ambiguity to ask about, whatever characters were written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from rapidfuzz.fuzz import ratio

from .demo import DEMO_PAYEES

# A name counts as said when its syllables score this much (1.0 = same sounds); other saved
# payees within MARGIN of the best one make the match ambiguous.
THRESHOLD = 0.8
MARGIN = 0.1

# How English speakers say the kinship nicknames Chinese customers save payees under.
EN_KINSHIP: dict[str, tuple[str, ...]] = {
    "儿子": ("son",),
    "女儿": ("daughter",),
    "妈妈": ("mom", "mother"),
    "母亲": ("mother",),
    "爸爸": ("dad", "father"),
    "父亲": ("father",),
    "老婆": ("wife",),
    "妻子": ("wife",),
    "老公": ("husband",),
    "丈夫": ("husband",),
    "哥哥": ("brother",),
    "弟弟": ("brother",),
    "姐姐": ("sister",),
    "妹妹": ("sister",),
    "爷爷": ("grandpa", "grandfather"),
    "奶奶": ("grandma", "grandmother"),
}

MESSAGES = {
    "zh": {"not_found": "没有找到这个收款人", "ask": "转给{}还是{}？"},
    "en": {"not_found": "No saved payee by that name.", "ask": "Send to {} or {}?"},
}

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w")
_NEAR_INITIALS = {
    frozenset(p)
    for p in (("z", "zh"), ("c", "ch"), ("s", "sh"), ("n", "l"), ("f", "h"), ("l", "r"), ("j", "zh"), ("q", "ch"), ("x", "sh"))
}
_NEAR_FINALS = {frozenset(p) for p in (("an", "ang"), ("en", "eng"), ("in", "ing"), ("ian", "iang"), ("uan", "uang"))}

# Someone was named but is not in the book: "给陈七转五百", "转给陈七", "send 500 to bob".
_NAMED = {
    "zh": (
        re.compile(r"给(?:我的?)?(?P<who>[\u4e00-\u9fff]{2,3}?)(?:转|汇|打|付)"),
        re.compile(r"(?:转账|转|汇款|汇|打钱|打)给(?:我的?)?(?P<who>[\u4e00-\u9fff]{2})"),
    ),
    "en": (re.compile(r"\bto (?:my )?(?P<who>[a-z]+(?: [a-z]+)?)$"),),
}
_NOT_NAMES = {
    "transfer",
    "send",
    "pay",
    "make",
    "do",
    "go",
    "it",
    "him",
    "her",
    "them",
    "someone",
    "somebody",
    "a",
    "the",
    "money",
    "me",
    "you",
    "yuan",
    "dollars",
}
_ZH_NUMERAL = set("零一二两三四五六七八九十百千万")


@dataclass(frozen=True)
class Payee:
    name: str
    nickname: str | None = None


@dataclass(frozen=True)
class Spoken:
    """One way a payee is said: the slot text it yields and its syllables."""

    payee: Payee
    slot: str
    words: str  # what a recognizer grammar should contain: 李四, 儿子, "li si", "my son"
    syllables: tuple[str, ...]


@dataclass(frozen=True)
class PayeeMatch:
    status: str  # "found" | "ambiguous" | "not_found"
    slot: str | None = None  # the nickname if that is what was said, else the name
    candidates: tuple[str, ...] = ()
    span: tuple[int, int] | None = None  # tokens of the sentence the name occupies
    message: str | None = None


def tokens(text: str, lang: str) -> list[str]:
    """Chinese: one token per character; English: one per word (pinyin names are words there)."""
    if lang == "zh":
        return list(text)
    return re.findall(r"[a-z0-9']+", text.lower())


def syllables(toks: Iterable[str]) -> list[str]:
    # Character by character, so each syllable stays aligned with its token; a name's
    # polyphones read the same way on both sides of the comparison.
    return [lazy_pinyin(t)[0] if t else t for t in toks]


def _split(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def syllable_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    (ia, fa), (ib, fb) = _split(a), _split(b)
    initial = 1.0 if ia == ib else 0.6 if frozenset((ia, ib)) in _NEAR_INITIALS else 0.0
    final = 1.0 if fa == fb else 0.8 if frozenset((fa, fb)) in _NEAR_FINALS else ratio(fa, fb) / 100
    # Initial and final weigh the same: with the final weighing more, 账给 (zhang gei) passed
    # for 张伟 (zhang wei) inside 转账给王五.
    return 0.5 * initial + 0.5 * final


@dataclass(frozen=True)
class PayeeBook:
    """One customer's saved payees; hashable, so grammars built for it can be cached."""

    payees: tuple[Payee, ...]

    @classmethod
    def from_records(cls, records: Iterable[Mapping]) -> PayeeBook:
        return cls(tuple(Payee(r["name"], r.get("nickname")) for r in records))

    @classmethod
    def for_customer(cls, username: str) -> PayeeBook:
        """The demo customers' books (voice.demo); production passes its own records."""
        if username not in DEMO_PAYEES:
            raise ValueError(f"unknown customer {username!r} (known: {', '.join(DEMO_PAYEES)})")
        return cls.from_records(DEMO_PAYEES[username])

    def spoken(self, lang: str) -> list[Spoken]:
        out = []
        for p in self.payees:
            if lang == "zh":
                out.append(Spoken(p, p.name, p.name, tuple(syllables(p.name))))
                if p.nickname:
                    out.append(Spoken(p, p.nickname, p.nickname, tuple(syllables(p.nickname))))
            else:
                pinyin = tuple(syllables(p.name))
                out.append(Spoken(p, p.name, " ".join(pinyin), pinyin))
                nickname = p.nickname or ""
                for word in EN_KINSHIP.get(nickname, ()):
                    out.append(Spoken(p, nickname, f"my {word}", (word,)))
        return out

    def find(self, text: str, lang: str) -> PayeeMatch | None:
        """Which saved payee `text` names; None when it names nobody at all."""
        toks = tokens(text, lang)
        sylls = syllables(toks)
        best: dict[Payee, tuple[float, Spoken, tuple[int, int]]] = {}
        for sp in self.spoken(lang):
            n = len(sp.syllables)
            for i in range(len(sylls) - n + 1):
                score = sum(map(syllable_similarity, sylls[i : i + n], sp.syllables)) / n
                if score >= THRESHOLD and score > best.get(sp.payee, (0.0,))[0]:
                    best[sp.payee] = (score, sp, (i, i + n))
        if not best:
            return self._named_stranger(text, lang)
        ranked = sorted(best.values(), key=lambda b: -b[0])
        top_score, top, span = ranked[0]
        close = [sp for score, sp, _ in ranked if top_score - score < MARGIN]
        if len(close) == 1:
            return PayeeMatch("found", slot=top.slot, span=span)
        names = tuple(sp.slot for sp in close)
        ask = MESSAGES[lang]["ask"]
        question = ask.format("、".join(names[:-1]) if lang == "zh" else ", ".join(names[:-1]), names[-1])
        return PayeeMatch("ambiguous", candidates=names, span=span, message=question)

    def _named_stranger(self, text: str, lang: str) -> PayeeMatch | None:
        for pattern in _NAMED[lang]:
            m = pattern.search(text if lang == "zh" else " ".join(tokens(text, lang)))
            if not m:
                continue
            who = m["who"]
            if who[0] in _ZH_NUMERAL or who.split()[0] in _NOT_NAMES:
                continue
            span = (m.start("who"), m.end("who")) if lang == "zh" else None
            return PayeeMatch("not_found", span=span, message=MESSAGES[lang]["not_found"])
        return None
