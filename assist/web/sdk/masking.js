// Masking on the device, before anything leaves it. Three layers, each enough on its own for
// what it covers:
//  1. rrweb options: every input value and every text node passes through our functions
//     (password / one-time-code / data-assist-mask → all stars; elsewhere card and account
//     numbers → stars); data-assist-block and hidden inputs are not serialized at all.
//  2. A scrubber over every outgoing event: any string anywhere in it (attributes such as
//     value and placeholder, style text, custom events) loses 12–19-digit runs, and the current
//     values of sensitive inputs are replaced wherever they appear (rrweb leak reports #602,
//     #1609, PR 1911, #93 are all covered here even if layer 1 misses them).
//  3. Pages marked data-assist-sensitive are not recorded at all (mirror.js pauses).

// 12 to 19 digits, single spaces or dashes allowed between them (6222 0202 0011 2233 445).
const DIGIT_RUN = /(?<!\d)\d(?:[ -]?\d){11,18}(?!\d)/g;

export const BLOCK_SELECTOR = "[data-assist-block], input[type=hidden], #assist-sdk";
export const MASK_SELECTOR = "[data-assist-mask]";

export function maskDigits(text) {
  return text.replace(DIGIT_RUN, (run) => run.replace(/\d/g, "*"));
}

export function isSensitiveInput(el) {
  if (!el || !el.getAttribute) return false;
  const type = (el.getAttribute("type") || "").toLowerCase();
  const autocomplete = (el.getAttribute("autocomplete") || "").toLowerCase();
  return (
    type === "password" ||
    type === "hidden" ||
    autocomplete.includes("one-time-code") ||
    autocomplete.startsWith("cc-") ||
    !!el.closest(MASK_SELECTOR)
  );
}

export function maskInput(text, el) {
  if (isSensitiveInput(el)) return "*".repeat(text.length);
  return maskDigits(text);
}

export function maskText(text, el) {
  if (el && el.closest && el.closest(MASK_SELECTOR)) return text.replace(/\S/g, "*");
  return maskDigits(text);
}

// Values typed into sensitive inputs right now (at least 4 characters: shorter ones would
// blank out innocent text and are not secrets worth the name).
function sensitiveValues(doc) {
  const values = [];
  for (const el of doc.querySelectorAll("input, textarea")) {
    if (isSensitiveInput(el) && el.value && el.value.length >= 4) values.push(el.value);
  }
  return values;
}

function scrubString(text, secrets) {
  let out = maskDigits(text);
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join("*".repeat(secret.length));
  }
  return out;
}

function scrubValue(value, secrets) {
  if (typeof value === "string") return scrubString(value, secrets);
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, secrets));
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, secrets);
    return out;
  }
  return value; // numbers (ids, timestamps, coordinates) are never text a person typed
}

// Layer 2: applied to every batch just before it is sent.
export function scrubEvents(events, doc = document) {
  const secrets = sensitiveValues(doc);
  return events.map((event) => scrubValue(event, secrets));
}

// The rrweb options that implement layer 1.
export function recordOptions() {
  return {
    maskAllInputs: true, // route every input through maskInput (not only passwords)
    maskInputFn: maskInput,
    maskTextSelector: "*", // route every text node through maskText
    maskTextFn: maskText,
    blockSelector: BLOCK_SELECTOR,
  };
}
