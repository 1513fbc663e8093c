// The screen-to-screen mirror: rrweb records the page's DOM, masked (masking.js), and the
// batches go through the signaling server to the agent. Nothing is recorded while sharing is
// off or while a page marked data-assist-sensitive is showing.
import { record, EventType } from "rrweb";
import { recordOptions, scrubEvents, watchFields } from "./masking.js";

const FLUSH_MS = 0; // next task: batches one burst of mutations, adds no visible delay
// Under the server's 600 kB relay cap even when every character is 3-byte UTF-8 (Chinese).
const CHUNK_CHARS = 120_000;
const MAX_EVENTS = 400; // the protocol allows 500 events per batch
// A fresh full snapshot after this many changes: the agent's replay starts over from it, so the
// memory a live replay holds stays bounded however long the session runs.
const CHECKOUT_EVERY = 5000;
export const SENSITIVE_SELECTOR = "[data-assist-sensitive]";

export class Mirror {
  // send(events) delivers one batch; it is called in order and awaited. page() names the
  // screen the customer is on, so the agent knows the step without reading the mirror.
  constructor(send, page = () => location.hash || location.pathname) {
    this.send = send;
    this.page = page;
    this.notePage = () => this.announcePage();
    this.stopRecording = null;
    this.batch = [];
    this.timer = null;
    this.sharing = false;
    this.paused = false;
    this.queue = Promise.resolve();
    this.watch = new MutationObserver(() => this.checkSensitive());
    // The app names each step in its title once the screen has rendered, which may be long
    // after the navigation on a slow phone: announce the step again when the title changes.
    this.titleWatch = new MutationObserver(this.notePage);
    // From the start, not only while sharing: a password field turned into a text field by a
    // "show password" button before sharing began must still be known as a password.
    this.unwatchFields = watchFields();
  }

  start() {
    this.sharing = true;
    window.addEventListener("hashchange", this.notePage);
    window.addEventListener("popstate", this.notePage);
    this.watch.observe(document.documentElement, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["data-assist-sensitive"],
    });
    this.checkSensitive(true);
    const title = document.querySelector("title");
    if (title) this.titleWatch.observe(title, { childList: true, characterData: true, subtree: true });
  }

  stop() {
    this.sharing = false;
    window.removeEventListener("hashchange", this.notePage);
    window.removeEventListener("popstate", this.notePage);
    this.watch.disconnect();
    this.titleWatch.disconnect();
    this.halt();
    this.batch = [];
  }

  destroy() {
    this.stop();
    this.unwatchFields();
  }

  // A fresh full snapshot, e.g. for an agent who just joined or came back.
  restart() {
    if (!this.sharing || this.paused) return;
    this.halt();
    this.begin();
  }

  checkSensitive(force = false) {
    if (!this.sharing) return;
    const sensitive = !!document.querySelector(SENSITIVE_SELECTOR);
    if (!force && sensitive === this.paused) return;
    this.paused = sensitive;
    this.halt();
    if (sensitive) {
      // Drop anything recorded but unsent: it may already show the sensitive page.
      this.batch = [];
      this.enqueue([{ type: EventType.Custom, timestamp: Date.now(), data: { tag: "assist-paused", payload: {} } }]);
    } else {
      this.begin();
    }
  }

  begin() {
    this.stopRecording = record({
      emit: (event) => this.collect(event),
      ...recordOptions(),
      checkoutEveryNth: CHECKOUT_EVERY,
      sampling: { mousemove: 50, scroll: 100 },
      recordCanvas: false,
      collectFonts: false,
      inlineImages: false,
    });
    this.announcePage();
  }

  announcePage() {
    if (!this.stopRecording) return;
    // After the app has rendered the new screen (its title names the step).
    setTimeout(() => {
      if (this.stopRecording) record.addCustomEvent("assist-page", { page: String(this.page()).slice(0, 200), title: document.title.slice(0, 200) });
    }, 50);
  }

  halt() {
    if (this.stopRecording) {
      this.stopRecording();
      this.stopRecording = null;
    }
    this.flush();
  }

  collect(event) {
    if (!this.sharing || this.paused) return;
    this.batch.push(event);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.batch.length) return;
    const events = this.batch;
    this.batch = [];
    this.enqueue(events);
  }

  enqueue(events) {
    const clean = scrubEvents(events, record.mirror);
    for (const part of chunk(clean)) {
      this.queue = this.queue.then(() => this.send(part)).catch(() => {});
    }
  }
}

// A batch over the relay cap (a full snapshot of a large page) travels as string pieces that
// the agent's side joins back together before replaying.
function chunk(events) {
  if (events.length > MAX_EVENTS) {
    const parts = [];
    for (let i = 0; i < events.length; i += MAX_EVENTS) parts.push(...chunk(events.slice(i, i + MAX_EVENTS)));
    return parts;
  }
  const text = JSON.stringify(events);
  if (text.length <= CHUNK_CHARS) return [events];
  const id = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const total = Math.ceil(text.length / CHUNK_CHARS);
  const parts = [];
  for (let i = 0; i < total; i++) {
    parts.push([{ assistChunk: { id, index: i, total, data: text.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS) } }]);
  }
  return parts;
}
