// Masking on the device, before anything leaves it: private by default (docs/masking.md).
//
//  1. rrweb's own hooks (recordOptions): every input value passes maskInput — hidden unless the
//     bank marked the field data-assist-unmask, and always hidden for a field that is or ever was
//     a password or carries a secret's autocomplete; every text node passes maskText — starred
//     inside data-assist-mask, elsewhere numbers hidden (numbers.js). data-assist-block, hidden
//     inputs and our own UI are never serialized.
//  2. scrubEvents, over every event just before it is sent: it walks rrweb's event shapes with the
//     live DOM beside it (record.mirror), so it sees what the hooks cannot — attributes (title,
//     alt, aria-*, data-*, placeholder, option values), CSS text, a number split over several
//     text nodes of one block, regions that continue into shadow roots and same-origin frames,
//     and the values of secret fields wherever a page repeats them. SVG geometry keeps its digits.
//  3. Pages marked data-assist-sensitive are not recorded at all (mirror.js pauses).
// The server runs the number rule once more over what it relays (signaling/scrub.py).
import RULES from "../signaling/masking_rules.json";
import { isAmount, maskNumbers, maskSegments } from "./numbers.js";

export const BLOCK_SELECTOR = "[data-assist-block], input[type=hidden], #assist-sdk";
export const MASK_SELECTOR = "[data-assist-mask]";
export const UNMASK_SELECTOR = "[data-assist-unmask]";

const GEOMETRY = new Set(RULES.geometry_attributes);
const CSS_ATTRIBUTES = new Set(RULES.css_attributes);
const REGION_TEXT = new Set(RULES.region_text_attributes);
const REGION_PREFIXES = RULES.region_text_attribute_prefixes;
const SECRET_AUTOCOMPLETE = /(^|\s)(current-password|new-password|one-time-code|cc-[a-z-]+)(\s|$)/;
const SECRET_HINT = /card|acc(oun)?t|acct|(^|[^a-z])id([^a-z]|$)|identity|ssn|cvv|cvc|cvn|pin|passw|卡号|账号|帐号|账户|身份证|证件|密码|安全码|验证码|口令/i;
const BLOCK_TAGS = new Set(["ADDRESS", "ARTICLE", "ASIDE", "BLOCKQUOTE", "BODY", "BUTTON", "DD", "DETAILS", "DIALOG",
  "DIV", "DL", "DT", "FIELDSET", "FIGCAPTION", "FIGURE", "FOOTER", "FORM", "H1", "H2", "H3", "H4", "H5", "H6", "HEADER",
  "HTML", "LI", "MAIN", "NAV", "OL", "OPTION", "P", "PRE", "SECTION", "SUMMARY", "TABLE", "TD", "TH", "TR", "UL"]);
const NOT_TEXT = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TEXTAREA"]);
const MIN_SECRET = 4; // shorter typed values would blank out innocent text, and are not secrets worth the name

// Fields that are, or ever were, secret: a "show password" button that turns one into a text field
// does not make it public. Watched from SDK start, before any sharing.
const everSecret = new WeakSet();

export function watchFields(doc = document) {
  doc.querySelectorAll("input[type=password]").forEach((el) => everSecret.add(el));
  const observer = new MutationObserver((records) => {
    for (const r of records) if (r.oldValue && r.oldValue.toLowerCase() === "password") everSecret.add(r.target);
  });
  observer.observe(doc.documentElement, { subtree: true, attributes: true, attributeFilter: ["type"], attributeOldValue: true });
  return () => observer.disconnect();
}

// ---------------------------------------------------------------- where an element stands
// Up one level, continuing from a shadow root to its host and from a same-origin frame's
// document to its <iframe>, so a region's rule does not stop at either.
function up(node) {
  if (node.parentElement) return node.parentElement;
  const parent = node.parentNode || node;
  if (parent.host) return parent.host;
  if (parent.nodeType === 9) {
    try { return parent.defaultView && parent.defaultView.frameElement; } catch { return null; }
  }
  return null;
}

export function closestAcross(node, selector) {
  for (let el = node && node.nodeType === 1 ? node : node && up(node); el; el = up(el)) {
    if (el.nodeType === 1 && el.matches(selector)) return el;
  }
  return null;
}

function labelText(el) {
  const parts = [el.getAttribute("name"), el.id, el.getAttribute("placeholder"), el.getAttribute("aria-label")];
  for (const label of el.labels || []) parts.push(label.textContent);
  for (const id of (el.getAttribute("aria-labelledby") || "").split(/\s+/)) {
    const label = id && el.ownerDocument.getElementById(id);
    if (label) parts.push(label.textContent);
  }
  return parts.filter(Boolean).join(" ");
}

// A secret field: masked for the life of the element, data-assist-unmask or not.
export function isSecretField(el) {
  if (!el || el.nodeType !== 1) return false;
  if (everSecret.has(el)) return true;
  const type = (el.getAttribute("type") || "").toLowerCase();
  const inputmode = (el.getAttribute("inputmode") || "").toLowerCase();
  const secret = type === "password" || SECRET_AUTOCOMPLETE.test((el.getAttribute("autocomplete") || "").toLowerCase())
    || ((inputmode === "numeric" || inputmode === "tel") && SECRET_HINT.test(labelText(el)));
  if (secret) everSecret.add(el);
  return secret;
}

// Precedence: a secret field is masked; inside data-assist-mask everything is masked; a field
// marked data-assist-unmask (itself or a container) is shown, numbers still hidden; the rest masked.
export function isPrivateInput(el) {
  if (!el || el.nodeType !== 1) return true;
  if (isSecretField(el) || closestAcross(el, MASK_SELECTOR)) return true;
  return !closestAcross(el, UNMASK_SELECTOR);
}

// Text the customer types into an editable region is input, whatever element holds it.
function isPrivateText(el) {
  if (!el) return true;
  if (closestAcross(el, MASK_SELECTOR)) return true;
  return !!el.isContentEditable && !closestAcross(el, UNMASK_SELECTOR);
}

const stars = (text) => String(text).replace(/\S/gu, "*");

// ---------------------------------------------------------------- layer 1: rrweb's hooks
export function maskInput(text, el) {
  if (isPrivateInput(el)) return "*".repeat(Array.from(String(text)).length);
  if ((el.getAttribute("inputmode") || "") === "decimal" && isAmount(text)) return text; // the amount field
  return maskNumbers(text);
}

export function maskText(text, el) {
  return isPrivateText(el) ? stars(text) : maskNumbers(text);
}

export function recordOptions() {
  return {
    maskAllInputs: true, // every input, select and textarea value goes through maskInput
    maskInputFn: maskInput,
    maskTextSelector: "*", // every text node goes through maskText
    maskTextFn: maskText,
    blockSelector: BLOCK_SELECTOR,
  };
}

// ---------------------------------------------------------------- layer 2: every event
const T = { FullSnapshot: 2, Incremental: 3, Meta: 4, Custom: 5 };
const S = { Mutation: 0, Input: 5, StyleSheetRule: 8, StyleDeclaration: 13, AdoptedStyleSheet: 15 };
const TEXT_NODE = 3;

class Scrubber {
  constructor(mirror, doc) {
    this.mirror = mirror;
    this.secrets = secretValues(doc);
    this.blocks = new Map(); // block element → Map(text node → masked text), built once per pass
    this.extra = new Map(); // id → masked text of nodes a new run now spans (sent again, masked)
    this.inMutation = false;
  }

  dom(id) {
    return (this.mirror && typeof id === "number" && this.mirror.getNode(id)) || null;
  }

  plain(text) {
    if (typeof text !== "string") return text;
    let out = maskNumbers(text);
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join("*".repeat(secret.length));
    return out;
  }

  any(value) {
    return mapStrings(value, (text) => this.plain(text));
  }

  css(text) {
    if (typeof text !== "string") return this.any(text);
    return text
      .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, (literal, offset) => {
        // Generated content can carry words (content: "…"): letters and digits go, icon escapes stay.
        const generated = /content\s*:[^;{}]*$/i.test(text.slice(Math.max(0, offset - 200), offset));
        return generated ? literal.replace(/\\[0-9a-fA-F]{1,6}\s?|\\.|[\p{L}\p{N}]/gu, (m) => (m[0] === "\\" ? m : "*"))
          : this.plain(literal);
      })
      .replace(/url\(\s*([^)"'\s]*)\s*\)/gi, (m, url) => m.replace(url, this.plain(url)));
  }

  text(value, node, isStyle) {
    if (typeof value !== "string") return this.any(value);
    if (isStyle) return this.css(value);
    if (!node) return this.plain(value);
    if (isPrivateText(node.parentElement || up(node))) return stars(value);
    return this.plain(this.inBlock(node, value));
  }

  // The node's text with any number that runs on into its neighbours hidden too.
  inBlock(node, value) {
    const block = blockOf(node);
    if (!block) return value;
    let masked = this.blocks.get(block);
    if (!masked) {
      const nodes = textNodes(block);
      const out = maskSegments(nodes.map((n) => n.data));
      masked = new Map(nodes.map((n, i) => [n, out[i]]));
      if (this.inMutation && this.mirror) { // a snapshot carries every node of the block anyway
        nodes.forEach((n, i) => {
          const id = out[i] !== n.data && out[i] !== maskNumbers(n.data) ? this.mirror.getId(n) : -1;
          if (id > 0) this.extra.set(id, out[i]);
        });
      }
      this.blocks.set(block, masked);
    }
    if (value === node.data && masked.has(node)) return masked.get(node);
    // The event holds an older value than the page now shows: join it with today's neighbours.
    const nodes = [...masked.keys()];
    const at = nodes.indexOf(node);
    if (at < 0) return maskNumbers(value);
    return maskSegments(nodes.map((n, i) => (i === at ? value : n.data)))[at];
  }

  attributes(attrs, el) {
    if (!attrs || typeof attrs !== "object") return this.any(attrs);
    const region = el ? !!closestAcross(el, MASK_SELECTOR) : true;
    const out = {};
    for (const [name, value] of Object.entries(attrs)) {
      const key = name.toLowerCase();
      if (GEOMETRY.has(key) || value === null || value === true || value === false) out[name] = value;
      else if (CSS_ATTRIBUTES.has(key)) out[name] = typeof value === "string" ? this.css(value) : this.cssObject(value);
      else if (key === "value" && el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) out[name] = maskInput(String(value), el);
      else if (region && (REGION_TEXT.has(key) || REGION_PREFIXES.some((p) => key.startsWith(p)))) out[name] = stars(value);
      else out[name] = this.plain(value);
    }
    return out;
  }

  cssObject(value) { // a style attribute changed property by property: {prop: value | [value, priority] | false}
    if (!value || typeof value !== "object") return value;
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = Array.isArray(v) ? [this.css(v[0]), v[1]] : this.css(v);
    return out;
  }

  node(serialized, isStyle = false) {
    if (!serialized || typeof serialized !== "object") return this.any(serialized);
    const dom = this.dom(serialized.id);
    const out = { ...serialized };
    if (serialized.type === TEXT_NODE) {
      out.textContent = this.text(serialized.textContent, dom, isStyle || serialized.isStyle);
      return out;
    }
    if (serialized.attributes) out.attributes = this.attributes(serialized.attributes, dom);
    if (Array.isArray(serialized.childNodes)) {
      const style = isStyle || String(serialized.tagName || "").toLowerCase() === "style";
      out.childNodes = serialized.childNodes.map((child) => this.node(child, style));
    }
    return out;
  }

  mutation(data) {
    this.inMutation = true;
    const out = { ...data };
    if (Array.isArray(data.adds)) out.adds = data.adds.map((a) => ({ ...a, node: this.node(a.node) }));
    if (Array.isArray(data.texts)) out.texts = data.texts.map((t) => ({ ...t, value: this.text(t.value, this.dom(t.id), false) }));
    if (Array.isArray(data.attributes)) {
      out.attributes = data.attributes.map((a) => ({ ...a, attributes: this.attributes(a.attributes, this.dom(a.id)) }));
    }
    // Nodes sent earlier that a number now spans: sent again, masked.
    const sent = new Set((out.texts || []).map((t) => t.id));
    const again = [...this.extra].filter(([id]) => !sent.has(id)).map(([id, value]) => ({ id, value }));
    if (again.length) out.texts = [...(out.texts || []), ...again];
    this.extra.clear();
    this.inMutation = false;
    return out;
  }

  event(event) {
    if (!event || typeof event !== "object" || !event.data || typeof event.data !== "object") return this.any(event);
    const { data } = event;
    if (event.type === T.FullSnapshot) {
      const out = { ...event, data: { ...data, node: this.node(data.node) } };
      this.extra.clear(); // everything is in the snapshot itself
      return out;
    }
    if (event.type === T.Incremental && data.source === S.Mutation) return { ...event, data: this.mutation(data) };
    if (event.type === T.Incremental && data.source === S.Input) {
      const el = this.dom(data.id);
      return { ...event, data: { ...data, text: typeof data.text === "string" ? (el ? maskInput(data.text, el) : stars(data.text)) : data.text } };
    }
    if (event.type === T.Incremental && [S.StyleSheetRule, S.StyleDeclaration, S.AdoptedStyleSheet].includes(data.source)) {
      return { ...event, data: mapStrings(data, (text) => this.css(text)) };
    }
    return { ...event, data: this.any(data) };
  }
}

// Every string inside a value through fn; numbers (ids, timestamps, coordinates) are never text
// a person typed and pass as they are.
function mapStrings(value, fn) {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapStrings(v, fn);
    return out;
  }
  return value;
}

function blockOf(node) {
  for (let el = node.parentElement; el; el = el.parentElement) if (BLOCK_TAGS.has(el.tagName)) return el;
  return node.parentNode || null; // a shadow root or a document fragment
}

function textNodes(block) {
  const doc = block.ownerDocument || block;
  const walker = doc.createTreeWalker(block, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT, {
    acceptNode: (n) => (n.nodeType === 1
      ? (NOT_TEXT.has(n.tagName) || n.matches(BLOCK_SELECTOR) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP)
      : NodeFilter.FILTER_ACCEPT),
  });
  const out = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) out.push(n);
  return out;
}

// Values typed into secret fields right now, hidden wherever the page repeats them.
function secretValues(doc) {
  const values = [];
  for (const el of doc.querySelectorAll("input, textarea")) {
    if (isSecretField(el) && el.value && el.value.length >= MIN_SECRET) values.push(el.value);
  }
  return values;
}

// Applied to every batch just before it is sent. `mirror` is rrweb's record.mirror (id → node).
export function scrubEvents(events, mirror = null, doc = document) {
  const scrubber = new Scrubber(mirror, doc);
  return events.map((event) => scrubber.event(event));
}

// Text that leaves the device outside the mirror (the help request's page and transcript).
export function scrubText(text) {
  return maskNumbers(String(text));
}
