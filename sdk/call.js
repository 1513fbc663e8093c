// The WebRTC audio call between customer and agent, peer to peer, signaled through the server
// (rtc_signal). The agent's side offers, the customer's side answers; either side can ask for
// a fresh offer ("restart") after a reload or a network change. Shared by SDK and console.

export class Call {
  // signal(payload) sends {kind, sdp?, candidate?}; onState(state) reports the connection state.
  constructor({ role, iceServers = [], signal, onState = () => {}, audio = true, container = document.body }) {
    this.role = role; // "offerer" (agent) or "answerer" (customer)
    this.iceServers = iceServers;
    this.signal = signal;
    this.onState = onState;
    this.audioConstraints = audio;
    this.pc = null;
    this.local = null;
    this.pendingCandidates = [];
    this.audioEl = document.createElement("audio");
    this.audioEl.autoplay = true;
    this.audioEl.hidden = true;
    container.append(this.audioEl);
  }

  async peer() {
    if (this.pc) return this.pc;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    pc.onicecandidate = (e) => {
      if (e.candidate) this.signal({ kind: "candidate", candidate: e.candidate.toJSON() });
    };
    pc.onconnectionstatechange = () => this.onState(pc.connectionState);
    pc.ontrack = (e) => {
      this.audioEl.srcObject = e.streams[0] || new MediaStream([e.track]);
    };
    try {
      this.local = await navigator.mediaDevices.getUserMedia({ audio: this.audioConstraints, video: false });
      for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    } catch {
      // No microphone (or refused): still receive the other side's voice.
      pc.addTransceiver("audio", { direction: "recvonly" });
      this.onState("no-microphone");
    }
    return pc;
  }

  async start() {
    if (this.role !== "offerer") return this.signal({ kind: "restart" });
    this.close(false);
    const pc = await this.peer();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.signal({ kind: "offer", sdp: offer.sdp });
  }

  async handle(msg) {
    if (msg.kind === "restart") return this.role === "offerer" ? this.start() : undefined;
    if (msg.kind === "offer" && this.role === "answerer") {
      this.close(false);
      const pc = await this.peer();
      await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.signal({ kind: "answer", sdp: answer.sdp });
      await this.drainCandidates();
    } else if (msg.kind === "answer" && this.role === "offerer" && this.pc) {
      await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
      await this.drainCandidates();
    } else if (msg.kind === "candidate" && msg.candidate) {
      // Candidates can overtake the description they belong to: hold them until it is set.
      if (this.pc && this.pc.remoteDescription) await this.pc.addIceCandidate(msg.candidate).catch(() => {});
      else this.pendingCandidates.push(msg.candidate);
    }
  }

  async drainCandidates() {
    const waiting = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of waiting) await this.pc.addIceCandidate(c).catch(() => {});
  }

  setMuted(muted) {
    if (this.local) this.local.getAudioTracks().forEach((t) => (t.enabled = !muted));
  }

  close(final = true) {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.pendingCandidates = [];
    if (this.local) this.local.getTracks().forEach((t) => t.stop());
    this.local = null;
    if (final) {
      this.audioEl.srcObject = null;
      this.onState("closed");
    }
  }
}
