"""The server's last line against leaks: card, account, ID and phone numbers in mirror batches.

The customer's device masks before anything leaves it (sdk/masking.js); this runs the
same number rule (signaling/masking_rules.json, docs/masking.md) over every string the server
relays or records, so a bug in the SDK — or a client that is not our SDK — cannot put a number in
front of an agent or into a recording. What still matches is replaced by stars and counted; the
value itself is never logged.

Pure: no I/O beyond reading the rules once. rrweb's event shapes are walked so that geometry
(an SVG path's `d`, `viewBox`, sizes) keeps its digits and the replay stays intact.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RULES = json.loads((Path(__file__).with_name("masking_rules.json")).read_text(encoding="utf-8"))
MIN_DIGITS: int = RULES["min_digits"]
_SEPARATORS = frozenset(RULES["separators"])
_HANZI_DIGITS = frozenset(RULES["hanzi_digits"])
# JavaScript's \s (what the SDK uses) plus the zero-width characters that could hide a split.
_SPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff\u180e\u200b\u200c\u200d\u2060"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
AMOUNT_INPUT = re.compile(RULES["amount_input"])  # what an amount field's value may be, shown as typed
GEOMETRY = frozenset(RULES["geometry_attributes"])
CSS_ATTRIBUTES = frozenset(RULES["css_attributes"])

# Innocent forms, found on the normalised text (one character per code point). Dates (the same
# separator twice), times and amounts with a currency sign or 元 always stay; a bare decimal
# amount stays unless joined to other digits that are not one of those (a card's last groups can
# look like "7766.55").
_STRONG = [
    re.compile(r"(?<![\d./-])(\d{4}([-/.])\d{1,2}\2\d{1,2})(?!\d|[-/.]\d)"),
    re.compile(r"(?<![\d./-])(\d{1,2}([-/.])\d{1,2}\2\d{4})(?!\d|[-/.]\d)"),
    re.compile(r"(?<![\d:])(\d{1,2}:\d{2}(?::\d{2})?)(?![\d:])"),
    re.compile(r"[¥￥$] ?(\d{1,9}(?:\.\d{1,2})?)(?![\d.])"),
    re.compile(r"(?<![\d.])(\d{1,9}(?:\.\d{1,2})?) ?(?:元|块|RMB|CNY|yuan)"),
]
_WEAK = [re.compile(r"(?<![\d.])(\d{1,9}\.\d{2})(?!\d|\.\d)")]
_RUN = re.compile(rb"d(?:w*p?w*d)*(?:w*x)?")
_CSS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_CSS_URL = re.compile(r"url\(\s*([^)\"'\s]*)\s*\)", re.IGNORECASE)


def _kind(ch: str) -> tuple[str, str]:
    """A character's kind — d(igit), x (may close an ID), w(hite space), p (separator), o(ther) —
    and what it stands for in the normalised text the innocent forms are matched on."""
    n = ch if ch < "\x80" else unicodedata.normalize("NFKC", ch)
    if len(n) == 1 and n.isdecimal():
        return "d", n if "0" <= n <= "9" else "0"
    if ch in _HANZI_DIGITS:
        return "d", "0"
    if n in ("X", "x"):
        return "x", "X"
    if ch in _SPACE or n in _SPACE:
        return "w", " "
    if ch in _SEPARATORS or n in _SEPARATORS:
        return "p", n if n in ".-/" else "~"
    return "o", ch


class _Table(dict):
    """A str.translate table filled on first sight of each character (translate runs in C)."""

    def __init__(self, part: int) -> None:
        super().__init__()
        self.part = part

    MAX = 65_536  # a client sending every character there is cannot grow it past this

    def __missing__(self, code: int) -> str:
        value = _kind(chr(code))[self.part]
        if len(self) < self.MAX:
            self[code] = value
        return value


_KINDS, _PROJECTED = _Table(0), _Table(1)
_X_IN_WORD = re.compile(r"[XxＸｘ](?=[^\W_])")  # an X followed by a letter or digit is a letter


def _classify(text: str) -> tuple[bytearray, str]:
    kinds = bytearray(text.translate(_KINDS), "ascii")
    for m in _X_IN_WORD.finditer(text):
        kinds[m.start()] = ord("o")
    return kinds, text.translate(_PROJECTED)


_D, _X, _W, _P, _O = (ord(k) for k in "dxwpo")


def _joined(kinds: bytearray, i: int, step: int) -> int | None:
    """The digit that a separator gap (spaces, at most one separator) joins to position i, if any."""
    j, n = i + step, len(kinds)
    while 0 <= j < n and kinds[j] == _W:
        j += step
    if 0 <= j < n and kinds[j] == _P:
        j += step
        while 0 <= j < n and kinds[j] == _W:
            j += step
    return j if 0 <= j < n and kinds[j] in (_D, _X) else None


def _mark_innocent(kinds: bytearray, proj: str) -> None:
    """Dates, times and amounts become "o" in kinds. A bare decimal joined to other digits stays
    part of them unless those digits are a date, time or amount with its sign: "7766.55" after
    "6222 0202 1234" is a card's last groups, and so is a chain of bare decimals
    ("62.22 02.02 12.34 56.78"). One pass: each decimal is judged by its neighbours alone (the
    fixed point this replaced rescanned the text once per decimal it dropped, quadratic in a
    long chain: 8 s for 18 KB)."""
    strong = [(m.start(1), m.end(1)) for pattern in _STRONG for m in pattern.finditer(proj)]
    marks = bytearray(len(kinds))
    for a, b in strong:
        marks[a:b] = b"\x01" * (b - a)
    weak = [
        (m.start(1), m.end(1))
        for pattern in _WEAK
        for m in pattern.finditer(proj)
        if all(j is None or marks[j] for j in (_joined(kinds, m.start(1), -1), _joined(kinds, m.end(1) - 1, 1)))
    ]
    for a, b in strong + weak:
        kinds[a:b] = b"o" * (b - a)


def _runs(kinds: bytearray) -> list[tuple[int, int]]:
    return [m.span() for m in _RUN.finditer(kinds) if m.group(0).count(b"d") >= MIN_DIGITS]


def mask_segments(segments: list[str]) -> list[str]:
    """Pieces a reader sees as one text (a block's text nodes): a number split over them is
    found as a whole, and each piece comes back with its own part replaced by stars."""
    if sum(len(s) for s in segments) <= 512:  # page text repeats: every full snapshot sends it again
        return list(_mask_cached(tuple(segments)))
    return _mask(segments)


@functools.lru_cache(maxsize=8192)
def _mask_cached(segments: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_mask(list(segments)))


def _mask(segments: list[str]) -> list[str]:
    text = "".join(segments)
    kinds, proj = _classify(text)
    if kinds.count(_D) < MIN_DIGITS or not _runs(kinds):
        return list(segments)
    _mark_innocent(kinds, proj)
    runs = _runs(kinds)
    if not runs:
        return list(segments)
    chars = list(text)
    for a, b in runs:
        for i in range(a, b):
            if kinds[i] in (_D, _X):
                chars[i] = "*"
    out, at = [], 0
    for s in segments:
        out.append("".join(chars[at : at + len(s)]))
        at += len(s)
    return out


def mask_numbers(text: str) -> str:
    return mask_segments([text])[0] if len(text) >= MIN_DIGITS else text


def mask_css(css: str) -> str:
    """Numbers inside CSS strings and url()s; the declarations' own numbers are layout."""
    css = _CSS_STRING.sub(lambda m: mask_numbers(m.group(0)), css)
    return _CSS_URL.sub(lambda m: m.group(0).replace(m.group(1), mask_numbers(m.group(1))), css)


# ---------------------------------------------------------------- rrweb events
FULL_SNAPSHOT, INCREMENTAL, META, CUSTOM = 2, 3, 4, 5
MUTATION, INPUT, STYLE_RULE, STYLE_DECLARATION, ADOPTED_STYLES = 0, 5, 8, 13, 15
TEXT_NODE, ELEMENT_NODE = 3, 2
INLINE_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "dfn",
        "em",
        "font",
        "i",
        "kbd",
        "label",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
    }
)


# How deep the scan walks: past these a batch is refused (TooDeep), not walked until Python's
# recursion limit (which made a 500-deep list an `internal` error). A page's DOM is far shallower.
MAX_NESTING = 128  # arrays and objects inside one value of unknown shape
MAX_DOM_DEPTH = 200  # elements inside elements in a snapshot or an added node


class TooDeep(ValueError):
    pass


@dataclass
class Scan:
    """What one pass found: how many strings it had to change, and where (never the values)."""

    violations: int = 0
    where: set[str] | None = None

    def hit(self, where: str) -> None:
        self.violations += 1
        if self.where is None:
            self.where = set()
        if len(self.where) < 10:
            self.where.add(where)


def _text(value: Any, scan: Scan, where: str, css: bool = False) -> Any:
    if not isinstance(value, str):
        return _any(value, scan, where)
    clean = mask_css(value) if css else mask_numbers(value)
    if clean != value:
        scan.hit(where)
    return clean


def _map_strings(value: Any, fn: Callable[[str], str], depth: int = 0) -> Any:
    """Every string inside a value through fn, the keys of its objects too; numbers (ids, times,
    coordinates) pass as they are."""
    if isinstance(value, str):
        return fn(value)
    if depth > MAX_NESTING and isinstance(value, list | dict):
        raise TooDeep()
    if isinstance(value, list):
        return [_map_strings(v, fn, depth + 1) for v in value]
    if isinstance(value, dict):
        return {fn(k) if isinstance(k, str) else k: _map_strings(v, fn, depth + 1) for k, v in value.items()}
    return value


def _any(value: Any, scan: Scan, where: str) -> Any:
    """Unknown shapes: every string in them follows the number rule (fail closed)."""
    return _map_strings(value, lambda text: _text(text, scan, where))


_SCALARS = (int, float, bool, type(None))


def _rest(value: dict, known: tuple[str, ...], scan: Scan, where: str) -> dict:
    """The fields of a known shape that its walker does not read itself: a client that is not our
    SDK may put anything there, and rrweb would replay it (fail closed, as for unknown shapes).
    Ids, times and flags (most of them) pass without a call: this runs for every node."""
    out = {}
    for k, v in value.items():
        if k in known:
            continue
        if isinstance(k, str) and len(k) >= MIN_DIGITS:
            k = _text(k, scan, where)
        out[k] = v if isinstance(v, _SCALARS) else _text(v, scan, where)
    return out


def _attributes(attrs: Any, scan: Scan) -> Any:
    if not isinstance(attrs, dict):
        return _any(attrs, scan, "attribute")
    out = {}
    for raw_name, value in attrs.items():
        name = _text(raw_name, scan, "attribute:name") if isinstance(raw_name, str) else raw_name
        key = str(name).lower()
        if key in GEOMETRY:
            out[name] = value if isinstance(value, (str, int, float)) else _any(value, scan, f"attribute:{key}")
        elif key == "value" and isinstance(value, str) and AMOUNT_INPUT.match(unicodedata.normalize("NFKC", value)):
            out[name] = value  # an amount field's value (see the input events in _event)
        elif key in CSS_ATTRIBUTES:
            out[name] = _text(value, scan, f"attribute:{key}", css=True)
        else:
            out[name] = _text(value, scan, f"attribute:{key}")
    return out


def _node(node: Any, scan: Scan, in_style: bool = False, depth: int = 0) -> Any:
    if depth > MAX_DOM_DEPTH:
        raise TooDeep()
    if not isinstance(node, dict):
        return _any(node, scan, "node")
    out = _rest(node, ("attributes", "childNodes", "textContent"), scan, "node")
    if node.get("type") == TEXT_NODE:
        out["textContent"] = _text(node.get("textContent"), scan, "text", css=in_style or bool(node.get("isStyle")))
        return out
    if "textContent" in node:  # on an element, rrweb ignores it; a client could still put one there
        out["textContent"] = _any(node["textContent"], scan, "text")
    if "attributes" in node:
        out["attributes"] = _attributes(node["attributes"], scan)
    children = node.get("childNodes")
    if "childNodes" in node and not isinstance(children, list):
        out["childNodes"] = _any(children, scan, "node")
    if isinstance(children, list):
        style = in_style or str(node.get("tagName", "")).lower() == "style"
        kids = [_node(child, scan, style, depth + 1) for child in children]
        if not style:
            _join_inline(kids, scan)
        out["childNodes"] = kids
    return out


def _join_inline(kids: list[Any], scan: Scan) -> None:
    """A number spread over sibling text nodes and inline elements (<span>6222</span><span>0202</span>…)."""
    slots: list[tuple[dict, str]] = []  # (node holding the text, key)
    for kid in kids:
        if not isinstance(kid, dict):
            continue
        if kid.get("type") == TEXT_NODE and isinstance(kid.get("textContent"), str):
            slots.append((kid, "textContent"))
        elif str(kid.get("tagName", "")).lower() in INLINE_TAGS:
            for grandkid in kid.get("childNodes") or []:
                if (
                    isinstance(grandkid, dict)
                    and grandkid.get("type") == TEXT_NODE
                    and isinstance(grandkid.get("textContent"), str)
                ):
                    slots.append((grandkid, "textContent"))
    if len(slots) < 2:
        return
    texts = [node[key] for node, key in slots]
    masked = mask_segments(texts)
    if masked != texts:
        scan.hit("text:split")
        for (node, key), value in zip(slots, masked, strict=True):
            node[key] = value


def _entry(entry: Any, field: str, walk: Callable[[Any], Any], scan: Scan) -> Any:
    """One entry of a mutation's list: its own field walked, the rest scanned as unknown."""
    if not isinstance(entry, dict):
        return _any(entry, scan, "mutation")
    out = _rest(entry, (field,), scan, "mutation")
    if field in entry:
        out[field] = walk(entry[field])
    return out


def _mutation(data: dict, scan: Scan) -> dict:
    walkers: dict[str, Callable[[Any], Any]] = {
        "texts": lambda t: _entry(t, "value", lambda v: _text(v, scan, "text"), scan),
        "attributes": lambda a: _entry(a, "attributes", lambda v: _attributes(v, scan), scan),
        "adds": lambda a: _entry(a, "node", lambda v: _node(v, scan), scan),
    }
    out = _rest(data, tuple(walkers), scan, "mutation")
    for key, walk in walkers.items():
        if key in data:
            out[key] = [walk(entry) for entry in data[key]] if isinstance(data[key], list) else _any(data[key], scan, "mutation")
    return out


def _event(event: Any, scan: Scan) -> Any:
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        return _any(event, scan, "event")
    data, kind = event["data"], event.get("type")
    if kind == FULL_SNAPSHOT:
        clean = {**_rest(data, ("node",), scan, "event:2"), "node": _node(data.get("node"), scan)}
    elif kind == INCREMENTAL and data.get("source") == MUTATION:
        clean = _mutation(data, scan)
    elif (
        kind == INCREMENTAL
        and data.get("source") == INPUT
        and isinstance(data.get("text"), str)
        and AMOUNT_INPUT.match(unicodedata.normalize("NFKC", data["text"]))
    ):
        # The SDK sends a field's value in clear only for an amount field (docs/masking.md).
        clean = {**_rest(data, ("text",), scan, "event:input"), "text": data["text"]}
    elif kind == INCREMENTAL and data.get("source") in (STYLE_RULE, STYLE_DECLARATION, ADOPTED_STYLES):
        clean = _map_strings(data, lambda text: _text(text, scan, "css", css=True))
    else:
        clean = _any(data, scan, f"event:{kind}")
    return {**_rest(event, ("data",), scan, "event"), "data": clean}


def scrub_events(events: list[Any]) -> tuple[list[Any], Scan]:
    """rrweb events with every number the rule finds replaced by stars, and what was found.
    Raises TooDeep for a batch nested past MAX_NESTING or MAX_DOM_DEPTH."""
    scan = Scan()
    clean = [_event(e, scan) for e in events]
    return (clean if scan.violations else events), scan
