// The voice assistant's transport: the microphone over WebRTC to the bank's own server, which
// recognizes speech offline and answers with live captions and the final intent. Audio goes
// nowhere else. One utterance at a time: start() (tap), stop() (tap again) or silence ends it.
import { call } from "./protocol.js";

const GATHER_MS = 1500; // the server does not trickle candidates, so we send ours complete

export class Voice {
  constructor(socket, iceServers, audio) {
    this.socket = socket;
    this.iceServers = iceServers;
    this.audio = audio;
    this.pc = null;
    this.mic = null;
    this.handlers = null;
    this.onPartial = (msg) => this.handlers && this.handlers.onPartial(msg.text);
    this.onResult = (msg) => { const h = this.handlers; this.cleanup(); if (h) h.onResult(msg); };
    this.onError = (msg) => { const h = this.handlers; this.cleanup(); if (h) h.onError(msg); };
    socket.on("voice_partial", this.onPartial);
    socket.on("voice_result", this.onResult);
    socket.on("voice_error", this.onError);
  }

  get listening() {
    return this.pc !== null;
  }

  async start({ lang = "zh", onPartial = () => {}, onResult = () => {}, onError = () => {} } = {}) {
    this.cleanup();
    this.handlers = { onPartial, onResult, onError };
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: this.audio, video: false });
      const pc = new RTCPeerConnection({ iceServers: this.iceServers });
      this.pc = pc;
      this.mic.getAudioTracks().forEach((t) => pc.addTrack(t, this.mic));
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const reply = await call(this.socket, "voice_start", { lang, sdp: pc.localDescription.sdp }, 15000);
      await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    } catch (err) {
      const h = this.handlers;
      this.cleanup();
      // A refusal from the server carries our code; anything else is the browser's microphone
      // (a DOMException, whose numeric `code` means nothing to the page).
      const ours = typeof err.code === "string";
      h.onError({ code: ours ? err.code : "no_microphone", message: ours ? err.message : "" });
    }
  }

  async stop() {
    if (this.pc) await call(this.socket, "voice_stop", {}).catch(() => {});
  }

  cleanup() {
    if (this.pc) this.pc.close();
    if (this.mic) this.mic.getTracks().forEach((t) => t.stop());
    this.pc = null;
    this.mic = null;
    this.handlers = null;
  }

  destroy() {
    this.cleanup();
    this.socket.off("voice_partial", this.onPartial);
    this.socket.off("voice_result", this.onResult);
    this.socket.off("voice_error", this.onError);
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_MS);
  });
}
