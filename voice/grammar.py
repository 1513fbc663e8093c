"""Recognizer grammars, built at run time from the intents' phrases, amounts and payees.

Vosk turns a list of sentences into a bigram language model (vosk-api `UpdateGrammarFst`:
order 2, discount 0.5), so the sentences teach which word follows which; sentences we did
not list stay reachable through back-off, and "[unk]" absorbs speech outside the grammar.
PocketSphinx gets a JSGF grammar: the same phrases as alternatives, with optional lead-ins
("i want to", "please") around requests, yes/no answers on their own, and a number rule.
"""

from __future__ import annotations

import functools
import itertools
import json
import re

from pypinyin import lazy_pinyin

from voice.intents import ANSWERS, PHRASES
from voice.numerals import (
    EN_CURRENCY,
    EN_SCALES,
    EN_TEENS,
    EN_TENS,
    EN_UNITS,
    ZH_NOT_AMOUNTS,
    ZH_NUMERAL,
    en_amount_phrases,
    zh_amount_phrases,
)
from voice.payees import PayeeBook
from voice.pinyin_arpabet import arpabet

UNKNOWN = "[unk]"  # Vosk's word for speech outside the grammar

# Amounts per phrase that takes one: enough to teach "转 → numeral" and "numeral → 给" pairs
# without multiplying the grammar by every amount.
AMOUNTS_PER_PHRASE = 4


def sentences(lang: str, payees: PayeeBook | None) -> list[str]:
    """Every phrase of every intent with its slots filled, as plain text."""
    names = [sp.words for sp in payees.spoken(lang)] if payees else []
    amounts = zh_amount_phrases() if lang == "zh" else en_amount_phrases()
    rotation = itertools.cycle(amounts)
    out: list[str] = []
    for phrases in PHRASES[lang].values():
        for phrase in phrases:
            if phrase == "{amount}":
                out += amounts
                continue
            fills = names if "{payee}" in phrase else [None]
            for name in fills:
                for _ in range(AMOUNTS_PER_PHRASE if "{amount}" in phrase else 1):
                    out.append(phrase.format(payee=name, amount=next(rotation)))
    return out


# --- Vosk ----------------------------------------------------------------------------------------


class VoskVocabulary:
    """The words a Vosk model knows, asked of the model itself (the small models ship no
    words.txt). Grammar words it does not know would be dropped by Vosk with only a log line."""

    MAX_WORD = 4  # longest Chinese word tried when splitting a phrase

    def __init__(self, model) -> None:
        self.model = model
        self._known: dict[str, bool] = {}

    def knows(self, word: str) -> bool:
        if word not in self._known:
            self._known[word] = self.model.vosk_model_find_word(word) >= 0
        return self._known[word]

    def split(self, text: str, lang: str) -> list[str]:
        """Words the model knows: longest known prefix first for Chinese; an unknown character
        (a rare one in a name) becomes a known homophone, which the payee matcher accepts
        since it compares sounds."""
        if lang != "zh":
            return [w for w in text.split() if self.knows(w)]
        words, i = [], 0
        while i < len(text):
            for size in range(min(self.MAX_WORD, len(text) - i), 0, -1):
                word = text[i : i + size]
                if self.knows(word) and (size == 1 or _allowed_compound(word)):
                    words.append(word)
                    i += size
                    break
            else:
                stand_in = next((c for c in _homophones(text[i]) if self.knows(c)), None)
                if stand_in:
                    words.append(stand_in)
                i += 1
        return words


# The model knows compounds such as 三万元, 一万二 and 三千五; in a grammar each such word is a
# cheap single step the decoder prefers, and it heard 三百元 as 三万元 and 三千 as 三千五. Amounts
# are therefore offered only as digit-and-unit pieces (三 千, 五 百, 元), which still build any sum.
_NUMERAL_PIECE = re.compile(r"[一二两三四五六七八九]?[十百千万]")


def _allowed_compound(word: str) -> bool:
    if word[0] not in ZH_NUMERAL:
        return True
    return bool(_NUMERAL_PIECE.fullmatch(word)) or word in ZH_NOT_AMOUNTS


def vosk_grammar(vocabulary: VoskVocabulary, lang: str, payees: PayeeBook | None) -> str:
    """The JSON sentence list for `KaldiRecognizer(model, rate, grammar)`."""
    seen: dict[str, None] = {}
    for sentence in sentences(lang, payees):
        words = vocabulary.split(sentence, lang)
        if words:
            seen[" ".join(words)] = None
    return json.dumps([*seen, UNKNOWN], ensure_ascii=False)


@functools.lru_cache(maxsize=1)
def _homophone_index() -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for code in range(0x4E00, 0x9FA6):
        index.setdefault(lazy_pinyin(chr(code))[0], []).append(chr(code))
    return index


def _homophones(char: str) -> list[str]:
    return _homophone_index().get(lazy_pinyin(char)[0], [])


# --- PocketSphinx ------------------------------------------------------------------------------

# Openings and endings any request may have; the intent is in between.
_LEADS = (
    "please",
    "i want to",
    "i would like to",
    "i'd like to",
    "i need to",
    "can you",
    "could you",
    "can i",
    "let me",
    "i want",
    "i need",
    "take me to",
    "show me",
    "tell me",
    "and",
    "um",
    "okay",
)
_TAILS = ("please", "now", "thanks", "thank you", "in my account", "for me", "right now")


def jsgf(decoder, payees: PayeeBook | None) -> str:
    """An English JSGF grammar; words missing from the decoder's dictionary are added from
    their pinyin (payee names, kuai), and any other missing word is a mistake in PHRASES."""
    names = [sp.words for sp in payees.spoken("en")] if payees else []
    requests: list[str] = []
    answers: list[str] = []
    for intent, phrases in PHRASES["en"].items():
        for phrase in phrases:
            if "{payee}" in phrase and not names:
                continue
            alternative = phrase.replace("{payee}", "<payee>").replace("{amount}", "<amount>")
            (answers if intent in ANSWERS else requests).append(alternative)
    rules = {
        # Without a confidence from PocketSphinx, a short answer with optional words around it
        # drew in unrelated speech ("please connect me to an agent" → "please not right").
        "utterance": f"[<lead>] ({' | '.join(requests)}) [<tail>] | {' | '.join(answers)}",
        "lead": " | ".join(_LEADS),
        "tail": " | ".join(_TAILS),
        "amount": f"<number> [{' | '.join(EN_CURRENCY)}]",
        "number": f"<n999> [{EN_SCALES[1]} [[and] <n999>]] | a {EN_SCALES[1]} | a {EN_SCALES[0]}",
        "n999": f"<n99> [{EN_SCALES[0]} [[and] <n99>]]",
        "n99": "<unit> | <teen> | <tens> [<unit>]",
        "unit": " | ".join(EN_UNITS),
        "teen": " | ".join(EN_TEENS),
        "tens": " | ".join(EN_TENS),
    }
    if names:
        rules["payee"] = " | ".join(names)
    for word in sorted({w for body in rules.values() for w in re.findall(r"[a-z']+", re.sub(r"<\w+>", " ", body))}):
        _ensure_word(decoder, word)
    body = "\n".join(f"{'public ' if name == 'utterance' else ''}<{name}> = {rule};" for name, rule in rules.items())
    return f"#JSGF V1.0;\ngrammar assist;\n{body}\n"


def _ensure_word(decoder, word: str) -> None:
    if decoder.lookup_word(word) is not None:
        return
    phones = arpabet(word)
    if phones is None:
        raise ValueError(f"{word!r} is in an English phrase but not in PocketSphinx's dictionary")
    decoder.add_word(word, phones, True)
