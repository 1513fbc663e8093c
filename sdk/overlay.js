// The agent's guidance on the customer's screen: a pointer, a highlighted element with a
// caption, freehand drawing, clear. Drawn in a layer that takes no clicks (pointer-events:
// none). Nothing from the agent ever becomes a click, key press, focus, scroll, navigation,
// form value or markup: captions are set with textContent, selectors are only looked up.
import { ANNOTATION_KINDS } from "./protocol.js";

const SVG = "http://www.w3.org/2000/svg";
const POINTER_FADE_MS = 2500;

const isFraction = (v) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
const isPoint = (p) => p && typeof p === "object" && isFraction(p.x) && isFraction(p.y);

// Re-check on the device what the server already validated: the SDK trusts nobody.
export function validAnnotation(msg) {
  if (!msg || typeof msg !== "object" || !ANNOTATION_KINDS.includes(msg.kind)) return false;
  if (msg.point !== undefined && !isPoint(msg.point)) return false;
  if (msg.selector !== undefined && (typeof msg.selector !== "string" || msg.selector.length > 300)) return false;
  if (msg.caption !== undefined && (typeof msg.caption !== "string" || msg.caption.length > 200)) return false;
  if (msg.path !== undefined && (!Array.isArray(msg.path) || msg.path.length > 500 || !msg.path.every(isPoint))) return false;
  return true;
}

export class Overlay {
  constructor(root, announce) {
    this.announce = announce; // reads captions to screen-reader users
    this.layer = document.createElement("div");
    this.layer.className = "assist-overlay";
    this.layer.setAttribute("aria-hidden", "true");
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "assist-drawing");
    this.pointer = document.createElement("div");
    this.pointer.className = "assist-pointer";
    this.pointer.hidden = true;
    this.layer.append(this.svg, this.pointer);
    root.append(this.layer);
    this.highlights = [];
    this.pointerTimer = null;
    this.reposition = () => this.highlights.forEach((h) => place(h.box, h.target));
    window.addEventListener("scroll", this.reposition, { passive: true, capture: true });
    window.addEventListener("resize", this.reposition, { passive: true });
    // The agent's marks belong to the page they were made on: when the customer moves on (a new
    // route) they go, and a highlight whose element left the page goes with it — a frame and
    // caption over empty space, or over whatever came in its place, would mislead.
    this.pageChanged = () => this.clear();
    window.addEventListener("hashchange", this.pageChanged);
    window.addEventListener("popstate", this.pageChanged);
    this.pending = false;
    this.watcher = new MutationObserver(() => {
      if (this.pending || !this.highlights.length) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.highlights = this.highlights.filter((h) => {
          if (h.target.isConnected) return true;
          h.box.remove();
          return false;
        });
        this.reposition();
      });
    });
    this.watcher.observe(document.documentElement, { childList: true, subtree: true });
  }

  apply(msg) {
    if (!validAnnotation(msg)) return false;
    if (msg.kind === "pointer" && msg.point) this.showPointer(msg.point);
    if (msg.kind === "highlight" && msg.selector) this.highlight(msg.selector, msg.caption || "");
    if (msg.kind === "draw" && msg.path) this.draw(msg.path);
    if (msg.kind === "clear") this.clear();
    return true;
  }

  showPointer({ x, y }) {
    this.pointer.hidden = false;
    this.pointer.style.left = `${x * window.innerWidth}px`;
    this.pointer.style.top = `${y * window.innerHeight}px`;
    clearTimeout(this.pointerTimer);
    this.pointerTimer = setTimeout(() => (this.pointer.hidden = true), POINTER_FADE_MS);
  }

  highlight(selector, caption) {
    let target;
    try {
      target = document.querySelector(selector);
    } catch {
      return; // not a valid selector: nothing to show
    }
    // Only the bank's own page can be pointed at, never the assist controls themselves.
    if (!target || target.closest("#assist-sdk")) return;
    this.clearHighlights();
    const box = document.createElement("div");
    box.className = "assist-highlight";
    if (caption) {
      const label = document.createElement("div");
      label.className = "assist-caption";
      label.textContent = caption;
      box.append(label);
      this.announce(caption);
    }
    this.layer.append(box);
    this.highlights.push({ box, target });
    place(box, target);
  }

  draw(path) {
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", path.map((p) => `${p.x * window.innerWidth},${p.y * window.innerHeight}`).join(" "));
    this.svg.append(line);
  }

  clearHighlights() {
    this.highlights.forEach((h) => h.box.remove());
    this.highlights = [];
  }

  clear() {
    this.clearHighlights();
    this.svg.replaceChildren();
    this.pointer.hidden = true;
  }

  destroy() {
    window.removeEventListener("scroll", this.reposition, { capture: true });
    window.removeEventListener("resize", this.reposition);
    window.removeEventListener("hashchange", this.pageChanged);
    window.removeEventListener("popstate", this.pageChanged);
    this.watcher.disconnect();
    this.layer.remove();
  }
}

function place(box, target) {
  const r = target.getBoundingClientRect();
  Object.assign(box.style, { left: `${r.left - 6}px`, top: `${r.top - 6}px`, width: `${r.width + 12}px`, height: `${r.height + 12}px` });
  // Low on the screen the caption goes above the element: below it, it sat on the app's bottom
  // controls (the elderly edition's voice and help buttons) instead of beside what it names.
  box.classList.toggle("assist-above", r.bottom > window.innerHeight * 0.6);
}
