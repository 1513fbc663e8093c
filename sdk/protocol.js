// The signaling protocol as the front ends see it (docs/protocol.md is the reference).
// Shared by the customer SDK and the consoles, so both sides name events the same way.
import { io } from "socket.io-client";

export const PROTOCOL_VERSION = 1;

export const ANNOTATION_KINDS = ["pointer", "highlight", "draw", "clear"];

// An error the server acknowledged: `code` is stable, `message` is for people.
export class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// Connect with the user's token. websocket first, polling as the fallback (behind proxies that
// refuse WebSockets; engine.io only falls back when told to try all transports).
// `token` may be a function: every (re)connect then presents the freshest token.
export function connect(token, { url = "/", onRefused } = {}) {
  const socket = io(url, {
    auth: typeof token === "function" ? (cb) => cb({ token: token() }) : { token },
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 3000,
  });
  // A server that closes our socket on purpose (a node draining for a restart) does not get
  // an automatic reconnect from socket.io: ask for one, to whichever node answers now.
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 500);
  });
  socket.on("connect_error", (err) => {
    const code = err && err.data && err.data.code;
    // A refused token will not get better by retrying: stop and tell the page.
    if (code) {
      socket.disconnect();
      if (onRefused) onRefused(code, err.message);
    }
  });
  return socket;
}

// Send an event and wait for its acknowledgement; rejects with ProtocolError on refusal.
export function call(socket, event, payload = {}, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, reply) => {
      if (err) return reject(new ProtocolError("timeout", "The server did not answer in time."));
      if (!reply || reply.ok !== true) {
        const e = (reply && reply.error) || {};
        return reject(new ProtocolError(e.code || "unknown", e.message || "Refused."));
      }
      resolve(reply);
    });
  });
}

// Relay streams carry an increasing `seq`; starting from the clock keeps it increasing
// across page reloads without storing anything on the device.
export function sequence() {
  let last = Date.now() * 1000;
  return () => ++last;
}
