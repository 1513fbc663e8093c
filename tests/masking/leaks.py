"""Finding a planted secret in captured bytes, in any form: raw, normalised, separated, partial.

A number counts as leaked when any six consecutive digits of it appear in one string that left
the device (after Unicode normalisation, whatever separates the digits). Only strings are
searched, never JSON numbers: timestamps and ids would match six digits by chance. For the same
reason WebRTC's session descriptions and ICE candidates are searched for a secret whole, not for
six of its digits: the browser fills them with random session ids, SSRCs, foundations and
priorities, which run together across spaces into runs of 20 digits, about a hundred windows a
call. One CI run found six digits of a planted card number in them by chance.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

WINDOW = 6
_DIGIT_RUN = re.compile(r"\d(?:[\s.\-/·・_]*\d)*")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def bare_digits(text: str) -> str:
    return re.sub(r"\D", "", nfkc(text))


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value; chunked batches joined and opened, JSON inside strings opened."""
    pieces: dict[str, list[tuple[int, str]]] = {}

    def walk(v: Any) -> Iterator[str]:
        if isinstance(v, str):
            yield v
            if v[:1] in "[{":
                with contextlib.suppress(ValueError):
                    yield from walk(json.loads(v))
        elif isinstance(v, list):
            for item in v:
                yield from walk(item)
        elif isinstance(v, dict):
            chunk = v.get("assistChunk")
            if isinstance(chunk, dict) and isinstance(chunk.get("data"), str):
                pieces.setdefault(str(chunk.get("id")), []).append((chunk.get("index", 0), chunk["data"]))
                return
            for key, item in v.items():
                yield key
                yield from walk(item)

    yield from walk(value)
    for parts in pieces.values():
        joined = "".join(data for _, data in sorted(parts))
        try:
            yield from walk(json.loads(joined))
        except ValueError:
            yield joined


def socketio_strings(frames: Iterable[str]) -> Iterator[str]:
    """The strings in socket.io packets (`42["event",{...}]`, polling payloads split on \\x1e)."""
    for frame in frames:
        for packet in str(frame).split("\x1e"):
            body = packet.lstrip("0123456789")
            if body[:1] in "[{":
                try:
                    yield from strings(json.loads(body))
                    continue
                except ValueError:
                    pass
            yield packet


def machine_made(text: str) -> bool:
    """A WebRTC session description or ICE candidate, as the browser wrote it."""
    return text.startswith(("v=0\r\n", "candidate:"))


def find_leaks(texts: Iterable[str], secrets: dict[str, str]) -> list[tuple[str, str]]:
    """(secret name, the form found) for every planted secret that appears in any text."""
    runs: set[str] = set()
    blob_parts: list[str] = []
    for text in texts:
        normal = nfkc(text)
        blob_parts.append(normal)
        if not machine_made(normal):
            runs.update(re.sub(r"\D", "", m.group(0)) for m in _DIGIT_RUN.finditer(normal))
    blob = "\n".join(blob_parts)
    found = []
    for name, secret in secrets.items():
        digits = bare_digits(secret)
        if secret in blob or nfkc(secret) in blob:
            found.append((name, secret))
        elif len(digits) >= WINDOW:
            windows = {digits[i : i + WINDOW] for i in range(len(digits) - WINDOW + 1)}
            hit = next((w for w in sorted(windows) if any(w in run for run in runs)), None)
            if hit:
                found.append((name, hit))
        # The words of a secret such as "RegionTitle-4411" leak even with the digits starred.
        for word in re.findall(r"[^\W\d_]{6,}", secret):
            if word in blob and all(n != name for n, _ in found):
                found.append((name, word))
    return found
