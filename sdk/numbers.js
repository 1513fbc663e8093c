// Numbers that must not leave the device: card, account, ID and phone numbers, in any format a
// page can show them. The same rule runs in the server's last-line scan (signaling/scrub.py);
// both read signaling/masking_rules.json, and tests/masking checks the two agree on generated text.
//
// The rule, in words (docs/masking.md): after Unicode normalisation (full-width, superscript and
// other-script digits are digits; Chinese numerals 〇一二… too), a run of at least MIN_DIGITS
// digits is hidden, whatever separates its groups — any kind of space, one dot, dash, slash or
// middle dot — and an X closing the run (ID numbers) goes with it. Dates and money amounts in
// their usual written forms are not part of a run, so "2026-12-01 14:30" and "¥12,345.00" stay.
// MIN_DIGITS is 6: no six consecutive digits of anything else ever leave, so a number cannot leak
// piece by piece either (a shown prefix is at most five digits long).
import RULES from "../signaling/masking_rules.json";

export const MIN_DIGITS = RULES.min_digits;
const SEPARATORS = new Set(Array.from(RULES.separators));
const HANZI_DIGITS = new Set(Array.from(RULES.hanzi_digits));
const SPACE = /^[\s\u180e\u200b-\u200d\u2060\ufeff]$/u;
const DIGIT = /^\p{Nd}$/u;
const ALNUM = /^[\p{L}\p{N}]$/u;
// Anything that could be a digit, for the fast path: most strings have far fewer than MIN_DIGITS.
const DIGIT_LIKE = new RegExp(`[\\p{N}${RULES.hanzi_digits}]`, "gu");

// Innocent forms, found on the normalised text (one character per code point). Dates (the same
// separator twice), times and amounts with a currency sign or 元 always stay; a bare decimal
// amount stays unless joined to other digits (a card's last groups can look like "7766.55").
const STRONG = [
  /(?<![\d./-])(\d{4}([-/.])\d{1,2}\2\d{1,2})(?!\d|[-/.]\d)/g,
  /(?<![\d./-])(\d{1,2}([-/.])\d{1,2}\2\d{4})(?!\d|[-/.]\d)/g,
  /(?<![\d:])(\d{1,2}:\d{2}(?::\d{2})?)(?![\d:])/g,
  /[¥￥$] ?(\d{1,9}(?:\.\d{1,2})?)(?![\d.])/g,
  /(?<![\d.])(\d{1,9}(?:\.\d{1,2})?) ?(?:元|块|RMB|CNY|yuan)/g,
];
const WEAK = [/(?<![\d.])(\d{1,9}\.\d{2})(?!\d|\.\d)/g];

function spansOf(patterns, proj) {
  const spans = [];
  for (const pattern of patterns) {
    for (const m of proj.matchAll(pattern)) {
      const start = m.index + m[0].indexOf(m[1]);
      spans.push([start, start + m[1].length]);
    }
  }
  return spans;
}
const positions = (spans) => spans.flatMap(([a, b]) => Array.from({ length: b - a }, (_, k) => a + k));
const RUN = /d(?:w*p?w*d)*(?:w*x)?/g;

// A character's kind — d(igit), x (may close an ID), w(hite space), p (separator), o(ther) — and
// what it stands for in the normalised text; looked up once per distinct character.
const KINDS = new Map();
function kindOf(ch) {
  let known = KINDS.get(ch);
  if (known) return known;
  const n = ch.length === 1 && ch < "\u0080" ? ch : ch.normalize("NFKC");
  if (n.length === 1 && DIGIT.test(n)) known = ["d", n >= "0" && n <= "9" ? n : "0"];
  else if (HANZI_DIGITS.has(ch)) known = ["d", "0"];
  else if (n === "X" || n === "x") known = ["x", "X"];
  else if (SPACE.test(ch) || (n.length === 1 && SPACE.test(n))) known = ["w", " "];
  else if (SEPARATORS.has(ch) || (n.length === 1 && SEPARATORS.has(n))) known = ["p", ".-/".includes(n) ? n : "~"];
  else known = ["o", ch.length === 1 ? ch : "#"];
  if (KINDS.size < 20_000) KINDS.set(ch, known);
  return known;
}

function classify(chars) {
  const kinds = new Array(chars.length);
  let proj = "";
  for (let i = 0; i < chars.length; i++) {
    const [kind, stands] = kindOf(chars[i]);
    // An X followed by a letter or digit is a letter, not the end of an ID number.
    kinds[i] = kind === "x" && i + 1 < chars.length && ALNUM.test(chars[i + 1]) ? "o" : kind;
    proj += stands;
  }
  return { kinds, proj };
}

// The digit that a separator gap (spaces, at most one separator) joins to position i, if any.
function joined(kinds, i, step) {
  let j = i + step;
  while (kinds[j] === "w") j += step;
  if (kinds[j] === "p") {
    j += step;
    while (kinds[j] === "w") j += step;
  }
  return kinds[j] === "d" || kinds[j] === "x" ? j : null;
}

// Positions of dates, amounts and times. A bare decimal joined to other digits is part of them
// unless those digits are a date, time or amount with its sign (a chain of bare decimals, like
// "62.22 02.02 12.34 56.78", is a number): one pass, each decimal judged by its neighbours alone,
// so a long text costs its length (signaling/scrub.py applies the same rule).
function innocent(kinds, proj) {
  const strong = new Set(positions(spansOf(STRONG, proj)));
  const inside = new Set(strong);
  for (const [a, b] of spansOf(WEAK, proj)) {
    const ok = [joined(kinds, a, -1), joined(kinds, b - 1, 1)].every((j) => j === null || strong.has(j));
    if (ok) for (let i = a; i < b; i++) inside.add(i);
  }
  return inside;
}

// Which code points of `chars` to hide.
function hidden(chars) {
  const { kinds, proj } = classify(chars);
  for (const i of innocent(kinds, proj)) kinds[i] = "o";
  const hide = new Set();
  for (const m of kinds.join("").matchAll(RUN)) {
    let digits = 0;
    for (const k of m[0]) if (k === "d") digits++;
    if (digits < MIN_DIGITS) continue;
    for (let i = m.index; i < m.index + m[0].length; i++) if (kinds[i] === "d" || kinds[i] === "x") hide.add(i);
  }
  return hide;
}

function digitLike(text) {
  return (text.match(DIGIT_LIKE) || []).length;
}

// Several pieces of text that a reader sees as one (the text nodes of one block): a number split
// over them is found as a whole, and each piece comes back with its own part hidden.
export function maskSegments(segments) {
  if (segments.reduce((n, s) => n + digitLike(s), 0) < MIN_DIGITS) return segments.slice();
  const pieces = segments.map((s) => Array.from(s));
  const chars = pieces.flat();
  const hide = hidden(chars);
  if (!hide.size) return segments.slice();
  let at = 0;
  return pieces.map((piece) => piece.map(() => (hide.has(at++) ? "*" : chars[at - 1])).join(""));
}

export function maskNumbers(text) {
  return typeof text === "string" && text ? maskSegments([text])[0] : text;
}

export function hasNumber(text) {
  return maskNumbers(text) !== text;
}

// An amount as typed into an amount field (inputmode=decimal, unmasked): shown as it is, up to
// ¥9,999,999.99. The server lets the same through in input events (signaling/scrub.py).
export const AMOUNT_INPUT = new RegExp(RULES.amount_input);

export function isAmount(text) {
  return AMOUNT_INPUT.test(String(text).normalize("NFKC"));
}
