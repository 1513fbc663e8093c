// The agent console: sign in, go available, take an offer, read the code aloud, watch the
// customer's masked mirror (rrweb replay in a sandboxed iframe), guide with pointer, highlight
// and pen, talk over WebRTC, end and wrap up. It has no way to act on the customer's device.
import { call, connect, sequence } from "../../sdk/protocol.js";
import { Call } from "../../sdk/call.js";
import { LiveMirror, fit } from "./replay.js";
import { CATALOGS, createI18n } from "./i18n.js";
import { currentToken, signIn, signOut } from "./signin.js";
import { OUTCOME_FOR_END, createWords, tickingLine } from "./words.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "assist.agent.token";
const POINTER_EVERY_MS = 50;
const SVG = "http://www.w3.org/2000/svg";

// Every word from the catalogs, in the agent's language (?lang=, or the picker in the top bar).
const i18n = createI18n();
const { t } = i18n;
const { edition, spoken, named, pageInWords, person, requestInWords, requestLine, waited } = createWords(t);
i18n.apply();
document.title = t("agent.pageTitle");
$("lang").value = i18n.lang;
$("lang").addEventListener("change", () => i18n.choose($("lang").value));

const st = {
  token: null, socket: null, offer: null, offerTimer: null,
  session: null, mirror: null, tool: "pointer", call: null, muted: false,
  seq: { annotation: sequence(), rtc: sequence() }, iceServers: [], lastPointer: 0, drawing: null,
  wrapUp: null, scale: 1, feeds: new Map(), monitorSeq: sequence(),
  coaching: new Map(), coachVoices: new Map(), mix: null, // supervisors heard: id → mode, id → stream
  get mirrorSeen() { return this.mirror ? this.mirror.applied : 0; },
};
window.assistConsole = st; // for tests and debugging: read-only use

// ---------------------------------------------------------------- sign-in
signIn({ role: "agent", tokenKey: TOKEN_KEY, wrongRole: t("agent.login.wrongRole"), failed: t("login.failed"), onToken: start,
  beforeSignOut: leaveTheCall });

// Signing out in a call ends it first, once the agent confirms: the customer is told the session
// ended now, instead of watching "the agent is away" until a grace window runs out.
async function leaveTheCall() {
  if (!st.session || !st.socket) return true;
  if (!window.confirm(t("agent.signOutInCall"))) return false;
  await call(st.socket, "end_session", { session_id: st.session.session_id }).catch(() => {});
  return true;
}

function start(token) {
  st.token = token;
  st.socket = connect(() => currentToken(TOKEN_KEY) || token, { onRefused: () => signOut(TOKEN_KEY) });
  wire(st.socket);
}

// ---------------------------------------------------------------- server events
function wire(socket) {
  socket.on("connect", async () => {
    const reply = await call(socket, "sync", {});
    st.iceServers = reply.ice_servers || [];
    st.recordAudio = reply.record_audio === true;
    $("who").textContent = t("sup.who", { name: reply.display_name, user: reply.user });
    const view = reply.view;
    showState(view.state);
    renderQueue({ waiting: view.queue, total: view.queue_total ?? view.queue.length });
    if (view.offer) showOffer(view.offer);
    if (view.sessions.length) openSession(view.sessions[0]);
    else if (view.wrap_ups.length) {
      const about = (view.wrap_up_about || {})[view.wrap_ups[0]] || {};
      showWrapUp(view.wrap_ups[0], about.reason, about.customer_name);
    }
  });
  socket.on("agent_state", (msg) => showState(msg.state));
  socket.on("queue", renderQueue);
  socket.on("offer", showOffer);
  socket.on("offer_revoked", (msg) => {
    if (!st.offer || st.offer.offer_id !== msg.offer_id) return;
    hideOffer();
    // An offer left to ring out sets the agent on a break (so the next customer is not offered
    // to nobody): say so, or the desk goes quiet with no reason given.
    if (msg.reason === "timeout") $("desk-message").textContent = t("agent.missedOffer");
  });
  socket.on("session_started", async (msg) => {
    openSession(msg);
    // TURN credentials are handed out only to a party of a live session: ask for them now.
    try { st.iceServers = (await call(socket, "sync", {})).ice_servers || st.iceServers; } catch { /* STUN only */ }
  });
  socket.on("session_state", (msg) => {
    if (!st.session || msg.session_id !== st.session.session_id) return;
    st.session.state = msg.state;
    if (msg.state === "sharing") $("session-message").textContent = "";
    // The call is recorded from the customer's consent on (the server refuses it before).
    if (msg.state === "sharing" && st.session.callState === "connected") recordCallAudio().catch(() => {});
    renderSession();
  });
  socket.on("customer_step", (msg) => {
    if (!st.session || msg.session_id !== st.session.session_id || msg.step !== "scam_warning") return;
    $("ctx-alert").textContent = t("agent.alert.scam");
    $("ctx-alert").hidden = false;
    refit(); // the mirror makes room: the alert and the whole phone stay in view
  });
  socket.on("share_declined", (msg) => {
    if (!st.session || msg.session_id !== st.session.session_id) return;
    $("session-message").textContent = t("agent.share.declined");
    st.session.asked = false;
    renderSession();
  });
  socket.on("session_ended", (msg) => {
    if (!st.session || msg.session_id !== st.session.session_id) return;
    const about = st.session.customer || {};
    closeSession();
    showWrapUp(msg.session_id, msg.reason, about.customer_name);
  });
  socket.on("session_transferred", (msg) => {
    if (!st.session || msg.session_id !== st.session.session_id) return;
    const about = st.session.customer || {};
    closeSession();
    showWrapUp(msg.session_id, "transferred", about.customer_name);
  });
  socket.on("peer_status", (msg) => {
    if (!st.session || msg.session_id !== st.session.session_id || msg.role !== "customer") return;
    st.session.peer = msg.status === "back" ? null : t("agent.peer.lost");
    renderSession();
  });
  socket.on("mirror", (msg) => {
    if (st.session && msg.session_id === st.session.session_id) replay(msg.events, msg.seq);
  });
  socket.on("whisper", (msg) => {
    if (!st.session || msg.session_id !== st.session.session_id) return;
    const li = document.createElement("li");
    li.textContent = t("agent.whisper.line", { name: msg.name, text: msg.text });
    $("whispers").append(li);
    $("whisper-box").hidden = false; // above the customer's screen, where the agent is looking
    refit();
  });
  socket.on("supervisor_joined", (msg) => { st.coaching.set(msg.supervisor, msg.mode); mixCall(); });
  socket.on("supervisor_left", (msg) => { st.coaching.delete(msg.supervisor); mixCall(); });
  socket.on("monitor_signal", (msg) => {
    if (st.session && msg.session_id === st.session.session_id) forwardToSupervisor(msg).catch(() => {});
  });
  socket.on("transfer_failed", (msg) => {
    if (st.session && msg.session_id === st.session.session_id) {
      const reason = named("agent.transfer.failed", msg.reason);
      $("session-message").textContent = t("agent.transfer.failed", {
        reason: reason === msg.reason ? t("agent.transfer.failed.other") : reason });
    }
  });
  socket.on("rtc_signal", (msg) => {
    if (st.session && msg.session_id === st.session.session_id && st.call) st.call.handle(msg).catch(() => {});
  });
}

function showState(state) {
  $("agent-state").textContent = named("agent.state", state);
  document.body.dataset.agentState = state;
  // In a call or a wrap-up the agent's state is the session's: the buttons would do nothing.
  const engaged = state === "busy" || state === "wrap_up";
  $("go-available").disabled = engaged;
  $("go-away").disabled = engaged;
}

let showQueue = null;
function renderQueue({ waiting, total }) {
  $("queue-total").textContent = t("queue.total", { n: total });
  showQueue ??= tickingLine($("queue-list"), requestLine);
  showQueue(waiting);
}

// ---------------------------------------------------------------- offers
// The offer in words, ticking: "张三 · 转账 · 幸福生活版 · 普通话 · 已等待 42 秒".
function showOffer(offer) {
  st.offer = offer;
  const r = offer.request;
  const shownAt = Date.now();
  const draw = () => {
    const since = (Date.now() - shownAt) / 1000;
    $("offer-detail").textContent = offer.kind === "transfer"
      ? t("agent.offer.transfer", { from: offer.from_agent, customer: person(r.customer_name) || t("agent.customer"), request: requestInWords(r) })
      : `${person(r.customer_name)} · ${requestInWords(r)} · ${waited((r.waited_s || 0) + since)}`;
    $("offer-page").textContent = t("agent.offer.page", { page: pageInWords(r.page) });
    $("offer-countdown").textContent = t("agent.offer.left", { n: Math.max(0, Math.round(offer.expires_in_s - since)) });
  };
  draw();
  $("offer-view").hidden = false;
  ring();
  clearInterval(st.offerTimer);
  st.offerTimer = setInterval(draw, 1000);
  $("accept-offer").focus();
}

function hideOffer() {
  st.offer = null;
  clearInterval(st.offerTimer);
  $("offer-view").hidden = true;
}

$("accept-offer").addEventListener("click", async () => {
  if (!st.offer) return;
  const id = st.offer.offer_id;
  hideOffer();
  await call(st.socket, "offer_accept", { offer_id: id }).catch((e) => alert(e.message));
});
$("decline-offer").addEventListener("click", async () => {
  if (!st.offer) return;
  const id = st.offer.offer_id;
  hideOffer();
  await call(st.socket, "offer_decline", { offer_id: id }).catch(() => {});
});
const setState = (state) => call(st.socket, "agent_state", { state })
  .catch((e) => { $("desk-message").textContent = e.message; });
$("go-available").addEventListener("click", () => {
  $("desk-message").textContent = ""; // (not on the state changing: a ring-out passes through "available")
  setState("available");
});
$("go-away").addEventListener("click", () => setState("away"));

// ---------------------------------------------------------------- the session
// One session at a time on screen; everything in it is drawn from st.session, and
// closeSession() wipes all of it, so nothing of the last customer stays.
function openSession(session) {
  closeSession();
  // Its clock runs from the call's start, also after a reload (elapsed_s, by the server's clock).
  const startedAt = Date.now() - (session.elapsed_s || 0) * 1000;
  st.session = { ...session, startedAt, callState: "idle", page: null, peer: null };
  st.sessionTimer = setInterval(tickSession, 1000);
  st.wrapUp = null;
  $("wrapup-view").hidden = true;
  $("session-view").hidden = false;
  // The caption goes to the customer: its default is in their language, whatever the agent's.
  const says = CATALOGS[(session.customer || {}).language] || CATALOGS[i18n.lang];
  $("caption").value = says["agent.caption.default"];
  renderSession();
  refreshTransferTargets();
  startCall(); // the call first: read the code aloud, then ask to share
  $("session-title").focus?.();
}

function renderSession() {
  const s = st.session;
  const c = s.customer || {};
  $("ctx-customer").textContent = person(c.customer_name) || "";
  $("ctx-edition").textContent = c.edition ? edition(c.edition) : "";
  $("ctx-language").textContent = c.language ? spoken(c.language) : "";
  $("ctx-page").textContent = s.page || pageInWords(c.page);
  $("ctx-code").textContent = s.code;
  $("ctx-state").textContent = s.peer || (c.callback && s.state === "awaiting_consent"
    ? t("agent.share.callback") : named("agent.share", s.state));
  $("ctx-call").textContent = named("agent.call", s.callState);
  $("replay-waiting").textContent = t(s.state === "stopped" ? "agent.waiting.stopped"
    : s.asked ? "agent.waiting.consent" : "agent.waiting.call");
  $("replay-waiting").hidden = s.state === "sharing" && st.mirrorSeen > 0;
  $("end-session").disabled = false;
  $("ask-share").disabled = s.state === "sharing";
  document.body.dataset.sessionState = s.state;
}

// Once a second: time in this session, and the call's quality from WebRTC statistics.
async function tickSession() {
  if (!st.session) return;
  const s = Math.floor((Date.now() - st.session.startedAt) / 1000);
  $("ctx-time").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const pc = st.call && st.call.pc;
  if (!pc || pc.connectionState !== "connected") { $("ctx-quality").textContent = t("agent.quality.none"); return; }
  let rtt = null, lost = 0, received = 0;
  (await pc.getStats()).forEach((r) => {
    if (r.type === "candidate-pair" && r.nominated && r.currentRoundTripTime !== undefined) rtt = r.currentRoundTripTime;
    if (r.type === "inbound-rtp" && r.kind === "audio") { lost += r.packetsLost || 0; received += r.packetsReceived || 0; }
  });
  const loss = received + lost ? lost / (received + lost) : 0;
  const grade = rtt !== null && rtt < 0.15 && loss < 0.02 ? "good" : rtt !== null && rtt < 0.4 && loss < 0.08 ? "fair" : "poor";
  $("ctx-quality").textContent = t("agent.quality.line", { grade: t(`agent.quality.${grade}`),
    rtt: rtt === null ? t("unit.none") : Math.round(rtt * 1000), loss: (loss * 100).toFixed(1) });
  document.body.dataset.callQuality = grade;
}

function closeSession() {
  clearInterval(st.sessionTimer);
  if (st.call) st.call.close();
  st.call = null;
  st.session = null;
  st.feeds.forEach((pc) => pc.close());
  st.feeds.clear();
  st.coachVoices.forEach((v) => v.el.remove());
  st.coachVoices.clear();
  st.coaching.clear();
  if (st.mix) st.mix.close();
  st.mix = null;
  if (st.recorder) st.recorder.close();
  st.recorder = null;
  $("whispers").replaceChildren();
  $("whisper-box").hidden = true;
  $("ctx-alert").hidden = true;
  $("ctx-alert").textContent = "";
  $("session-message").textContent = "";
  for (const id of ["ctx-customer", "ctx-edition", "ctx-language", "ctx-page", "ctx-code", "ctx-state"]) $(id).textContent = "";
  $("ctx-time").textContent = "0:00";
  $("ctx-call").textContent = $("ctx-quality").textContent = "—";
  $("end-session").disabled = true;
  $("session-view").hidden = true;
  clearMarks();
  if (st.mirror) st.mirror.destroy();
  st.mirror = null;
  // The stage was sized to the last customer's phone: empty and unsized again, or the next call
  // shows a black phone frame before anyone shares.
  $("replay-stage").removeAttribute("style");
  $("replay-root").removeAttribute("style");
  for (const key of ["sessionState", "callState", "callQuality"]) delete document.body.dataset[key];
}

// Wrap-up names the session it is about and how it ended; the outcome is preselected from that
// (never "resolved" for a declined or dropped session). Once submitted, the desk is clear.
function showWrapUp(sessionId, reason, customerName) {
  st.wrapUp = sessionId;
  const ended = named("agent.end", reason);
  $("wrapup-about").textContent = `${person(customerName) || t("agent.customer")} · ${ended === reason ? t("agent.end.other") : ended}`;
  $("outcome").value = OUTCOME_FOR_END[reason] || "other";
  $("notes").value = $("session-notes").value;
  $("session-notes").value = "";
  $("wrapup-view").hidden = false;
  $("outcome").focus();
}

$("wrapup-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!st.wrapUp || st.wrappingUp) return; // a double click sends it once
  st.wrappingUp = true;
  try {
    await call(st.socket, "wrap_up", { session_id: st.wrapUp, outcome: $("outcome").value, notes: $("notes").value });
  } catch (error) {
    $("desk-message").textContent = error.message;
    return;
  } finally {
    st.wrappingUp = false;
  }
  $("wrapup-view").hidden = true;
  $("notes").value = $("wrapup-about").textContent = "";
  st.wrapUp = null;
});

$("ask-share").addEventListener("click", async () => {
  if (!st.session) return;
  await call(st.socket, "ask_to_share", { session_id: st.session.session_id })
    .then(() => {
      st.session.asked = true;
      $("session-message").textContent = t("agent.share.asked");
      renderSession();
    })
    .catch((err) => { $("session-message").textContent = err.message; });
});

$("end-session").addEventListener("click", () => {
  if (st.session) call(st.socket, "end_session", { session_id: st.session.session_id }).catch(() => {});
});

// ---------------------------------------------------------------- the mirror
function replay(events, seq) {
  if (!st.mirror) {
    st.mirror = new LiveMirror($("replay-root"), (status) => { $("replay-paused").hidden = status !== "paused"; },
      ({ page, title }) => {
        if (!st.session) return;
        const next = pageInWords(page, title);
        // The customer moved on: their screen dropped the marks made on the last page (the SDK
        // clears them on a route change), so the agent's copy of them goes too.
        if (st.session.page && st.session.page !== next) clearMarks();
        st.session.page = next;
        renderSession();
      });
  }
  const before = st.mirror.viewport;
  st.mirror.push(events, seq);
  if (st.mirror.viewport && st.mirror.viewport !== before) refit();
  if (st.mirror.applied) $("replay-waiting").hidden = true;
}

// The whole phone fits the pane at any screen size: as wide as the pane, as tall as the window.
function refit() {
  if (!st.mirror || !st.mirror.viewport) return;
  const pane = $("replay-stage").parentElement;
  const room = { width: pane.clientWidth - 32, height: window.innerHeight - $("replay-stage").getBoundingClientRect().top - 24 };
  st.scale = fit($("replay-stage"), $("replay-root"), st.mirror.viewport, Math.max(240, room.height), Math.max(160, room.width));
}
window.addEventListener("resize", refit);

function iframe() {
  return st.mirror && st.mirror.iframe();
}

// ---------------------------------------------------------------- guidance
function annotate(payload, target = null) {
  if (!st.session || st.session.state !== "sharing") return;
  mark(payload, target);
  call(st.socket, "annotation", { session_id: st.session.session_id, seq: st.seq.annotation(), ...payload }).catch(() => {});
}

// The agent sees their own guidance on the mirror, where the customer sees it. Marks are placed
// in shares of the stage, so they stay on their spot when the window (and the mirror) resizes.
function mark(payload, target) {
  const layer = $("agent-marks");
  const stage = $("replay-stage");
  const pct = (share) => `${share * 100}%`;
  if (payload.kind === "clear") return clearMarks();
  if (payload.kind === "pointer") {
    let dot = layer.querySelector(".mark-pointer");
    if (!dot) layer.append(dot = Object.assign(document.createElement("div"), { className: "mark-pointer" }));
    Object.assign(dot.style, { left: pct(payload.point.x), top: pct(payload.point.y) });
  } else if (payload.kind === "highlight" && target) {
    layer.querySelectorAll(".mark-highlight").forEach((old) => old.remove());
    const r = target.getBoundingClientRect();
    const across = (v) => pct((v * st.scale) / stage.clientWidth);
    const down = (v) => pct((v * st.scale) / stage.clientHeight);
    const box = Object.assign(document.createElement("div"), { className: "mark-highlight" });
    Object.assign(box.style, { left: `calc(${across(r.left)} - 4px)`, top: `calc(${down(r.top)} - 4px)`,
                               width: `calc(${across(r.width)} + 8px)`, height: `calc(${down(r.height)} + 8px)` });
    layer.append(box);
  } else if (payload.kind === "draw") {
    let svg = layer.querySelector("svg");
    if (!svg) {
      layer.append(svg = document.createElementNS(SVG, "svg"));
      svg.setAttribute("viewBox", "0 0 1 1");
      svg.setAttribute("preserveAspectRatio", "none");
    }
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", payload.path.map((p) => `${p.x},${p.y}`).join(" "));
    svg.append(line);
  }
}

function clearMarks() {
  $("agent-marks").replaceChildren();
}

function fraction(e) {
  const frame = iframe();
  if (!frame) return null;
  const r = frame.getBoundingClientRect();
  const x = (e.clientX - r.left) / r.width;
  const y = (e.clientY - r.top) / r.height;
  if (x < 0 || x > 1 || y < 0 || y > 1) return null;
  return { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 };
}

// A CSS selector for the replayed element under the agent's click: by id when it has one,
// else by its position among siblings, so the customer's page finds the same element.
function selectorFor(el) {
  const parts = [];
  while (el && el.nodeType === 1 && el.tagName !== "HTML") {
    if (el.id) { parts.unshift(`#${CSS.escape(el.id)}`); break; }
    const tag = el.tagName.toLowerCase();
    const same = [...el.parentElement.children].filter((c) => c.tagName === el.tagName);
    parts.unshift(same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(el) + 1})` : tag);
    el = el.parentElement;
  }
  return parts.join(" > ");
}

const input = $("replay-input");
input.addEventListener("mousemove", (e) => {
  const p = fraction(e);
  if (!p) return;
  if (st.tool === "draw" && st.drawing) {
    if (st.drawing.length < 500) st.drawing.push(p);
  } else if (st.tool === "pointer" && Date.now() - st.lastPointer >= POINTER_EVERY_MS) {
    st.lastPointer = Date.now();
    annotate({ kind: "pointer", point: p });
  }
});
input.addEventListener("mousedown", (e) => {
  const p = fraction(e);
  if (!p) return;
  if (st.tool === "draw") st.drawing = [p];
  if (st.tool === "highlight") {
    const frame = iframe();
    const r = frame.getBoundingClientRect();
    const target = frame.contentDocument.elementFromPoint((e.clientX - r.left) / st.scale, (e.clientY - r.top) / st.scale);
    if (target) annotate({ kind: "highlight", selector: selectorFor(target), caption: $("caption").value.slice(0, 200) }, target);
  }
});
window.addEventListener("mouseup", () => {
  if (st.drawing && st.drawing.length > 1) annotate({ kind: "draw", path: st.drawing });
  st.drawing = null;
});

function setTool(tool) {
  st.tool = tool;
  document.querySelectorAll("[data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.tool === tool)));
}
document.querySelectorAll("[data-tool]").forEach((b) => b.addEventListener("click", () => setTool(b.dataset.tool)));
$("clear-annotations").addEventListener("click", () => annotate({ kind: "clear" }));

// ---------------------------------------------------------------- the call
function startCall() {
  if (st.call || !st.session) return;
  st.call = new Call({
    role: "offerer", iceServers: st.iceServers,
    signal: (payload) => call(st.socket, "rtc_signal", { session_id: st.session.session_id, seq: st.seq.rtc(), ...payload }).catch(() => {}),
    onState: (state) => {
      if (!st.session) return;
      st.session.callState = state;
      document.body.dataset.callState = state;
      renderSession();
      if (state === "connected" && st.session.state === "sharing") recordCallAudio().catch(() => {});
    },
  });
  st.call.start().catch(() => {});
}

// Transfer: choose from the agents who can take this session now (same language, available).
async function refreshTransferTargets() {
  if (!st.session) return;
  const reply = await call(st.socket, "transfer_targets", { session_id: st.session.session_id }).catch(() => ({ agents: [] }));
  const options = reply.agents.map((a) => Object.assign(document.createElement("option"),
    { value: a.agent_id, textContent: t("agent.transfer.target", { name: a.name, badge: a.badge }) }));
  if (!options.length) options.push(Object.assign(document.createElement("option"), { value: "", textContent: t("agent.transfer.none") }));
  $("transfer-to").replaceChildren(...options);
  $("transfer").disabled = !reply.agents.length;
}
$("transfer-refresh").addEventListener("click", refreshTransferTargets);

$("transfer").addEventListener("click", async () => {
  if (!st.session || !$("transfer-to").value) return;
  const to = $("transfer-to").selectedOptions[0].textContent;
  try {
    await call(st.socket, "transfer", { session_id: st.session.session_id, to_agent: $("transfer-to").value });
    $("session-message").textContent = t("agent.transfer.started", { to });
  } catch (err) {
    $("session-message").textContent = err.code === "agent_unavailable" ? t("agent.transfer.unavailable") : err.message;
    refreshTransferTargets();
  }
});
$("invite").addEventListener("click", async () => {
  if (!st.session) return;
  await call(st.socket, "invite_supervisor", { session_id: st.session.session_id, note: $("session-notes").value.slice(0, 200) })
    .then(() => { $("session-message").textContent = t("agent.invited"); })
    .catch((err) => { $("session-message").textContent = err.message; });
});

// A monitoring supervisor hears the call: this console sends them the customer's voice and
// the agent's own over a separate, send-only connection. Nothing changes for either party.
async function forwardToSupervisor(msg) {
  const supervisor = msg.sender;
  const signal = (payload) => call(st.socket, "monitor_signal", {
    session_id: st.session.session_id, seq: st.monitorSeq(), supervisor, ...payload }).catch(() => {});
  if (msg.kind === "restart") {
    if (st.feeds.has(supervisor)) st.feeds.get(supervisor).close();
    const pc = new RTCPeerConnection({ iceServers: st.iceServers });
    st.feeds.set(supervisor, pc);
    pc.onicecandidate = (e) => { if (e.candidate) signal({ kind: "candidate", candidate: e.candidate.toJSON() }); };
    const tracks = [];
    if (st.call && st.call.pc) st.call.pc.getReceivers().forEach((r) => r.track && tracks.push(r.track));
    if (st.call && st.call.local) tracks.push(...st.call.local.getAudioTracks());
    const stream = new MediaStream(tracks);
    tracks.forEach((t) => pc.addTrack(t, stream));
    if (!tracks.length) pc.addTransceiver("audio", { direction: "sendonly" });
    // Last m-line: the supervisor's voice, sent only when they coach or barge in.
    const back = pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = (e) => { if (e.transceiver === back) hearSupervisor(supervisor, e.track); };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    signal({ kind: "offer", sdp: offer.sdp });
  } else if (msg.kind === "answer" && st.feeds.has(supervisor)) {
    await st.feeds.get(supervisor).setRemoteDescription({ type: "answer", sdp: msg.sdp });
  } else if (msg.kind === "candidate" && st.feeds.has(supervisor) && msg.candidate) {
    await st.feeds.get(supervisor).addIceCandidate(msg.candidate).catch(() => {});
  }
}

// A coaching supervisor is played to the agent; in a barge their voice is also mixed into
// what the customer hears (the agent's microphone plus every barging supervisor).
function hearSupervisor(supervisor, track) {
  const old = st.coachVoices.get(supervisor);
  if (old) old.el.remove();
  const el = Object.assign(document.createElement("audio"), { autoplay: true, hidden: true });
  el.srcObject = new MediaStream([track]);
  document.body.append(el);
  st.coachVoices.set(supervisor, { el, stream: el.srcObject });
  mixCall();
}

function mixCall() {
  const pc = st.call && st.call.pc;
  const mic = st.call && st.call.local && st.call.local.getAudioTracks()[0];
  const sender = pc && pc.getSenders().find((s) => s.track && s.track.kind === "audio");
  if (st.mix) st.mix.close();
  st.mix = null;
  if (!sender || !mic) return;
  const barging = [...st.coaching].filter(([id, mode]) => mode === "barge" && st.coachVoices.has(id));
  if (!barging.length) { sender.replaceTrack(mic); return; }
  const ctx = new AudioContext();
  const out = ctx.createMediaStreamDestination();
  ctx.createMediaStreamSource(new MediaStream([mic])).connect(out);
  for (const [id] of barging) ctx.createMediaStreamSource(st.coachVoices.get(id).stream).connect(out);
  sender.replaceTrack(out.stream.getAudioTracks()[0]);
  st.mix = ctx;
}

// The call's audio for the recording: both voices mixed here (this console already plays the
// customer and captures the agent) and sent to the server's recorder, receive-only on its side.
async function recordCallAudio(attempt = 1) {
  const pc = st.call && st.call.pc;
  const mic = st.call && st.call.local && st.call.local.getAudioTracks()[0];
  const heard = pc && pc.getReceivers().map((r) => r.track).find((t) => t && t.kind === "audio");
  if (!st.recordAudio || st.recorder || !heard) return;
  const ctx = new AudioContext();
  const out = ctx.createMediaStreamDestination();
  ctx.createMediaStreamSource(new MediaStream([heard])).connect(out);
  if (mic) ctx.createMediaStreamSource(new MediaStream([mic])).connect(out);
  const rec = new RTCPeerConnection({ iceServers: st.iceServers });
  st.recorder = { close: () => { rec.close(); ctx.close(); } };
  rec.addTrack(out.stream.getAudioTracks()[0], out.stream);
  await rec.setLocalDescription(await rec.createOffer());
  await new Promise((done) => {  // the server does not trickle: send the offer complete
    if (rec.iceGatheringState === "complete") return done();
    rec.addEventListener("icegatheringstatechange", () => { if (rec.iceGatheringState === "complete") done(); });
  });
  try {
    // The server starts a peer of its own (ICE gathering included): give it time on a busy node.
    const reply = await call(st.socket, "record_audio", { session_id: st.session.session_id, sdp: rec.localDescription.sdp },
      20_000);
    await rec.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    document.body.dataset.recordingAudio = "on";
  } catch (err) {
    st.recorder.close();
    st.recorder = null;
    // A refusal (recording off, session over) is final; a timeout or a lost answer is tried again,
    // since a call recorded in part is worth more than none (the server replaces a half-made peer).
    if ((!err || err.code === "timeout" || err.code === "internal") && attempt < 3 && st.session) {
      setTimeout(() => recordCallAudio(attempt + 1).catch(() => {}), 2000 * attempt);
    }
  }
}

// A short two-tone ring for a new offer (the countdown is on screen too).
function ring() {
  try {
    const ctx = new AudioContext();
    [0, 0.25].forEach((at, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = i ? 660 : 880;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + at);
      osc.stop(ctx.currentTime + at + 0.2);
    });
    setTimeout(() => ctx.close(), 1000);
  } catch { /* no audio output: the visual offer is enough */ }
}

$("mute").addEventListener("click", () => {
  st.muted = !st.muted;
  if (st.call) st.call.setMuted(st.muted);
  $("mute").textContent = t(st.muted ? "agent.unmute" : "agent.mute");
  $("mute").setAttribute("aria-pressed", String(st.muted));
});

// ---------------------------------------------------------------- keyboard
document.addEventListener("keydown", (e) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (e.altKey && e.key.toLowerCase() === "r") $("go-available").click();
  else if (e.altKey && e.key.toLowerCase() === "a") $("accept-offer").click();
  else if (e.altKey && e.key.toLowerCase() === "s") $("ask-share").click();
  else if (typing || e.altKey || e.ctrlKey || e.metaKey) return;
  else if (e.key === "p") setTool("pointer");
  else if (e.key === "h") setTool("highlight");
  else if (e.key === "d") setTool("draw");
  else if (e.key === "c") annotate({ kind: "clear" });
  else if (e.key === "m") $("mute").click();
});

