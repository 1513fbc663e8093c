// The supervisor console: the live wall, live sessions (silent monitor with the call's audio,
// whisper, barge in), agents' invitations, and recordings with a player. Read-only towards
// the customer: like the agent console, it has no way to act on the customer's device.
import { Replayer } from "rrweb";
import { call, connect, sequence } from "../../assist/web/protocol.js";
import { ChunkJoiner, LiveMirror, fit } from "./replay.js";
import { signIn, signOut } from "./signin.js";
import { EDITIONS, requestLine } from "./words.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "assist.supervisor.token";
const STATES = { awaiting_consent: "等待同意", sharing: "共享中", stopped: "已停止共享" };
const AGENT_STATES = { available: "就绪", offered: "振铃", busy: "通话", wrap_up: "小结", away: "小休", offline: "离线" };
const OUTCOMES = { resolved: "已解决", needs_follow_up: "需回访", transferred: "已转接", dropped: "中断",
                   customer_declined: "客户拒绝", other: "其他" };

const st = { token: null, socket: null, watching: null, mirror: null, audio: null, seq: sequence(),
             wall: null, player: null, playerTimer: null, sessions: [] };
window.assistSupervisor = st; // for tests and debugging: read-only use

signIn({ role: "supervisor", tokenKey: TOKEN_KEY, wrongRole: "此账户不是主管账户。", onToken: start });

function start(token) {
  st.token = token;
  st.socket = connect(token, { onRefused: () => signOut(TOKEN_KEY) });
  const socket = st.socket;
  socket.on("connect", refresh);
  socket.on("queue", renderLine);
  socket.on("wall", (wall) => { renderWall(wall); refresh(); });
  socket.on("supervisor_invited", (msg) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "加入";
    button.addEventListener("click", () => watch(msg.session_id, "barge"));
    li.append(`${msg.agent} 请求协助：${msg.request.customer_name}${msg.note ? `（${msg.note}）` : ""} `, button);
    $("invites").prepend(li);
  });
  socket.on("mirror", (msg) => {
    if (st.watching && msg.session_id === st.watching) {
      const before = st.mirror.viewport;
      st.mirror.push(msg.events);
      if (st.mirror.viewport && st.mirror.viewport !== before) fit($("monitor-stage"), $("monitor-root"), st.mirror.viewport);
    }
  });
  socket.on("monitor_signal", (msg) => { if (st.audio && msg.session_id === st.watching) st.audio.handle(msg); });
  socket.on("session_ended", (msg) => { if (msg.session_id === st.watching) stopWatching(); });
}

async function refresh() {
  const reply = await call(st.socket, "sync", {});
  $("who").textContent = `${reply.display_name}（${reply.user}）`;
  if (reply.view.wall) renderWall(reply.view.wall);
  renderLine({ waiting: reply.view.queue, total: reply.view.queue.length });
  renderSessions(reply.view.sessions);
}

// ---------------------------------------------------------------- the wall
const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const secs = (v) => (v === null || v === undefined ? "—" : `${Math.round(v)} 秒`);

function renderWall(w) {
  st.wall = w;
  $("w-waiting").textContent = w.waiting;
  $("w-longest").textContent = secs(w.longest_wait_s);
  $("w-threshold").textContent = w.threshold_s;
  $("w-sl").textContent = pct(w.service_level);
  $("w-abandon").textContent = pct(w.abandonment_rate);
  $("w-asa").textContent = secs(w.average_speed_of_answer_s);
  $("w-aht").textContent = secs(w.average_handle_time_s);
  $("w-sessions").textContent = w.sessions_active;
  $("w-agents").textContent = Object.entries(w.agents_by_state).filter(([, n]) => n)
    .map(([s, n]) => `${AGENT_STATES[s] || s} ${n}`).join("，") || "—";
  $("w-classes").textContent = Object.entries(w.waiting_by_class).map(([c, n]) => `${c} ${n}`).join("，") || "—";
}

function renderSessions(sessions) {
  st.sessions = sessions;
  $("sessions").replaceChildren(...sessions.map((s) => {
    const tr = document.createElement("tr");
    const actions = document.createElement("td");
    for (const [mode, label] of [["monitor", "监听"], ["barge", "强插"]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.session = s.session_id;
      b.dataset.mode = mode;
      b.addEventListener("click", () => watch(s.session_id, mode));
      actions.append(b);
    }
    for (const text of [s.customer.customer_name, `${s.agent.name} ${s.agent.badge}`, EDITIONS[s.customer.edition] || "", STATES[s.state] || s.state]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    tr.append(actions);
    return tr;
  }));
}

// ---------------------------------------------------------------- live monitoring
async function watch(sessionId, mode) {
  if (st.watching) await stopWatching();
  // Ready before joining: the server sends the current page right with the join.
  st.watching = sessionId;
  st.mirror = new LiveMirror($("monitor-root"), (status) => { $("monitor-paused").hidden = status !== "paused"; });
  $("monitor-view").hidden = false;
  let reply;
  try {
    reply = await call(st.socket, "supervisor_join", { session_id: sessionId, mode });
  } catch (err) {
    await stopWatching();
    return;
  }
  $("monitor-detail").textContent = `${reply.session.customer.customer_name} · ${reply.session.agent.name} · ${mode === "barge" ? "已强插" : "静默监听"}`;
  st.audio = new MonitorAudio(sessionId);
  st.audio.request();
}

async function stopWatching() {
  const id = st.watching;
  st.watching = null;
  if (st.mirror) st.mirror.destroy();
  st.mirror = null;
  if (st.audio) st.audio.close();
  st.audio = null;
  $("monitor-view").hidden = true;
  if (id) await call(st.socket, "supervisor_leave", { session_id: id }).catch(() => {});
}

$("leave-monitor").addEventListener("click", stopWatching);
$("barge").addEventListener("click", () => { if (st.watching) watch(st.watching, "barge"); });
$("whisper-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!st.watching) return;
  await call(st.socket, "whisper", { session_id: st.watching, text: $("whisper-text").value });
  $("whisper-text").value = "";
});

// The call's audio, forwarded by the agent's console over its own connection (receive only).
class MonitorAudio {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.pc = null;
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

  async handle(msg) {
    if (msg.kind === "offer") {
      if (this.pc) this.pc.close();
      this.pc = new RTCPeerConnection({ iceServers: [] });
      this.pc.ontrack = (e) => {
        this.el.srcObject = e.streams[0] || new MediaStream([e.track]);
      };
      this.pc.onicecandidate = (e) => { if (e.candidate) this.signal({ kind: "candidate", candidate: e.candidate.toJSON() }); };
      this.pc.onconnectionstatechange = () => {
        $("monitor-audio").textContent = this.pc.connectionState;
        document.body.dataset.monitorAudio = this.pc.connectionState;
      };
      await this.pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.signal({ kind: "answer", sdp: answer.sdp });
    } else if (msg.kind === "candidate" && this.pc && msg.candidate) {
      await this.pc.addIceCandidate(msg.candidate).catch(() => {});
    }
  }

  close() {
    if (this.pc) this.pc.close();
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
  const res = await fetch(path, { headers: { Authorization: `Bearer ${st.token}` } });
  if (res.status === 401) signOut(TOKEN_KEY);
  return res.json();
}

async function loadRecordings() {
  const q = new URLSearchParams();
  const day = (id, end) => { const v = $(id).value; return v ? String(new Date(`${v}T00:00:00`).getTime() / 1000 + (end ? 86400 : 0)) : ""; };
  const filters = { from: day("f-from"), to: day("f-to", true), agent: $("f-agent").value.trim(),
                    customer: $("f-customer").value.trim(), outcome: $("f-outcome").value };
  Object.entries(filters).forEach(([k, v]) => { if (v) q.set(k, v); });
  const { recordings } = await api(`/api/recordings?${q}`);
  $("recordings").replaceChildren(...recordings.map((r) => {
    const tr = document.createElement("tr");
    for (const text of [new Date(r.started_at * 1000).toLocaleString("zh-CN"), r.customer_id, r.agents.join("、"),
                        OUTCOMES[r.outcome] || r.outcome || "—", `${Math.ceil(r.bytes / 1024)} KB`]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const td = document.createElement("td");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "回放";
    b.dataset.recording = r.session_id;
    b.addEventListener("click", () => openRecording(r.session_id));
    td.append(b);
    tr.append(td);
    return tr;
  }));
}
$("rec-filter").addEventListener("submit", (e) => { e.preventDefault(); loadRecordings(); });

const clock = (ms) => { const s = Math.max(0, Math.floor(ms / 1000)); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; };

async function openRecording(sessionId) {
  const [meta, { events: items }] = await Promise.all([api(`/api/recordings/${sessionId}`), api(`/api/recordings/${sessionId}/events`)]);
  const joiner = new ChunkJoiner();
  const events = [];
  const marks = meta.timeline.map((t) => ({ at: t.at, label: t.event }));
  for (const item of items) {
    if (item.kind === "annotation") {
      marks.push({ at: item.t, label: `annotation:${item.data.kind}${item.data.caption ? ` “${item.data.caption}”` : ""}` });
      continue;
    }
    for (const e of joiner.events(item.data.events)) {
      if (e.type === 5 && e.data && e.data.tag === "assist-paused") marks.push({ at: item.t, label: "paused" });
      // Server receive time: one clock for the whole recording, whatever the phone's said.
      events.push({ ...e, timestamp: Math.round(item.t * 1000) });
    }
  }
  if (st.player) st.player.destroy?.();
  clearInterval(st.playerTimer);
  $("player-root").replaceChildren();
  $("player-view").hidden = false;
  if (events.length < 2) {
    $("timeline").replaceChildren(Object.assign(document.createElement("li"), { textContent: "此录像没有画面" }));
    return;
  }
  const player = new Replayer(events, { root: $("player-root"), mouseTail: false, skipInactive: false, triggerFocus: false,
                                        UNSAFE_replayCanvas: false, speed: Number($("speed").value) });
  st.player = player;
  $("player-root").querySelector("iframe").setAttribute("title", "录像画面");
  const start = events[0].timestamp;
  const total = player.getMetaData().totalTime;
  const meta0 = events.find((e) => e.type === 4);
  if (meta0) fit($("player-stage"), $("player-root"), meta0.data);
  $("time-total").textContent = clock(total);
  marks.sort((a, b) => a.at - b.at);
  $("timeline").replaceChildren(...marks.map((m) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    const offset = Math.max(0, Math.round(m.at * 1000) - start);
    b.textContent = `${clock(offset)} ${m.label}`;
    b.addEventListener("click", () => seek(offset));
    li.append(b);
    return li;
  }));
  player.on("finish", () => { st.playing = false; $("play").textContent = "播放"; document.body.dataset.player = "finished"; });
  st.playing = false;
  player.pause(0);
  document.body.dataset.player = "ready";
  st.playerTimer = setInterval(() => {
    const now = Math.min(total, player.getCurrentTime());
    $("time-now").textContent = clock(now);
    $("seek").value = String(Math.round((now / Math.max(1, total)) * 1000));
  }, 200);

  function seek(offset) {
    if (st.playing) player.play(offset);
    else player.pause(offset);
  }
  $("seek").oninput = () => seek((Number($("seek").value) / 1000) * total);
  $("play").onclick = () => {
    if (st.playing) { player.pause(); st.playing = false; $("play").textContent = "播放"; }
    else { player.play(player.getCurrentTime() >= total ? 0 : player.getCurrentTime()); st.playing = true; $("play").textContent = "暂停"; document.body.dataset.player = "playing"; }
  };
  $("speed").onchange = () => player.setConfig({ speed: Number($("speed").value) });
}

// The line as it stands, callbacks marked (a callback waits for an agent whoever is on shift).
function renderLine({ waiting, total }) {
  $("line-total").textContent = `（${total}）`;
  $("line").replaceChildren(...waiting.map((r) => Object.assign(document.createElement("li"),
    { textContent: requestLine(r) })));
}
