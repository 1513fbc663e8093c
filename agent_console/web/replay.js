// Replaying the customer's mirror: live (agent, monitoring supervisor) or from a recording.
// rrweb rebuilds the masked DOM inside a sandboxed iframe without scripts, so nothing from
// the customer's page can run in the console.
import { EventType, Replayer } from "rrweb";

export const PAUSED_TAG = "assist-paused";
export const PAGE_TAG = "assist-page";

// Recordings made before the server joined chunked batches hold them as string pieces, joined
// back here. Bounded: one batch open at a time, at most MAX_CHUNK_CHARS; anything else is dropped.
const MAX_CHUNK_CHARS = 16_000_000;

export class ChunkJoiner {
  constructor() {
    this.open = null; // {id, total, parts, size}
  }

  // One relayed batch → the rrweb events it carries (none while a chunked batch is incomplete).
  events(batch) {
    const out = [];
    for (const item of batch || []) {
      if (!item || typeof item !== "object") continue;
      if (!item.assistChunk) { out.push(item); continue; }
      const { id, index, total, data } = item.assistChunk;
      if (index === 0) this.open = { id, total, parts: [], size: 0 };
      const open = this.open;
      if (!open || open.id !== id || index !== open.parts.length || typeof data !== "string") { this.open = null; continue; }
      open.parts.push(data);
      open.size += data.length;
      if (open.size > MAX_CHUNK_CHARS) { this.open = null; continue; }
      if (open.parts.length === open.total) {
        this.open = null;
        try { out.push(...JSON.parse(open.parts.join(""))); } catch { /* a broken batch shows nothing */ }
      }
    }
    return out;
  }
}

// A live replay keeps every event since its full snapshot. The customer's SDK takes a fresh one
// every 5000 changes; past this many the console stops applying (a flood, or a client that is
// not our SDK) and waits for the next snapshot, so its memory stays bounded.
export const MAX_LIVE_EVENTS = 20_000;

export class LiveMirror {
  // onStatus("paused" | "live") reports the customer's side pausing on a sensitive page;
  // onPage({page, title}) the screen the customer moved to.
  constructor(root, onStatus = () => {}, onPage = () => {}) {
    this.root = root;
    this.onStatus = onStatus;
    this.onPage = onPage;
    this.replayer = null;
    this.joiner = new ChunkJoiner();
    this.applied = 0;
    this.sinceSnapshot = 0;
    this.viewport = null;
    this.lastSeq = -Infinity;
  }

  // seq: the relay's sequence number. A supervisor who joins while a batch is relayed may get it
  // both from the catch-up buffer and live; the second copy is dropped here.
  push(batch, seq) {
    if (Number.isFinite(seq)) {
      if (seq <= this.lastSeq) return;
      this.lastSeq = seq;
    }
    for (const event of this.joiner.events(batch)) this.apply(event);
  }

  apply(event) {
    if (event.type === EventType.Custom && event.data && event.data.tag === PAUSED_TAG) {
      this.onStatus("paused");
      return;
    }
    if (event.type === EventType.Custom && event.data && event.data.tag === PAGE_TAG) {
      this.onPage(event.data.payload || {});
    }
    if (event.type === EventType.Meta) {
      // A new recording on the customer's side (consent, reload, resume): start afresh.
      this.destroy();
      this.replayer = new Replayer([], { root: this.root, liveMode: true, mouseTail: false, triggerFocus: false,
                                         UNSAFE_replayCanvas: false });
      this.replayer.startLive();
      this.iframe().setAttribute("title", "客户屏幕（只读镜像）");
      this.viewport = { width: event.data.width, height: event.data.height };
      this.sinceSnapshot = 0;
    }
    if (event.type === EventType.FullSnapshot) this.onStatus("live");
    if (!this.replayer) return;
    if (this.sinceSnapshot >= MAX_LIVE_EVENTS) {
      this.onStatus("paused"); // too much to keep: wait for the next full snapshot
      this.destroy();
      return;
    }
    this.sinceSnapshot = event.type === EventType.FullSnapshot ? 0 : this.sinceSnapshot + 1;
    this.applied += 1;
    // Our clock, not the phone's: live events play as soon as they arrive.
    this.replayer.addEvent({ ...event, timestamp: Date.now() });
  }

  iframe() {
    return this.root.querySelector("iframe");
  }

  destroy() {
    if (this.replayer) {
      this.replayer.destroy?.();
      this.replayer = null;
    }
    this.root.replaceChildren();
  }
}

// Scale a replay to fit its stage, phone-shaped, within maxHeight × maxWidth.
export function fit(stage, root, { width, height }, maxHeight = 760, maxWidth = stage.clientWidth || width) {
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  Object.assign(root.style, { transform: `scale(${scale})`, transformOrigin: "0 0", width: `${width}px`, height: `${height}px` });
  Object.assign(stage.style, { height: `${height * scale}px`, width: `${width * scale}px` });
  return scale;
}
