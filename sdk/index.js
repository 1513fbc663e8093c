// The assist SDK, served at /sdk/assist.js as the global `Assist`. Any bank page can include it:
//   Assist.init({token, edition, language, page: () => location.hash})
//   Assist.requestHelp({topic: "transfer"})
// It asks for help, shows who is coming, asks consent, mirrors the masked page, carries the
// call and draws the agent's guidance. It accepts nothing else from the agent.
import { call, connect, sequence } from "./protocol.js";
import { Call } from "./call.js";
import { scrubText } from "./masking.js";
import { Mirror } from "./mirror.js";
import { Overlay } from "./overlay.js";
import { Ui } from "./ui.js";
import { Voice } from "./voice.js";

const listeners = new Set();
let s = null; // the live state of this page's SDK, or null before init / after shutdown

function emitState() {
  const snapshot = state();
  listeners.forEach((fn) => { try { fn(snapshot); } catch { /* a host bug must not stop us */ } });
}

// What the host page (and tests) may know: never the token.
export function state() {
  if (!s) return { phase: "off" };
  return { phase: s.phase, sessionState: s.sessionState, requestId: s.requestId, sessionId: s.sessionId, agent: s.agent, code: s.code,
           position: s.position, etaSeconds: s.eta, sharing: s.sharing, paused: s.mirror.paused, callState: s.callState,
           callback: s.callback, longWait: s.longWait, agentAway: s.agentAway, connected: s.socket.connected };
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function init({ token, edition = "standard", language = "zh", page = () => location.hash || location.pathname,
                       server = "/", audio = true, hotline = null } = {}) {
  if (s && s.token === token) return configure({ edition, language });
  if (s) shutdown();
  const ui = new Ui();
  ui.configure({ edition, language });
  // Reconnects present the latest token (the host page refreshes it: configure({token})).
  const socket = connect(() => s.token, { url: server, onRefused: () => setPhase("off") });
  s = { token, edition, language, page, audio, hotline, ui, socket, phase: "idle", requestId: null, sessionId: null,
        agent: null, code: null, position: null, eta: null, sharing: false, muted: false, callState: "idle",
        callback: false, longWait: false, agentAway: false, ended: null, topic: "transfer",
        iceServers: [], nextSeq: { mirror: sequence(), rtc: sequence() } };
  s.mirror = new Mirror((events) => relay("mirror", { events }), () => s.page());
  s.overlay = new Overlay(ui.root, (text) => ui.announce(text));
  wire(socket);
  return state();
}

export function configure({ edition, language, token } = {}) {
  if (!s) return state();
  if (token) s.token = token;
  if (edition) s.edition = edition;
  if (language) s.language = language;
  s.ui.configure({ edition: s.edition, language: s.language });
  render();
  return state();
}

// Scrubbed like the mirror: a page address or a sentence can hold a card number too.
function helpPayload(topic, transcript = []) {
  return { topic, edition: s.edition, language: s.language, page: scrubText(s.page()).slice(0, 200),
           transcript: transcript.slice(-10).map((line) => scrubText(line).slice(0, 200)) };
}

export async function requestHelp({ topic = "transfer", transcript = [] } = {}) {
  if (!s) throw new Error("Assist.init() first");
  s.topic = topic;
  if (s.sessionId) return showOwnSession();
  try {
    const reply = await call(s.socket, "help_request", helpPayload(topic, transcript));
    if (reply.unstaffed) setPhase("unstaffed");
    else applyView({ request: reply.request });
    return state();
  } catch (err) {
    if (err.code === "already_in_session") return showOwnSession();
    s.ui.notice(s.ui.t(err.code === "queue_full" ? "busy" : "failed"));
    throw err;
  }
}

// Help pressed during a session: that session, not an error (the server's real answer).
async function showOwnSession() {
  if (!s.sessionId) {
    const reply = await call(s.socket, "sync", {}).catch(() => null);
    if (reply) applyView(reply.view, true);
  }
  s.ui.notice(s.ui.t("inSession"), 6000);
  return state();
}

// Ask to be phoned back: keeps the place in line when waiting, else joins it as a callback.
export async function requestCallback() {
  if (!s) throw new Error("Assist.init() first");
  const reply = await call(s.socket, "callback_request", helpPayload(s.topic));
  applyView({ request: reply.request });
  return state();
}

// The host app tells the agent the customer reached a step (a name, never its details).
export async function noteStep(step) {
  if (s && s.sessionId) await call(s.socket, "customer_step", { session_id: s.sessionId, step }).catch(() => {});
}

export async function rateSession(rating, comment = "") {
  if (!s || !s.ended) return;
  await call(s.socket, "rate_session", { session_id: s.ended.sessionId, rating, comment }).catch(() => {});
  s.ended.rated = true;
  render();
}

export async function cancelHelp() {
  if (s && s.requestId) await call(s.socket, "help_cancel", { request_id: s.requestId }).catch(() => {});
}

export async function stopSharing() {
  if (s && s.sessionId && s.sharing) {
    s.mirror.stop(); // stop on the device first: nothing more leaves it, whatever the network does
    s.sharing = false;
    s.overlay.clear(); // the agent no longer sees the screen: nothing of theirs stays on it
    render();
    await call(s.socket, "stop_sharing", { session_id: s.sessionId }).catch(() => {});
  }
}

export async function shareAgain() {
  if (s && s.sessionId && !s.sharing) await call(s.socket, "consent", { session_id: s.sessionId, accept: true }).catch(() => {});
}

export async function endSession() {
  if (s && s.sessionId) {
    s.mirror.stop();
    await call(s.socket, "end_session", { session_id: s.sessionId }).catch(() => {});
  }
}

// The voice assistant (幸福生活版): speak, get captions and an intent back from the bank's server.
export async function startVoice(handlers = {}) {
  if (!s) throw new Error("Assist.init() first");
  // Raw microphone audio: the browser's echo cancelling and gain control change speech in ways
  // the offline recognizer was not trained on (measured: docs/voice.md).
  if (!s.voice) s.voice = new Voice(s.socket, s.iceServers, { echoCancellation: false, noiseSuppression: false, autoGainControl: false });
  return s.voice.start({ lang: s.language, ...handlers });
}

export async function stopVoice() {
  if (s && s.voice) await s.voice.stop();
}

export function voiceListening() {
  return !!(s && s.voice && s.voice.listening);
}

export function shutdown() {
  if (!s) return;
  // Leaving (signing out): end the help in hand first, so the agent is told at once rather than
  // waiting out a grace window for a customer who will not come back. The server handles one
  // socket's events in order, so these arrive before the disconnect.
  if (s.sessionId) s.socket.emit("end_session", { session_id: s.sessionId });
  else if (s.requestId) s.socket.emit("help_cancel", { request_id: s.requestId });
  if (s.voice) s.voice.destroy();
  s.mirror.destroy();
  if (s.call) s.call.close();
  s.overlay.destroy();
  s.socket.disconnect();
  s.ui.destroy();
  s = null;
  emitState();
}

// ---------------------------------------------------------------- internals
function setPhase(phase) {
  if (s) s.phase = phase;
  render();
}

function relay(event, payload) {
  const stream = event === "rtc_signal" ? "rtc" : event;
  return call(s.socket, event, { session_id: s.sessionId, seq: s.nextSeq[stream](), ...payload });
}

function wire(socket) {
  socket.on("connect", async () => {
    try {
      const reply = await call(socket, "sync", {});
      s.iceServers = reply.ice_servers || [];
      applyView(reply.view, true);
    } catch { /* the next reconnect will try again */ }
  });
  socket.on("queue_update", (msg) => {
    if (msg.request_id !== s.requestId) return;
    if (msg.status === "offered") setPhase("connecting");
    else applyView({ request: msg });
  });
  socket.on("request_ended", (msg) => {
    if (msg.request_id !== s.requestId) return;
    Object.assign(s, { requestId: null, callback: false, longWait: false });
    if (msg.reason === "unstaffed") return setPhase("unstaffed");
    s.ui.notice(s.ui.t("cancelled"));
    setPhase("idle");
  });
  socket.on("session_started", async (msg) => {
    startSession(msg);
    // TURN credentials are handed out only to a party of a live session: ask for them now,
    // before the agent's offer makes the call's peer connection.
    try {
      const servers = (await call(socket, "sync", {})).ice_servers;
      if (s && servers) {
        s.iceServers = servers;
        if (s.call && !s.call.pc) s.call.iceServers = servers;
      }
    } catch { /* the call goes without TURN */ }
  });
  socket.on("agent_changed", (msg) => {
    s.agent = msg.agent;
    s.code = msg.code;
    s.ui.notice(s.ui.t("agentChanged", { name: msg.agent.name, badge: msg.agent.badge, code: msg.code }), 8000);
    s.mirror.restart(); // the new agent needs a full snapshot
    render();
  });
  socket.on("session_state", (msg) => {
    if (msg.session_id !== s.sessionId) return;
    s.sessionState = msg.state;
    s.sharing = msg.state === "sharing";
    if (s.sharing) s.mirror.start();
    else {
      s.mirror.stop();
      s.overlay.clear();
    }
    setPhase(callPhase());
  });
  // The agent, on the call, asks to see the screen: now (and only now) the consent dialog.
  socket.on("share_requested", (msg) => {
    if (msg.session_id === s.sessionId && !s.sharing) setPhase("consent");
  });
  socket.on("session_ended", (msg) => {
    if (msg.session_id !== s.sessionId) return;
    const ended = { sessionId: msg.session_id, reason: msg.reason, rated: false };
    endLocally();
    s.ui.clearNotice();
    s.ended = ended; // lasts until the customer closes it or asks for help again
    setPhase("ended");
  });
  socket.on("peer_status", (msg) => {
    if (msg.session_id !== s.sessionId || msg.role !== "agent") return;
    s.agentAway = msg.status !== "back";
    // The indicator itself says it (and a screen reader hears it): no notice over the page.
    if (msg.status === "back") s.mirror.restart(); // the agent's replay starts from nothing after a reload
    s.ui.announce(s.ui.t(msg.status === "back" ? "back" : "agentReconnecting"));
    render();
  });
  // Only a supervisor who barges in speaks to the customer, so only that is said (issue 14).
  socket.on("supervisor_joined", (msg) => { if (msg.mode === "barge") s.ui.notice(s.ui.t("supervisorJoined"), 6000); });
  socket.on("annotation", (msg) => {
    if (msg.session_id === s.sessionId && s.sharing) s.overlay.apply(msg);
  });
  socket.on("rtc_signal", (msg) => {
    if (msg.session_id === s.sessionId && s.call) s.call.handle(msg).catch(() => {});
  });
}

function applyView(view, resumed = false) {
  if (view && view.request) {
    const r = view.request;
    Object.assign(s, { requestId: r.request_id, position: r.position ?? null, eta: r.eta_s ?? null,
                       callback: !!r.callback, longWait: !!r.long_wait, ended: null });
    setPhase(r.status === "offered" ? "connecting" : "waiting");
  } else if (view && view.session) {
    startSession(view.session, resumed);
  } else if (["waiting", "connecting", "consent", "in_session"].includes(s.phase) && resumed) {
    endLocally();
  }
}

function startSession(session, resumed = false) {
  Object.assign(s, { requestId: null, callback: false, longWait: false, ended: null, agentAway: false });
  s.sessionId = session.session_id;
  s.agent = session.agent;
  s.code = session.code;
  s.sharing = session.state === "sharing";
  s.sessionState = session.state;
  // The call comes first: the agent's offer arrives as soon as they accept, so they can read
  // the verification code aloud before anyone asks to share the screen.
  if (!s.call) {
    s.call = new Call({ role: "answerer", iceServers: s.iceServers, audio: s.audio, container: s.ui.root,
                        signal: (payload) => relay("rtc_signal", payload).catch(() => {}),
                        onState: (st) => { s.callState = st; emitState(); } });
  }
  // After a reload (or a long blip) our old peer is gone: ask the agent for a fresh offer.
  if (resumed && s.callState !== "connected") s.call.start();
  if (s.sharing) s.mirror.start();
  setPhase(callPhase());
}

// On the call without sharing yet ("call"), or sharing / stopped ("in_session").
function callPhase() {
  return s.sessionState === "awaiting_consent" ? "call" : "in_session";
}

function endLocally() {
  s.mirror.stop();
  s.overlay.clear();
  if (s.call) s.call.close();
  s.call = null;
  Object.assign(s, { sessionId: null, agent: null, code: null, sharing: false, requestId: null, callState: "idle" });
  setPhase("idle");
}

function render() {
  if (!s) return emitState();
  const { ui } = s;
  const answer = (accept) => () => {
    ui.closeDialog();
    call(s.socket, "consent", { session_id: s.sessionId, accept }).catch(() => {});
    if (!accept) setPhase(callPhase()); // no thanks: the call goes on
  };
  const callback = () => requestCallback().catch(() => ui.notice(ui.t("failed")));
  const close = () => { s.ended = null; setPhase("idle"); };
  if (s.phase === "waiting" && s.callback) ui.showCallback(() => cancelHelp());
  else if (s.phase === "waiting") {
    ui.showWaiting({ position: s.position, eta_s: s.eta, long_wait: s.longWait, hotline: s.hotline }, () => cancelHelp(), callback);
  } else if (s.phase === "unstaffed") ui.showUnstaffed({ language: s.language, hotline: s.hotline }, callback, close);
  else if (s.phase === "ended") {
    ui.showEnded(s.ended, (rating, comment) => rateSession(rating, comment),
      () => { close(); requestHelp({ topic: s.topic }).catch(() => {}); }, close);
  } else if (s.phase === "connecting") ui.showConnecting(() => cancelHelp());
  else if (s.phase === "consent") ui.showConsent({ agent: s.agent, code: s.code }, answer(true), answer(false));
  else if (ui.panelSlot.querySelector("[role=dialog]")) ui.closeDialog();
  else ui.clearPanel();

  if (s.phase === "in_session" || s.phase === "call") {
    ui.showBanner({ sharing: s.sharing, muted: s.muted, agentAway: s.agentAway,
                    call: s.phase === "call" && { name: s.agent.name, badge: s.agent.badge, code: s.code } }, {
      stop: () => stopSharing(),
      share: () => shareAgain(),
      mute: () => { s.muted = !s.muted; if (s.call) s.call.setMuted(s.muted); render(); },
      hangUp: () => endSession(),
    });
  } else ui.clearBanner();
  emitState();
}
