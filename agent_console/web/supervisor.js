// The supervisor console: the live wall (per agent and per line, with alerts), every session's
// true phase, coaching (silent monitor, whisper, barge) with the call's audio, reassigning a
// waiting customer, and recordings with their annotations, call audio and a timeline. Read-only
// towards the customer: like the agent console, it has no way to act on the customer's device.
import { Replayer } from "rrweb";
import { call, connect, sequence } from "../../sdk/protocol.js";
import { translate } from "../../sdk/messages.js";
import { createI18n } from "./i18n.js";
import { ChunkJoiner, LiveMirror, PAUSED_TAG, fit } from "./replay.js";
import { currentToken, signIn, signOut } from "./signin.js";
import { createWords, tickingLine } from "./words.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "assist.supervisor.token";
const MODES = ["monitor", "whisper", "barge"];
const LIVE_PHASES = new Set(["call", "sharing", "paused"]);
const POINTER_SHOWN_S = 3; // a replayed pointer fades like the customer's

const i18n = createI18n();
const { t } = i18n;
const { person, requestLine } = createWords(t);
i18n.apply();
document.title = t("sup.pageTitle");
$("lang").value = i18n.lang;
$("lang").addEventListener("change", () => i18n.choose($("lang").value));

const st = { token: null, socket: null, watching: null, mirror: null, audio: null, seq: sequence(),
             wall: null, board: [], skew: 0, player: null, playerTimer: null, sessions: [], freeAgents: null };
window.assistSupervisor = st; // for tests and debugging: read-only use

signIn({ role: "supervisor", tokenKey: TOKEN_KEY, wrongRole: t("login.wrongRole"), failed: t("login.failed"), onToken: start });

function start(token) {
  st.token = token;
  st.socket = connect(() => currentToken(TOKEN_KEY) || token, { onRefused: () => signOut(TOKEN_KEY) });
  const socket = st.socket;
  socket.on("connect", refresh);
  socket.on("queue", renderLine);
  socket.on("wall", renderWall);
  socket.on("board", renderBoard);
  socket.on("supervisor_invited", showInvite);
  socket.on("mirror", (msg) => {
    if (st.watching && msg.session_id === st.watching.sessionId && st.mirror) {
      const before = st.mirror.viewport;
      st.mirror.push(msg.events, msg.seq);
      if (st.mirror.viewport && st.mirror.viewport !== before) fit($("monitor-stage"), $("monitor-root"), st.mirror.viewport);
    }
  });
  socket.on("monitor_signal", (msg) => { if (st.audio && st.watching && msg.session_id === st.watching.sessionId) st.audio.handle(msg); });
  socket.on("session_state", (msg) => {
    if (st.watching && msg.session_id === st.watching.sessionId) showPhase(PHASE_OF[msg.state] || msg.state);
  });
  socket.on("session_ended", (msg) => { if (st.watching && msg.session_id === st.watching.sessionId) sessionEnded(msg.reason); });
  setInterval(tickDurations, 1000);
}

// The session states as the supervisor's list names them (the server's board does the same).
const PHASE_OF = { awaiting_consent: "call", sharing: "sharing", stopped: "paused", ended: "wrap_up" };

async function refresh() {
  const reply = await call(st.socket, "sync", {});
  $("who").textContent = t("sup.who", { name: reply.display_name, user: reply.user });
  if (reply.view.wall) renderWall(reply.view.wall);
  renderLine({ waiting: reply.view.queue, total: reply.view.queue_total ?? reply.view.queue.length });
  renderBoard({ rows: reply.view.board || [], now: reply.view.now });
}

// ---------------------------------------------------------------- words and figures
const none = t("unit.none");
const pct = (v) => (v === null || v === undefined ? none : `${(v * 100).toFixed(1)}%`);
const secs = (v) => (v === null || v === undefined ? none : t("unit.seconds", { n: Math.round(v) }));
// Waits against a bound round up, everywhere alike: 60.4 s past a 60 s bound never reads "60 s".
const waitSecs = (v) => secs(v === null || v === undefined ? v : Math.ceil(v));
const clock = (s) => { s = Math.max(0, Math.floor(s)); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; };
const serverNow = () => Date.now() / 1000 + st.skew;
const lineName = (line) => {
  const [edition, language] = String(line).split(":");
  return t("line.name", { edition: t(`edition.${edition}`), language: t(`language.${language}`) });
};
const cell = (text, className) => {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
};
const button = (text, onClick, data = {}) => {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  Object.assign(b.dataset, data);
  b.addEventListener("click", onClick);
  return b;
};

// ---------------------------------------------------------------- the wall
function renderWall(w) {
  st.wall = w;
  showMoreWaiting();
  const bounds = w.alert_bounds || {};
  $("w-waiting").textContent = w.waiting;
  $("w-longest").textContent = waitSecs(w.longest_wait_s);
  $("w-sl-label").textContent = t("wall.serviceLevel", { s: w.threshold_s });
  $("w-sl").textContent = pct(w.service_level);
  $("w-abandon").textContent = pct(w.abandonment_rate);
  $("w-asa").textContent = secs(w.average_speed_of_answer_s);
  $("w-aht").textContent = secs(w.average_handle_time_s);
  $("w-sessions").textContent = w.sessions_active;
  const alerts = new Set(w.alerts || []);
  $("w-sl-box").classList.toggle("alert", alerts.has("service_level"));
  $("w-longest-box").classList.toggle("alert", alerts.has("longest_wait"));
  $("w-window").textContent = t("wall.window", { minutes: Math.round(w.window_s / 60), sl: pct(bounds.service_level),
                                                 wait: secs(bounds.longest_wait_s) });
  const lines = w.lines || [];
  // A line's alert names the line; the center-wide one is shown when no line says the same.
  const byLine = lines.flatMap((l) => l.alerts.map((code) => ({ code, text: t("alerts.line", { line: lineName(l.line), text: alertText(code, l, bounds) }) })));
  const messages = [...(w.alerts || []).filter((code) => !byLine.some((a) => a.code === code)).map((code) => alertText(code, w, bounds)),
                    ...byLine.map((a) => a.text)];
  $("alerts").replaceChildren(...(messages.length ? messages : [t("alerts.none")]).map((text) => {
    const p = document.createElement("p");
    p.textContent = text;
    if (!messages.length) p.className = "ok";
    return p;
  }));
  document.body.dataset.alerts = String(messages.length);
  renderAgents(w.agents || []);
  $("lines").replaceChildren(...(lines.length ? lines.map((l) => {
    const tr = document.createElement("tr");
    tr.dataset.line = l.line;
    tr.append(cell(lineName(l.line)), cell(String(l.waiting)),
              cell(waitSecs(l.longest_wait_s), l.alerts.includes("longest_wait") ? "alert" : ""),
              cell(pct(l.service_level), l.alerts.includes("service_level") ? "alert" : ""));
    return tr;
  }) : [emptyRow(4, t("lines.none"))]));
  // The reassign choices on the board follow the free agents: rebuild the board when they
  // change, not on every wall (each second while anyone waits), which replaced every row under
  // a supervisor's hand (an open reassign list closed, keyboard focus lost).
  const free = JSON.stringify((w.agents || []).filter((a) => a.state === "available")
    .map((a) => [a.id, a.name, a.badge, a.languages]));
  if (free !== st.freeAgents) {
    st.freeAgents = free;
    renderBoard({ rows: st.board, now: serverNow() });
  }
}

function alertText(code, figures, bounds) {
  return code === "service_level"
    ? t("alerts.service_level", { value: pct(figures.service_level), bound: pct(bounds.service_level) })
    : t("alerts.longest_wait", { value: waitSecs(figures.longest_wait_s), bound: secs(bounds.longest_wait_s) });
}

function emptyRow(span, text) {
  const tr = document.createElement("tr");
  const td = cell(text, "hint");
  td.colSpan = span;
  tr.append(td);
  return tr;
}

function renderAgents(agents) {
  $("agents").replaceChildren(...(agents.length ? agents.map((a) => {
    const tr = document.createElement("tr");
    tr.dataset.agent = a.id;
    const since = cell("", "since");
    since.dataset.since = a.since;
    tr.append(cell(`${a.name} ${a.badge}`), cell(t(`agentState.${a.state}`)), since,
              cell(a.serving.map(person).join("、") || none), cell(String(a.handled_today)), cell(secs(a.average_handle_today_s)));
    return tr;
  }) : [emptyRow(6, t("agents.none"))]));
  tickDurations();
}

function tickDurations() {
  const now = serverNow();
  // Up, like every wait on this screen (waitSecs, the line's "waited"); the player's clock does not.
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = clock(Math.ceil(now - Number(el.dataset.since)));
}

// ---------------------------------------------------------------- sessions and waiting customers
function renderBoard({ rows, now }) {
  if (typeof now === "number") st.skew = now - Date.now() / 1000;
  st.board = rows;
  st.sessions = rows.filter((r) => r.session_id);
  $("sessions").replaceChildren(...(rows.length ? rows.map(boardRow) : [emptyRow(6, t("sessions.none"))]));
  showMoreWaiting();
  tickDurations();
  if (st.watching) {
    const row = rows.find((r) => r.session_id === st.watching.sessionId);
    if (!row || !LIVE_PHASES.has(row.phase)) sessionEnded(st.watching.reason);
    else showPhase(row.phase);
  }
}

// The board lists the head of the line only (the server sends the first 100); the wall
// counts everyone waiting, so the rest are named in one row rather than left out unsaid.
function showMoreWaiting() {
  const listed = st.board.filter((r) => r.phase === "requested").length;
  const more = (st.wall ? st.wall.waiting : 0) - listed;
  const row = $("sessions").querySelector("tr[data-more]");
  if (more <= 0) return row && row.remove();
  const text = t("sessions.more", { n: more });
  if (row) return (row.firstChild.textContent = text);
  const added = emptyRow(6, text);
  added.dataset.more = "1";
  $("sessions").append(added);
}

function phaseLabel(row) {
  return row.phase === "requested" && row.agent ? t("phase.offered") : t(`phase.${row.phase}`);
}

function boardRow(row) {
  const tr = document.createElement("tr");
  tr.dataset.row = row.id;
  tr.dataset.phase = row.phase;
  const phase = document.createElement("span");
  phase.className = `phase phase-${row.phase}`;
  phase.textContent = phaseLabel(row);
  const phaseCell = cell("");
  phaseCell.append(phase);
  const since = cell("", "since");
  since.dataset.since = row.since;
  const actions = document.createElement("td");
  if (row.session_id && LIVE_PHASES.has(row.phase)) {
    for (const mode of MODES) {
      const b = button(t(`mode.${mode}`), () => watch(row.session_id, mode), { session: row.session_id, mode });
      b.title = t(`mode.${mode}.hint`);
      b.setAttribute("aria-label", `${t(`mode.${mode}`)} · ${person(row.customer_name)}`);
      actions.append(b);
    }
  } else if (row.phase === "requested") {
    actions.append(...reassignControls(row));
  }
  tr.append(cell(person(row.customer_name)), cell(row.agent ? `${row.agent.name} ${row.agent.badge}` : none),
            cell(lineName(`${row.edition}:${row.language}`)), phaseCell, since, actions);
  return tr;
}

function reassignControls(row) {
  const free = ((st.wall && st.wall.agents) || []).filter((a) => a.state === "available" && a.languages.includes(row.language));
  if (!free.length) return [document.createTextNode(t("sessions.noAgent"))];
  const select = document.createElement("select");
  select.id = `reassign-${row.request_id}`;
  select.setAttribute("aria-label", `${t("sessions.reassignTo")} · ${person(row.customer_name)}`);
  select.append(...free.map((a) => Object.assign(document.createElement("option"), { value: a.id, textContent: `${a.name} ${a.badge}` })));
  const go = button(t("sessions.reassign"), async () => {
    const agent = free.find((a) => a.id === select.value);
    try {
      await call(st.socket, "reassign", { request_id: row.request_id, to_agent: select.value });
      $("sessions-message").textContent = t("sessions.reassigned", { agent: agent ? agent.name : select.value });
    } catch (err) {
      $("sessions-message").textContent = err.message;
    }
  }, { reassign: row.request_id });
  go.setAttribute("aria-label", `${t("sessions.reassign")} · ${person(row.customer_name)}`);
  return [select, go];
}

function showInvites() {
  const none = $("invites-none");
  if (none) none.hidden = $("invites").children.length > 0;
}

function showInvite(msg) {
  const li = document.createElement("li");
  li.append(t("invites.text", { agent: msg.agent, customer: person(msg.request.customer_name) })
            + (msg.note ? t("invites.note", { note: msg.note }) : "") + " ");
  for (const mode of MODES) {
    const b = button(t(`mode.${mode}`), () => watch(msg.session_id, mode), { invite: msg.session_id, mode });
    b.title = t(`mode.${mode}.hint`);
    li.append(b);
  }
  $("invites").prepend(li);
  showInvites();
}

// ---------------------------------------------------------------- coaching
async function watch(sessionId, mode) {
  if (st.watching && st.watching.sessionId === sessionId && !st.watching.ended) return changeMode(mode);
  if (st.watching) await stopWatching();
  // Ready before joining: the server sends the current page right with the join.
  st.watching = { sessionId, mode, ended: false, reason: null };
  st.mirror = new LiveMirror($("monitor-root"), (status) => {
    $("monitor-paused").hidden = status !== "paused";
    $("monitor-paused").textContent = t("monitor.paused");
  });
  resetMonitorPane();
  $("monitor-view").hidden = false;
  $("monitor-view").scrollIntoView({ block: "start" });
  let reply;
  try {
    reply = await call(st.socket, "supervisor_join", { session_id: sessionId, mode });
  } catch (err) {
    await stopWatching();
    $("sessions-message").textContent = err.message;
    return;
  }
  st.watching.names = { customer: person(reply.session.customer.customer_name), agent: reply.session.agent.name };
  showPhase(PHASE_OF[reply.session.state]);
  showMode(mode);
  st.audio = new MonitorAudio(sessionId, mode);
  st.audio.request();
}

async function changeMode(mode) {
  const w = st.watching;
  await call(st.socket, "supervisor_join", { session_id: w.sessionId, mode });
  w.mode = mode;
  showMode(mode);
  st.audio.setMode(mode); // a fresh connection: the microphone goes (or stays) with the mode
}

function showMode(mode) {
  const w = st.watching;
  $("monitor-detail").textContent = t("monitor.detail", { customer: w.names.customer, agent: w.names.agent, mode: t(`mode.${mode}`) });
  document.body.dataset.monitorMode = mode;
  for (const b of $("monitor-modes").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.switch === mode));
}

function showPhase(phase) {
  $("monitor-state").textContent = t(`phase.${phase}`);
  document.body.dataset.monitorPhase = phase;
  if (phase === "paused") {
    $("monitor-paused").hidden = false;
    $("monitor-paused").textContent = t("monitor.stopped");
  } else if ($("monitor-paused").textContent === t("monitor.stopped")) {
    $("monitor-paused").hidden = true;
  }
}

function resetMonitorPane() {
  $("monitor-ended").hidden = true;
  $("monitor-paused").hidden = true;
  $("monitor-audio").textContent = t("audio.waiting");
  $("monitor-state").textContent = none;
  $("whisper-form").hidden = false;
  $("monitor-modes").hidden = false;
  $("monitor-screen").hidden = false;
  $("leave-monitor").textContent = t("monitor.leave");
  document.body.dataset.monitorAudio = "";
  document.body.dataset.monitorPhase = "";
}

// The watched session ended: say so, stop the audio, clear the screen (nothing stale stays).
function sessionEnded(reason) {
  const w = st.watching;
  if (!w) return;
  if (w.ended) { // the board may have said so first; the notice brings the reason
    if (reason) $("monitor-ended").textContent = t("monitor.ended", { reason: t(`reason.${reason}`) });
    return;
  }
  w.ended = true;
  if (st.audio) st.audio.close();
  st.audio = null;
  if (st.mirror) st.mirror.destroy();
  st.mirror = null;
  $("monitor-state").textContent = t("phase.ended");
  document.body.dataset.monitorPhase = "ended";
  $("monitor-audio").textContent = t("audio.closed");
  document.body.dataset.monitorAudio = "closed";
  $("monitor-paused").hidden = true;
  $("monitor-ended").hidden = false;
  $("monitor-ended").textContent = t("monitor.ended", { reason: reason ? t(`reason.${reason}`) : t("phase.ended") });
  $("whisper-form").hidden = true;
  $("monitor-modes").hidden = true;
  $("monitor-screen").hidden = true; // no empty phone frame where the customer's screen was
  $("leave-monitor").textContent = t("monitor.close");
}

async function stopWatching() {
  const w = st.watching;
  st.watching = null;
  if (st.mirror) st.mirror.destroy();
  st.mirror = null;
  if (st.audio) st.audio.close();
  st.audio = null;
  $("monitor-view").hidden = true;
  document.body.dataset.monitorPhase = "";
  if (w && !w.ended) await call(st.socket, "supervisor_leave", { session_id: w.sessionId }).catch(() => {});
}

$("monitor-modes").append(...MODES.map((mode) => {
  const b = button(t(`mode.${mode}`), () => { if (st.watching && !st.watching.ended) changeMode(mode); }, { switch: mode });
  b.title = t(`mode.${mode}.hint`);
  return b;
}));
$("leave-monitor").addEventListener("click", stopWatching);
$("whisper-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!st.watching || st.watching.ended) return;
  await call(st.socket, "whisper", { session_id: st.watching.sessionId, text: $("whisper-text").value });
  $("whisper-text").value = "";
});

// The call's audio, forwarded by the agent's console over its own connection. In whisper and
// barge the supervisor's microphone goes back on the same connection (the agent's console plays
// it to the agent, and in a barge passes it on to the customer); in monitor nothing is sent.
class MonitorAudio {
  constructor(sessionId, mode) {
    this.sessionId = sessionId;
    this.mode = mode;
    this.pc = null;
    this.mic = null;
    this.el = document.createElement("audio");
    this.el.autoplay = true;
    this.el.hidden = true;
    document.body.append(this.el);
  }

  signal(payload) {
    return call(st.socket, "monitor_signal", { session_id: this.sessionId, seq: st.seq(), ...payload }).catch(() => {});
  }

  request() {
    this.signal({ kind: "restart" });
  }

  setMode(mode) {
    this.mode = mode;
    this.request();
  }

  async microphone() {
    if (!this.mic) {
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false }).catch(() => null);
      if (!this.mic) $("monitor-audio").textContent = t("audio.micDenied");
    }
    return this.mic;
  }

  async handle(msg) {
    if (msg.kind === "offer") {
      if (this.pc) this.pc.close();
      const pc = new RTCPeerConnection({ iceServers: [] });
      this.pc = pc;
      pc.ontrack = (e) => {
        if (!this.el.srcObject) this.el.srcObject = new MediaStream();
        this.el.srcObject.addTrack(e.track);
      };
      pc.onicecandidate = (e) => { if (e.candidate) this.signal({ kind: "candidate", candidate: e.candidate.toJSON() }); };
      pc.onconnectionstatechange = () => {
        if (this.pc !== pc) return;
        $("monitor-audio").textContent = t(`audio.${pc.connectionState}`);
        document.body.dataset.monitorAudio = pc.connectionState;
      };
      this.el.srcObject = null;
      await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      // The agent's console offers one m-line for the supervisor's voice, last.
      const back = pc.getTransceivers().at(-1);
      if (this.mode !== "monitor" && back) {
        const mic = await this.microphone();
        if (mic) {
          await back.sender.replaceTrack(mic.getAudioTracks()[0]);
          back.direction = "sendrecv";
        }
      }
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.signal({ kind: "answer", sdp: answer.sdp });
    } else if (msg.kind === "candidate" && this.pc && msg.candidate) {
      await this.pc.addIceCandidate(msg.candidate).catch(() => {});
    }
  }

  close() {
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.mic) this.mic.getTracks().forEach((track) => track.stop());
    this.el.remove();
  }
}

// ---------------------------------------------------------------- recordings
function setTab(live) {
  $("live-view").hidden = !live;
  $("recordings-view").hidden = live;
  $("tab-live").setAttribute("aria-pressed", String(live));
  $("tab-recordings").setAttribute("aria-pressed", String(!live));
  if (!live) loadRecordings();
}
$("tab-live").addEventListener("click", () => setTab(true));
$("tab-recordings").addEventListener("click", () => setTab(false));

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${currentToken(TOKEN_KEY) || st.token}` } });
  if (res.status === 401) signOut(TOKEN_KEY);
  return res.json();
}

const LOCALE = { zh: "zh-CN", en: "en-GB" }[i18n.lang];

async function loadRecordings() {
  const q = new URLSearchParams();
  const day = (id, end) => { const v = $(id).value; return v ? String(new Date(`${v}T00:00:00`).getTime() / 1000 + (end ? 86400 : 0)) : ""; };
  const filters = { from: day("f-from"), to: day("f-to", true), agent: $("f-agent").value.trim(),
                    customer: $("f-customer").value.trim(), outcome: $("f-outcome").value };
  Object.entries(filters).forEach(([k, v]) => { if (v) q.set(k, v); });
  const { recordings } = await api(`/api/recordings?${q}`);
  $("rec-count").textContent = recordings.length ? t("rec.count", { n: recordings.length }) : t("rec.none");
  // The customer's rating in the very words they chose (the SDK's own), and what they wrote.
  const ratingCell = (r) => cell(!r.rating ? none
    : [translate(i18n.lang, r.rating), r.rating_comment].filter(Boolean).join(" · "));
  $("recordings").replaceChildren(...recordings.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.row = r.session_id;
    tr.append(cell(new Date(r.started_at * 1000).toLocaleString(LOCALE)), cell(person(r.customer_name)),
              cell(r.agent_names.join("、")), cell(r.handle_s == null ? none : clock(r.handle_s)),
              cell(r.outcome ? t(`outcome.${r.outcome}`) : t("outcome.none")),
              ratingCell(r), cell(t("size.kb", { n: Math.ceil(r.bytes / 1024) })));
    const td = document.createElement("td");
    const b = button(t("rec.play"), () => openRecording(r.session_id), { recording: r.session_id });
    b.setAttribute("aria-label", `${t("rec.play")} · ${person(r.customer_name)} · ${new Date(r.started_at * 1000).toLocaleString(LOCALE)}`);
    td.append(b);
    tr.append(td);
    return tr;
  }));
}
$("rec-filter").addEventListener("submit", (e) => { e.preventDefault(); loadRecordings(); });

// A timeline entry in the console's words.
function eventLabel(event, detail, names) {
  const who = (id) => (id ? names[id] || id : "");
  const vars = { agent: who(detail && (detail.agent || detail.to)), to: who(detail && detail.to) };
  const key = `ev.${event}`;
  return t(key, vars) === key ? t("ev.other") : t(key, vars);
}

// What the agent had drawn at a moment of the recording: the last highlight since the last
// clear, the strokes since then, and a pointer for a few seconds.
export function marksAt(annotations, at) {
  const state = { highlight: null, paths: [], pointer: null };
  for (const a of annotations) {
    if (a.t > at) break;
    const d = a.data;
    if (d.kind === "clear") Object.assign(state, { highlight: null, paths: [] });
    else if (d.kind === "highlight" && d.selector) state.highlight = d;
    else if (d.kind === "draw" && d.path) state.paths.push(d.path);
    else if (d.kind === "pointer" && d.point) state.pointer = a;
  }
  if (state.pointer && at - state.pointer.t > POINTER_SHOWN_S) state.pointer = null;
  return state;
}

function drawMarks(layer, player, viewport, state) {
  const parts = [];
  if (state.highlight) {
    let target = null;
    try { target = player.iframe.contentDocument.querySelector(state.highlight.selector); } catch { /* bad selector */ }
    if (target) {
      const r = target.getBoundingClientRect();
      const box = document.createElement("div");
      box.className = "mark-highlight";
      Object.assign(box.style, { left: `${r.left - 6}px`, top: `${r.top - 6}px`, width: `${r.width + 12}px`, height: `${r.height + 12}px` });
      if (state.highlight.caption) {
        const caption = document.createElement("div");
        caption.className = "mark-caption";
        caption.textContent = state.highlight.caption;
        box.append(caption);
      }
      parts.push(box);
    }
  }
  if (state.paths.length) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 1 1");
    svg.setAttribute("preserveAspectRatio", "none");
    for (const path of state.paths) {
      const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
      line.setAttribute("points", path.map((p) => `${p.x},${p.y}`).join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", "#e4007c");
      line.setAttribute("stroke-width", "4");
      line.setAttribute("vector-effect", "non-scaling-stroke");
      svg.append(line);
    }
    parts.push(svg);
  }
  if (state.pointer) {
    const dot = document.createElement("div");
    dot.className = "mark-pointer";
    Object.assign(dot.style, { left: `${state.pointer.data.point.x * viewport.width}px`, top: `${state.pointer.data.point.y * viewport.height}px` });
    parts.push(dot);
  }
  layer.replaceChildren(...parts);
  document.body.dataset.marks = [state.highlight ? "highlight" : "", state.paths.length ? "draw" : "", state.pointer ? "pointer" : ""]
    .filter(Boolean).join(" ");
}

// The call's audio segments, decoded and played through Web Audio (fetched with the token, so
// no media URL carries it), each placed on the recording's clock.
class Segment {
  constructor(ctx, buffer, offset) {
    Object.assign(this, { ctx, buffer, offset, source: null, from: 0, startedAt: 0, rate: 1 });
  }

  get duration() { return this.buffer.duration; }

  position() {
    return this.source ? this.from + (this.ctx.currentTime - this.startedAt) * this.rate : null;
  }

  play(from, rate) {
    this.stop();
    const source = this.ctx.createBufferSource();
    source.buffer = this.buffer;
    source.playbackRate.value = rate;
    source.connect(this.ctx.destination);
    source.start(0, from);
    Object.assign(this, { source, from, rate, startedAt: this.ctx.currentTime });
  }

  stop() {
    if (this.source) this.source.stop();
    this.source = null;
  }
}

async function loadAudio(sessionId, requestAt) {
  const { segments = [] } = await api(`/api/recordings/${sessionId}/audio`);
  if (!segments.length) return [];
  st.audioContext = st.audioContext || new AudioContext();
  const loaded = [];
  for (const seg of segments) {
    const res = await fetch(`/api/recordings/${sessionId}/audio/${seg.index}`, { headers: { Authorization: `Bearer ${currentToken(TOKEN_KEY) || st.token}` } });
    if (!res.ok) continue;
    const buffer = await st.audioContext.decodeAudioData(await res.arrayBuffer()).catch(() => null);
    if (buffer) loaded.push(new Segment(st.audioContext, buffer, seg.started_at - requestAt));
  }
  return loaded;
}

// Keep each segment where the clock says: sounding inside its span, silent outside it.
function syncAudio(tracks, at, playing, speed) {
  if (playing && st.audioContext && st.audioContext.state === "suspended") st.audioContext.resume();
  for (const seg of tracks) {
    const want = at - seg.offset;
    if (!playing || want < 0 || want >= seg.duration) { seg.stop(); continue; }
    const now = seg.position();
    if (now === null || Math.abs(now - want) > 0.3 || seg.rate !== speed) seg.play(want, speed);
  }
  document.body.dataset.audioPlaying = tracks.some((seg) => seg.source) ? "1" : "0";
}

async function openRecording(sessionId) {
  const [meta, { events: items }] = await Promise.all([api(`/api/recordings/${sessionId}`), api(`/api/recordings/${sessionId}/events`)]);
  (st.audioTracks || []).forEach((seg) => seg.stop());
  st.audioTracks = [];
  const names = meta.names || {};
  const joiner = new ChunkJoiner();
  const events = [];
  const annotations = [];
  const marks = meta.timeline.map((e) => ({ at: e.at, label: eventLabel(e.event, e.detail, names) }));
  for (const item of items) {
    if (item.kind === "annotation") {
      annotations.push(item);
      marks.push({ at: item.t, label: `${t(`ev.annotation.${item.data.kind}`)}${item.data.caption ? ` “${item.data.caption}”` : ""}` });
      continue;
    }
    if (item.kind !== "mirror") continue;
    for (const e of joiner.events(item.data.events)) {
      if (e.type === 5 && e.data && e.data.tag === PAUSED_TAG) marks.push({ at: item.t, label: t("ev.paused") });
      // Server receive time: one clock for the whole recording, whatever the phone's said.
      events.push({ ...e, timestamp: Math.round(item.t * 1000) });
    }
  }
  if (st.player) st.player.destroy?.();
  st.player = null;
  clearInterval(st.playerTimer);
  $("player-root").replaceChildren();
  $("player-view").hidden = false;
  $("player-detail").textContent = `${person(meta.customer_name)} · ${meta.agent_names.join("、")}`;
  document.body.dataset.player = "loading";
  // The recording's clock starts at the customer's request and ends when the session ended.
  const request = meta.request || {};
  const requestAt = request.requested_at ?? (meta.timeline[0] ? meta.timeline[0].at : meta.started_at);
  const endAt = request.ended_at ?? Math.max(meta.last_at || 0, ...meta.timeline.map((e) => e.at));
  const total = Math.max(0, endAt - requestAt);
  $("time-total").textContent = clock(total);
  $("time-now").textContent = clock(0);
  st.audioTracks = await loadAudio(sessionId, requestAt);
  $("player-audio-note").textContent = st.audioTracks.length
    ? `${t("player.audio")} ${clock(st.audioTracks.reduce((sum, seg) => sum + seg.duration, 0))}` : t("player.noAudio");
  document.body.dataset.audioSegments = String(st.audioTracks.length);
  marks.sort((a, b) => a.at - b.at);
  let seekTo = () => {};
  $("timeline").replaceChildren(...marks.map((m) => {
    const li = document.createElement("li");
    // Within half a second of the end (the end's own entries, written a moment after the
    // session's end time) counts as the end: no time on the list lies past the total.
    const offset = Math.min(m.at - requestAt, total);
    if (m.at > endAt + 0.5) {
      li.textContent = `${t("player.afterEnd")} ${clock(m.at - endAt)} ${m.label}`;
      return li;
    }
    li.append(button(`${clock(offset)} ${m.label}`, () => seekTo(offset)));
    return li;
  }));
  if (events.length < 2) {
    $("timeline").prepend(Object.assign(document.createElement("li"), { textContent: t("player.noScreen") }));
    document.body.dataset.player = "empty";
    return;
  }
  const player = new Replayer(events, { root: $("player-root"), mouseTail: false, skipInactive: false, triggerFocus: false,
                                        UNSAFE_replayCanvas: false, speed: Number($("speed").value) });
  st.player = player;
  player.iframe.setAttribute("title", t("player.frame"));
  const mirrorStart = events[0].timestamp / 1000;
  const lead = mirrorStart - requestAt; // the request clock at the player's 0
  const playerTotal = player.getMetaData().totalTime;
  const meta0 = events.find((e) => e.type === 4);
  const viewport = meta0 ? meta0.data : { width: 390, height: 844 };
  fit($("player-stage"), $("player-root"), viewport);
  const layer = document.createElement("div");
  layer.className = "replay-marks";
  $("player-root").append(layer);
  const annotated = annotations.sort((a, b) => a.t - b.t);

  // The clock (seconds since the request) the console shows; the screen follows it as far as
  // the mirror goes (a seek past the last screen change keeps the last screen, marks and all).
  const show = (at) => {
    syncAudio(st.audioTracks, at, st.playing, Number($("speed").value));
    $("time-now").textContent = clock(at);
    $("seek").value = String(Math.round((at / Math.max(1, total)) * 1000));
    drawMarks(layer, player, viewport, marksAt(annotated, requestAt + at + 0.001));
  };
  // One clock for screen and sound, from the request to the end: the mirror may fall silent
  // long before the call ends (a still page), the audio and the marks go on.
  const speed = () => Number($("speed").value);
  const clockNow = () => (st.playing ? st.playFrom + ((performance.now() - st.playStart) / 1000) * speed() : st.playFrom);
  const placeMirror = (at) => {
    const ms = Math.min(playerTotal, Math.max(0, (at - lead) * 1000));
    if (st.playing && ms < playerTotal) player.play(ms);
    else player.pause(ms);
  };
  seekTo = (offset) => {
    st.playFrom = Math.min(total, Math.max(0, offset));
    st.playStart = performance.now();
    placeMirror(st.playFrom);
    show(st.playFrom);
  };
  const stop = (finished) => {
    st.playFrom = clockNow();
    st.playing = false;
    player.pause();
    syncAudio(st.audioTracks, st.playFrom, false, 1);
    $("play").textContent = t("player.play");
    if (finished) document.body.dataset.player = "finished";
  };
  st.playing = false;
  st.playFrom = 0;
  player.pause(0);
  show(0);
  document.body.dataset.player = "ready";
  st.playerTimer = setInterval(() => {
    if (!st.playing) return;
    const at = clockNow();
    if (at >= total) { stop(true); show(total); return; }
    const mirrorMs = (at - lead) * 1000;
    if (mirrorMs >= 0 && mirrorMs < playerTotal && player.service.state.value !== "playing") player.play(mirrorMs);
    show(at);
  }, 200);
  $("seek").oninput = () => seekTo((Number($("seek").value) / 1000) * total);
  $("play").onclick = () => {
    if (st.playing) return stop(false);
    if (st.playFrom >= total) st.playFrom = 0;
    st.playing = true;
    st.playStart = performance.now();
    placeMirror(st.playFrom);
    $("play").textContent = t("player.pause");
    document.body.dataset.player = "playing";
  };
  $("speed").onchange = () => {
    st.playFrom = clockNow();
    st.playStart = performance.now();
    player.setConfig({ speed: speed() });
  };
}

// The line as it stands, callbacks marked (a callback waits for an agent whoever is on shift).
let showLine = null;
function renderLine({ waiting, total }) {
  $("line-total").textContent = t("queue.total", { n: total });
  showLine ??= tickingLine($("line"), requestLine);
  showLine(waiting);
}
