"""The number rule as a property: generated card, ID, account and phone numbers in generated
formats never survive; generated SVG paths and innocent text survive unchanged. The same
inputs go through the SDK's JavaScript (numbers.js, bundled and run by Node) and the server's
Python (signaling/scrub.py), which must agree to the character."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from signaling.scrub import MIN_DIGITS, mask_numbers, mask_segments, scrub_events
from tests.masking.leaks import bare_digits

ROOT = Path(__file__).resolve().parents[2]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SEPARATORS = [" ", "\u00a0", "\u3000", "\u2009", "\u202f", "-", ".", "/", "·", "－", "．", " - ", "\n   ", ""]

JS_DRIVER = """
import { maskSegments } from "./numbers.bundle.mjs";
import { createInterface } from "node:readline";
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => process.stdout.write(JSON.stringify(maskSegments(JSON.parse(line))) + "\\n"));
"""


class JsRule:
    """The SDK's numbers.js, bundled by esbuild and answering one JSON line per call."""

    def __init__(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        bundle = Path(self.dir.name) / "numbers.bundle.mjs"
        subprocess.run(
            [
                str(ROOT / "node_modules/.bin/esbuild"),
                str(ROOT / "sdk/numbers.js"),
                "--bundle",
                "--format=esm",
                f"--outfile={bundle}",
                "--log-level=warning",
            ],
            check=True,
        )
        (Path(self.dir.name) / "driver.mjs").write_text(JS_DRIVER)
        self.proc = subprocess.Popen(
            ["node", "driver.mjs"], cwd=self.dir.name, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )

    def mask(self, segments: list[str]) -> list[str]:
        self.proc.stdin.write(json.dumps(segments) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=5)
        self.dir.cleanup()


@pytest.fixture(scope="module")
def js():
    rule = JsRule()
    yield rule
    rule.close()


def luhn_card(body: list[int]) -> str:
    total = sum(d if i % 2 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(body)))
    return "".join(map(str, body)) + str((10 - total % 10) % 10)


cards = st.lists(st.integers(0, 9), min_size=15, max_size=18).map(lambda b: luhn_card([6, *b[1:]]))
ids = st.tuples(st.text("0123456789", min_size=17, max_size=17), st.sampled_from("0123456789Xx")).map("".join)
phones = st.tuples(st.sampled_from(["13", "15", "17", "18", "19"]), st.text("0123456789", min_size=9, max_size=9)).map("".join)
accounts = st.text("0123456789", min_size=12, max_size=19)
numbers = st.one_of(cards, ids, phones, accounts)


GROUPINGS = [(4, 4, 4, 4, 4), (6, 8, 4), (3, 4, 4), (4, 6, 5, 4), (1,) * 19, (19,), (2, 3, 4, 5, 6)]


@st.composite
def formatted(draw):
    """A number as some page writes it: grouped, with one kind of separator, full-width or not,
    split over several text nodes at arbitrary points, with words around it."""
    number = draw(numbers)
    grouping = draw(st.sampled_from(GROUPINGS))
    groups, rest = [], number
    for size in grouping * 4:
        if rest:
            groups.append(rest[:size])
            rest = rest[size:]
    if draw(st.booleans()):
        groups = [g.translate(FULLWIDTH) for g in groups]
    before = draw(st.sampled_from(["", "卡号 ", "Card: ", "身份证号码：", "尾号3445 ", "2026-12-01 "]))
    written = draw(st.sampled_from(SEPARATORS)).join(groups)
    text = before + written + draw(st.sampled_from(["", " 尾", "。", " (储蓄卡)", " ¥100.00"]))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=4)))
    segments = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return number, segments, (len(before), len(before) + len(written))


def survivors(number: str, masked: list[str], span: tuple[int, int] | None = None) -> list[str]:
    """The number's 6-digit runs still readable where it was written (`span`, when given: the
    words around it may hold digits of their own, like a date, that are not a leak)."""
    digits = bare_digits(number)
    shown = "".join(masked)
    shown = bare_digits(shown[span[0] : span[1]] if span else shown)
    return [digits[i : i + MIN_DIGITS] for i in range(len(digits) - MIN_DIGITS + 1) if digits[i : i + MIN_DIGITS] in shown]


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(formatted())
@example(("13000202612", ["2026-12-01 1300 0202 612"], (11, 25)))  # the date shares 6 digits with it
def test_generated_numbers_never_survive_in_python_or_javascript(js, case):
    number, segments, span = case
    py = mask_segments(segments)
    assert not survivors(number, py, span), (segments, py)
    assert [len(s) for s in py] == [len(s) for s in segments]  # each node keeps its length and place
    assert js.mask(segments) == py


amounts = st.builds(
    lambda y, f, grouped: f"¥{y:,}.{f:02d}" if grouped else f"{y}.{f:02d}元",
    st.integers(0, 999_999_999),
    st.integers(0, 99),
    st.booleans(),
)
dates = st.builds(
    lambda y, m, d, sep: f"{y}{sep}{m:02d}{sep}{d:02d}",
    st.integers(1990, 2099),
    st.integers(1, 12),
    st.integers(1, 28),
    st.sampled_from("-/."),
)
times = st.builds(lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}", st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
# Short codes come with their label: two bare codes side by side ("12345 6789") cannot be told
# from a grouped number, and are hidden on purpose.
codes = st.builds(
    lambda label, code: label + code,
    st.sampled_from(["尾号", "验证码 ", "No.", "第"]),
    st.text("0123456789", min_size=1, max_size=MIN_DIGITS - 1),
)
innocent = st.lists(
    st.one_of(amounts, dates, times, codes, st.sampled_from(["转账", "尾号", "余额", "Balance", "·"])), min_size=1, max_size=6
).map(" ".join)


@SETTINGS
@given(innocent)
def test_amounts_dates_times_and_short_codes_survive(js, text):
    assert mask_numbers(text) == text
    assert js.mask([text]) == [text]


@SETTINGS
@given(cards, st.sampled_from([" ", "  ", " - ", "\u3000"]))
def test_a_number_written_as_a_chain_of_decimals_is_hidden(js, card, gap):
    """A card as "62.22 02.02 12.34 56.78": each piece looks like an amount, but a bare decimal joined to
    digits that are not a date, time or signed amount is part of a number."""
    pieces = [card[i : i + 4] for i in range(0, 16, 4)]
    text = gap.join(f"{p[:2]}.{p[2:]}" for p in pieces)
    py = mask_numbers(text)
    assert not any(ch.isdigit() for ch in py), (text, py)
    assert js.mask([text]) == [py]
    # Beside a signed amount or a date, a bare decimal is still an amount.
    assert mask_numbers(f"¥12.00 {pieces[0][:2]}.{pieces[0][2:]}") == f"¥12.00 {pieces[0][:2]}.{pieces[0][2:]}"


path_commands = st.lists(
    st.tuples(
        st.sampled_from("MLCQAZmlcqaz"),
        st.lists(st.floats(-500, 500, allow_nan=False).map(lambda f: f"{f:.2f}".rstrip("0").rstrip(".")), max_size=7),
    ),
    min_size=1,
    max_size=20,
).map(lambda cs: " ".join(c + " " + " ".join(ns) for c, ns in cs))


@SETTINGS
@given(path_commands, st.lists(st.integers(0, 2000), min_size=4, max_size=4))
def test_svg_geometry_is_never_touched(path, box):
    snapshot = [
        {
            "type": 2,
            "data": {
                "node": {
                    "type": 2,
                    "tagName": "svg",
                    "id": 1,
                    "isSVG": True,
                    "attributes": {"viewBox": " ".join(map(str, box)), "width": "24", "height": "24"},
                    "childNodes": [
                        {
                            "type": 2,
                            "tagName": "path",
                            "id": 2,
                            "isSVG": True,
                            "attributes": {"d": path, "stroke-dasharray": "1 2 3 4 5 6 7 8"},
                            "childNodes": [],
                        }
                    ],
                }
            },
        }
    ]
    clean, scan = scrub_events(snapshot)
    assert clean == snapshot and scan.violations == 0
