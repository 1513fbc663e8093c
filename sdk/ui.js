// What the customer sees of the SDK: the waiting panel, the agent's identity with the consent
// question, the sharing banner with one-tap stop, call controls and short notices. It lives in
// #assist-sdk, which is never mirrored. Built with DOM calls only (no HTML strings).
import { translate } from "./messages.js";

const STYLE = `
#assist-sdk { font-family: system-ui, "Noto Sans CJK SC", sans-serif; color: #111; }
#assist-sdk .assist-panel { position: fixed; left: 12px; right: 12px; bottom: 12px; z-index: 2147483000; overflow-y: auto; box-sizing: border-box;
  background: #fff; border: 2px solid #0b4f9c; border-radius: 14px; padding: 16px; box-shadow: 0 8px 30px rgba(0,0,0,.25); }
#assist-sdk .assist-panel h2 { margin: 0 0 8px; font-size: 1.25rem; }
#assist-sdk .assist-panel p { margin: 6px 0; font-size: 1rem; line-height: 1.5; }
#assist-sdk .assist-big, #assist-sdk .assist-panel p.assist-big { font-size: 1.6rem; font-weight: 700; color: #0b4f9c; }
#assist-sdk .assist-code, #assist-sdk .assist-panel p.assist-code { font-size: 2.2rem; letter-spacing: .4em; font-weight: 800; color: #111; }
#assist-sdk .assist-actions { display: flex; gap: 10px; margin-top: 12px; flex-wrap: wrap; }
#assist-sdk button { font: inherit; font-size: 1rem; min-height: 48px; min-width: 48px; padding: 8px 16px;
  border-radius: 10px; border: 2px solid #0b4f9c; background: #fff; color: #0b4f9c; cursor: pointer; }
#assist-sdk button.assist-primary { background: #0b4f9c; color: #fff; }
#assist-sdk button.assist-danger { background: #b3261e; border-color: #b3261e; color: #fff; }
#assist-sdk button:focus-visible { outline: 3px solid #f5a623; outline-offset: 2px; }
#assist-sdk .assist-banner { position: fixed; top: 0; left: 0; right: 0; z-index: 2147483001; display: flex;
  align-items: center; gap: 6px; flex-wrap: wrap; padding: 4px 8px; background: #b3261e; color: #fff; font-weight: 700; }
#assist-sdk .assist-banner.assist-stopped { background: #444; }
#assist-sdk .assist-banner.assist-away { background: #5c4400; }
#assist-sdk .assist-banner.assist-call { background: #0b4f9c; }
#assist-sdk .assist-banner.assist-call button { color: #0b4f9c; }
#assist-sdk .assist-banner span { flex: 1 1 0; min-width: 0; line-height: 1.3; }
#assist-sdk .assist-banner .assist-dot { flex: 0 0 auto; width: 10px; height: 10px; border-radius: 50%; background: #fff; }
#assist-sdk .assist-banner .assist-banner-actions { flex: 1 1 100%; display: flex; gap: 6px; }
#assist-sdk .assist-banner button { flex: 1 1 0; background: #fff; color: #b3261e; border-color: #fff; min-height: 44px; padding: 2px 6px; }
#assist-sdk .assist-banner.assist-stopped button, #assist-sdk .assist-banner.assist-away button { color: #222; }
#assist-sdk .assist-panel textarea { font: inherit; width: 100%; box-sizing: border-box; min-height: 3em; padding: 8px;
  border: 2px solid #555; border-radius: 8px; }
#assist-sdk .assist-panel label { display: block; margin-top: 8px; }
#assist-sdk button[aria-pressed="true"] { background: #0b4f9c; color: #fff; }
#assist-sdk a.assist-link { display: inline-flex; align-items: center; min-height: 48px; padding: 8px 16px; border-radius: 10px;
  border: 2px solid #0b4f9c; color: #0b4f9c; font-weight: 700; text-decoration: none; box-sizing: border-box; }
#assist-sdk .assist-notice { position: fixed; left: 12px; right: 12px; top: 64px; z-index: 2147483002;
  background: #222; color: #fff; padding: 12px 16px; border-radius: 10px; font-size: 1rem; }
#assist-sdk .assist-dialog-backdrop { position: fixed; inset: 0; z-index: 2147483003; background: rgba(0,0,0,.55);
  display: flex; align-items: flex-end; }
#assist-sdk .assist-dialog-backdrop .assist-panel { position: static; margin: 12px; flex: 1; }
#assist-sdk .assist-shield { position: fixed; inset: 0; z-index: 2147483003; background: transparent; }
#assist-sdk .assist-overlay { position: fixed; inset: 0; pointer-events: none; z-index: 2147482000; }
#assist-sdk .assist-drawing { position: absolute; inset: 0; width: 100%; height: 100%; }
#assist-sdk .assist-drawing polyline { fill: none; stroke: #e4007c; stroke-width: 4; stroke-linecap: round; stroke-linejoin: round; }
#assist-sdk .assist-pointer { position: absolute; width: 22px; height: 22px; margin: -11px 0 0 -11px; border-radius: 50%;
  background: rgba(228,0,124,.85); box-shadow: 0 0 0 6px rgba(228,0,124,.3); }
#assist-sdk .assist-highlight { position: absolute; border: 4px solid #e4007c; border-radius: 10px;
  box-shadow: 0 0 0 4000px rgba(0,0,0,.15); }
#assist-sdk .assist-caption { position: absolute; left: 0; top: calc(100% + 8px); background: #e4007c; color: #fff;
  padding: 6px 10px; border-radius: 8px; font-size: 1rem; font-weight: 700; max-width: 80vw; white-space: normal; }
#assist-sdk .assist-highlight.assist-above .assist-caption { top: auto; bottom: calc(100% + 8px); }
#assist-sdk .assist-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
#assist-sdk.assist-elderly .assist-panel p, #assist-sdk.assist-elderly button, #assist-sdk.assist-elderly .assist-banner,
#assist-sdk.assist-elderly .assist-notice { font-size: 24px; }
#assist-sdk.assist-elderly .assist-panel h2 { font-size: 28px; }
#assist-sdk.assist-elderly button, #assist-sdk.assist-elderly a.assist-link { min-height: 60px; min-width: 60px; }
#assist-sdk.assist-elderly a.assist-link, #assist-sdk.assist-elderly .assist-panel label,
#assist-sdk.assist-elderly .assist-panel textarea { font-size: 24px; }
#assist-sdk.assist-elderly .assist-caption { font-size: 28px; }
#assist-sdk.assist-elderly .assist-big, #assist-sdk.assist-elderly .assist-panel p.assist-big { font-size: 2rem; }
#assist-sdk.assist-elderly .assist-panel p.assist-code { font-size: 2.6rem; }
`;

const SHIELD_MS = 600; // longer than a double tap's second touch

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "on") Object.entries(v).forEach(([evt, fn]) => node.addEventListener(evt, fn));
    else if (k.startsWith("aria-") || k === "role" || k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// How much of the bottom of the screen the page's own fixed bars take (0 when it has none).
function hostBottomBars(own) {
  let lift = 0;
  for (const node of document.body.querySelectorAll("*")) {
    if (own.contains(node)) continue;
    const style = getComputedStyle(node);
    if (style.position !== "fixed" && style.position !== "sticky") continue;
    const r = node.getBoundingClientRect();
    if (r.height === 0 || r.width === 0 || style.visibility === "hidden") continue;
    if (r.bottom >= window.innerHeight - 1 && r.top > window.innerHeight / 2) lift = Math.max(lift, window.innerHeight - r.top);
  }
  return lift;
}

export class Ui {
  constructor() {
    this.language = "zh";
    this.root = el("div", { id: "assist-sdk", "data-assist-block": "" });
    this.root.append(el("style", { textContent: STYLE }));
    this.live = el("div", { class: "assist-sr", role: "status", "aria-live": "polite" });
    this.panelSlot = el("div");
    this.bannerSlot = el("div");
    this.noticeSlot = el("div");
    this.root.append(this.live, this.bannerSlot, this.panelSlot, this.noticeSlot);
    document.body.append(this.root);
    this.noticeTimer = null;
    this.returnFocus = null;
  }

  t(key, vars) {
    return translate(this.language, key, vars);
  }

  configure({ edition, language }) {
    if (language) this.language = language;
    this.root.classList.toggle("assist-elderly", edition === "elderly");
  }

  announce(text) {
    this.live.textContent = "";
    setTimeout(() => (this.live.textContent = text), 30);
  }

  notice(text, ms = 4000) {
    this.noticeSlot.replaceChildren(el("div", { class: "assist-notice", role: "status" }, text));
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => this.noticeSlot.replaceChildren(), ms);
  }

  clearNotice() {
    clearTimeout(this.noticeTimer);
    this.noticeSlot.replaceChildren();
  }

  clearPanel() {
    this.panelSlot.replaceChildren();
    this.releaseBottom();
  }

  button(action, text, onClick, cls = "") {
    return el("button", { type: "button", class: cls, "data-assist-action": action, on: { click: onClick } }, text);
  }

  hotline(number) {
    return number ? el("a", { class: "assist-link", href: `tel:${number.replace(/[^0-9+]/g, "")}`, "data-assist-action": "hotline" },
      this.t("hotlineButton", { hotline: number })) : null;
  }

  // One panel: a heading, lines of text, a row of actions; read out when it first appears.
  showPanel(id, title, lines, actions, announce = true) {
    const panel = el("section", { class: "assist-panel", "aria-labelledby": `assist-${id}-title`, "data-assist-panel": id },
      el("h2", { id: `assist-${id}-title` }, title), ...lines,
      el("div", { class: "assist-actions" }, ...actions));
    this.panelSlot.replaceChildren(panel);
    this.reserveBottom(panel);
    // One sentence after another: a piece that already ends a sentence gets no second stop.
    if (announce) this.announce([title, ...lines.map((line) => line.textContent)].filter(Boolean)
      .map((text) => (/[.。!！?？…]$/.test(text) ? text : `${text}.`)).join(" "));
    return panel;
  }

  showWaiting({ position, eta_s: eta, long_wait: longWait, hotline }, onCancel, onCallback) {
    const ahead = Math.max(0, (position || 1) - 1);
    const wait = eta === null || eta === undefined ? this.t("etaUnknown") : this.t("eta", { minutes: Math.max(1, Math.ceil(eta / 60)) });
    const lines = [el("p", { class: "assist-big" }, ahead ? this.t("position", { ahead }) : this.t("positionFirst")), el("p", {}, wait)];
    const actions = [this.button("cancel", this.t("cancel"), onCancel)];
    if (longWait) {
      lines.push(el("p", { "data-assist-long-wait": "" }, this.t("longWait")));
      actions.unshift(this.button("callback", this.t("callbackButton"), onCallback, "assist-primary"), this.hotline(hotline));
    }
    this.showPanel("wait", this.t("waiting"), lines, actions.filter(Boolean));
  }

  showUnstaffed({ language, hotline }, onCallback, onClose) {
    const lines = [el("p", { class: "assist-big" }, this.t("unstaffed", { language: this.t(`language_${language}`) })),
      el("p", {}, this.t("unstaffedChoice"))];
    this.showPanel("unstaffed", this.t("unstaffedTitle"), lines, [
      this.button("callback", this.t("callbackButton"), onCallback, "assist-primary"), this.hotline(hotline),
      this.button("close", this.t("close"), onClose)].filter(Boolean));
  }

  showCallback(onCancel) {
    this.showPanel("callback", this.t("callbackTitle"), [el("p", {}, this.t("callbackText"))],
      [this.button("cancel", this.t("cancelCallback"), onCancel)]);
  }

  showConnecting(onCancel) {
    this.showPanel("wait", this.t("connecting"), [], [this.button("cancel", this.t("cancel"), onCancel)]);
  }

  // After a session: what happened, a rating (optional), and a way back to an agent.
  showEnded({ reason, rated }, onRate, onHelpAgain, onClose) {
    const why = { dropped: "endedDropped", agent_ended: "endedAgent", supervisor_ended: "endedAgent", customer_ended: "endedSelf" }[reason];
    const lines = why ? [el("p", {}, this.t(why))] : [];
    if (rated) lines.push(el("p", { "data-assist-rated": "" }, this.t("rated")));
    else {
      let choice = null;
      const group = el("div", { class: "assist-actions", role: "group", "aria-label": this.t("rateQuestion") });
      const comment = el("textarea", { id: "assist-rate-comment", maxLength: 500 });
      ["satisfied", "neutral", "unsatisfied"].forEach((rating) => {
        const b = el("button", { type: "button", "aria-pressed": "false", "data-assist-rating": rating, on: { click: () => {
          choice = rating;
          group.querySelectorAll("button").forEach((other) => other.setAttribute("aria-pressed", String(other === b)));
        } } }, this.t(rating));
        group.append(b);
      });
      lines.push(el("p", {}, this.t("rateQuestion")), group,
        el("label", { htmlFor: "assist-rate-comment" }, this.t("rateComment")), comment,
        el("div", { class: "assist-actions" }, this.button("rate", this.t("rateSend"), () => choice && onRate(choice, comment.value.slice(0, 500)), "assist-primary")));
    }
    this.showPanel("ended", this.t("endedTitle"), lines, [
      this.button("help-again", this.t("helpAgain"), onHelpAgain), this.button("close", this.t("close"), onClose)], !rated);
  }

  showConsent({ agent, code }, onAgree, onDecline) {
    this.returnFocus = document.activeElement;
    const agree = el("button", { type: "button", class: "assist-primary", "data-assist-action": "agree", on: { click: onAgree } }, this.t("agree"));
    const decline = el("button", { type: "button", "data-assist-action": "decline", on: { click: onDecline } }, this.t("decline"));
    const dialog = el("section", { class: "assist-panel", role: "dialog", "aria-modal": "true",
      "aria-labelledby": "assist-consent-title", "aria-describedby": "assist-consent-text" },
      el("h2", { id: "assist-consent-title" }, this.t("identityTitle")),
      el("p", { "data-assist-agent": "" }, this.t("identity", { name: agent.name, badge: agent.badge })),
      el("p", {}, this.t("code")),
      el("p", { class: "assist-code", "data-assist-code": "" }, code),
      el("p", {}, this.t("codeHint")),
      el("p", { id: "assist-consent-text" }, this.t("consentText")),
      el("div", { class: "assist-actions" }, agree, decline));
    // Keep Tab inside the dialog until the customer answers.
    dialog.addEventListener("keydown", (e) => {
      if (e.key !== "Tab") return;
      const first = agree, last = decline;
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    });
    this.releaseBottom(); // a modal, over everything until answered
    this.panelSlot.replaceChildren(el("div", { class: "assist-dialog-backdrop" }, dialog));
    agree.focus();
  }

  closeDialog() {
    this.clearPanel();
    // A double tap on an answer must not land on the page under the dialog (it took an elderly
    // customer off the transfer they were being helped with): a clear shield takes taps a moment.
    const shield = el("div", { class: "assist-shield", "aria-hidden": "true" });
    this.root.append(shield);
    setTimeout(() => shield.remove(), SHIELD_MS);
    if (this.returnFocus && this.returnFocus.focus) this.returnFocus.focus();
    this.returnFocus = null;
  }

  // The indicator at the top of the screen: compact, and the page below moves down by its
  // height, so it never covers the host app's header (back button, heading) or controls.
  // On the call, before sharing: who is talking and the code they will read aloud.
  showBanner({ sharing, muted, agentAway, call }, actions) {
    const label = agentAway ? this.t("nobodyWatching") : call ? this.t("onCall", call)
      : sharing ? this.t("sharing") : this.t("stopped");
    const buttons = [];
    if (call) { /* nothing shared yet: the agent asks first */ } else if (sharing) buttons.push(el("button", { type: "button", "data-assist-action": "stop", on: { click: actions.stop } }, this.t("stopSharing")));
    else buttons.push(el("button", { type: "button", "data-assist-action": "share", on: { click: actions.share } }, this.t("resumeSharing")));
    buttons.push(el("button", { type: "button", "aria-pressed": String(!!muted), "data-assist-action": "mute", on: { click: actions.mute } },
      muted ? this.t("unmute") : this.t("mute")));
    buttons.push(el("button", { type: "button", class: "assist-danger", "data-assist-action": "hangup", on: { click: actions.hangUp } }, this.t("hangUp")));
    const children = [el("i", { class: "assist-dot", "aria-hidden": "true" }), el("span", { "data-assist-status": "" }, label),
      el("div", { class: "assist-banner-actions" }, ...buttons)];
    const look = agentAway ? " assist-away" : call ? " assist-call" : sharing ? "" : " assist-stopped";
    const banner = el("div", { class: `assist-banner${look}`, role: "region", "aria-label": this.t("title") }, ...children);
    this.bannerSlot.replaceChildren(banner);
    this.reserveTop(banner);
  }

  // The page moves down by the indicator's height, and scrolling to a field or a heading stops
  // below it (scroll-padding), so nothing the app shows ends up underneath.
  reserveTop(banner) {
    if (this.reserved === undefined) {
      this.reserved = [document.body.style.paddingTop, document.documentElement.style.scrollPaddingTop];
    }
    const reserve = (height) => {
      document.body.style.paddingTop = `${height}px`;
      document.documentElement.style.scrollPaddingTop = `${height + 8}px`;
    };
    if (!this.bannerSize) {
      this.bannerSize = new ResizeObserver(() => {
        const current = this.bannerSlot.firstChild;
        if (current) reserve(current.getBoundingClientRect().height);
      });
    }
    this.bannerSize.disconnect();
    this.bannerSize.observe(banner);
    reserve(banner.getBoundingClientRect().height);
  }

  // A panel at the bottom sits above the page's own bottom bars (a tab bar, the elderly
  // edition's dock: anything fixed to the bottom edge), and the page gets room below its content
  // (padding, scroll-padding) for the panel, so no control of the app ends up underneath.
  reserveBottom(panel) {
    if (this.reservedBottom === undefined) {
      this.reservedBottom = [document.body.style.paddingBottom, document.documentElement.style.scrollPaddingBottom];
    }
    const place = () => {
      const current = this.panelSlot.querySelector(":scope > .assist-panel");
      if (!current) return;
      const bars = hostBottomBars(this.root);
      const top = this.bannerSlot.firstChild ? this.bannerSlot.firstChild.getBoundingClientRect().height : 0;
      current.style.bottom = `${bars + 12}px`;
      current.style.maxHeight = `${Math.max(120, window.innerHeight - bars - top - 24)}px`;
      const height = current.getBoundingClientRect().height;
      document.body.style.paddingBottom = `${height + 12}px`;
      document.documentElement.style.scrollPaddingBottom = `${bars + height + 24}px`;
    };
    if (!this.panelSize) {
      const later = () => requestAnimationFrame(place);
      this.panelSize = new ResizeObserver(later);
      // The app changes its bars as it moves between pages (its own mutations, never ours).
      this.pageChanges = new MutationObserver((records) => {
        if (records.some((r) => !this.root.contains(r.target))) later();
      });
      this.onResize = later;
    }
    this.panelSize.disconnect();
    this.panelSize.observe(panel);
    this.pageChanges.disconnect();
    this.pageChanges.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["hidden", "class"] });
    window.addEventListener("resize", this.onResize);
    place();
  }

  releaseBottom() {
    if (this.reservedBottom === undefined) return;
    this.panelSize.disconnect();
    this.pageChanges.disconnect();
    window.removeEventListener("resize", this.onResize);
    [document.body.style.paddingBottom, document.documentElement.style.scrollPaddingBottom] = this.reservedBottom;
    this.reservedBottom = undefined;
  }

  clearBanner() {
    if (!this.bannerSlot.firstChild) return;
    this.bannerSlot.replaceChildren();
    if (this.bannerSize) this.bannerSize.disconnect();
    [document.body.style.paddingTop, document.documentElement.style.scrollPaddingTop] = this.reserved || ["", ""];
    this.reserved = undefined;
  }

  destroy() {
    this.clearBanner();
    this.releaseBottom();
    this.root.remove();
  }
}
