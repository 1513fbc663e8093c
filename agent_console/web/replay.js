// Replaying the customer's mirror: live (agent, monitoring supervisor) or from a recording.
// rrweb rebuilds the masked DOM inside a sandboxed iframe without scripts, so nothing from
// the customer's page can run in the console.
import { EventType, Replayer } from "rrweb";

export const PAUSED_TAG = "assist-paused";
export const PAGE_TAG = "assist-page";

// Batches too large for one relay message arrive as string pieces (see the SDK's mirror.js).
export class ChunkJoiner {
  constructor() {
    this.parts = new Map();
  }

  // One relayed batch → the rrweb events it carries (none while a chunked batch is incomplete).
  events(batch) {
    const out = [];
    for (const item of batch || []) {
      if (!item || typeof item !== "object") continue;
      if (!item.assistChunk) { out.push(item); continue; }
      const { id, index, total, data } = item.assistChunk;
      const parts = this.parts.get(id) || [];
      parts[index] = data;
      this.parts.set(id, parts);
      if (parts.filter((p) => p !== undefined).length === total) {
        this.parts.delete(id);
        out.push(...JSON.parse(parts.join("")));
      }
    }
    return out;
  }
}

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
    this.viewport = null;
  }

  push(batch) {
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
    }
    if (event.type === EventType.FullSnapshot) this.onStatus("live");
    if (!this.replayer) return;
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
