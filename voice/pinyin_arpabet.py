"""How an English speaker says a pinyin syllable, in PocketSphinx's ARPAbet phones.

The en-us dictionary already knows about 280 pinyin syllables (li, wang, zhao …) but not the
other 140 (zhou, xin, ge …); payee names and "kuai" are added from these tables. They follow
the English reading of the spelling, which is how English speakers say Chinese names.
"""

from __future__ import annotations

_INITIALS = {
    "zh": "JH",
    "ch": "CH",
    "sh": "SH",
    "b": "B",
    "p": "P",
    "m": "M",
    "f": "F",
    "d": "D",
    "t": "T",
    "n": "N",
    "l": "L",
    "g": "G",
    "k": "K",
    "h": "HH",
    "j": "JH",
    "q": "CH",
    "x": "SH",
    "r": "R",
    "z": "Z",
    "c": "T S",
    "s": "S",
    "y": "Y",
    "w": "W",
}
_FINALS = {
    "a": "AA",
    "o": "AO",
    "e": "AH",
    "ai": "AY",
    "ei": "EY",
    "ao": "AW",
    "ou": "OW",
    "an": "AA N",
    "en": "AH N",
    "ang": "AA NG",
    "eng": "AH NG",
    "ong": "UH NG",
    "er": "ER",
    "i": "IY",
    "ia": "Y AA",
    "ie": "Y EH",
    "iao": "Y AW",
    "iu": "Y OW",
    "ian": "Y EH N",
    "in": "IH N",
    "iang": "Y AA NG",
    "ing": "IH NG",
    "iong": "Y UH NG",
    "u": "UW",
    "ua": "W AA",
    "uo": "W AO",
    "uai": "W AY",
    "ui": "W EY",
    "uan": "W AA N",
    "un": "W AH N",
    "uang": "W AA NG",
    "v": "Y UW",
    "ve": "Y EH",
    "ue": "Y EH",
}
# After these initials "i" is the buzzed vowel of zi / zhi, closer to English IH / ER than IY.
_BUZZED_I = {"z": "IH", "c": "IH", "s": "IH", "zh": "ER", "ch": "ER", "sh": "ER", "r": "ER"}


def arpabet(syllable: str) -> str | None:
    """ARPAbet phones for one tone-less pinyin syllable; None if it is not pinyin."""
    for initial in sorted(_INITIALS, key=len, reverse=True):
        if syllable.startswith(initial) and syllable[len(initial) :] in _FINALS:
            final = syllable[len(initial) :]
            vowel = _BUZZED_I.get(initial) if final == "i" else None
            return f"{_INITIALS[initial]} {vowel or _FINALS[final]}"
    if syllable in _FINALS:
        return _FINALS[syllable]
    return None
