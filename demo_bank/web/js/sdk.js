// The assist SDK (window.Assist, from /sdk/assist.js). Every call is guarded: the bank app
// works the same when the SDK failed to load or throws.

function call(name, ...args) {
  try {
    const sdk = window.Assist;
    if (sdk && typeof sdk[name] === 'function') return { ok: true, value: sdk[name](...args) };
  } catch (error) {
    console.warn(`Assist.${name} failed`, error);
    return { ok: false, error };
  }
  return { ok: false, error: null };
}

export function available() {
  return Boolean(window.Assist && typeof window.Assist.requestHelp === 'function');
}

// The bank's phone line, offered when no agent can take a request in the app.
const HOTLINE = '400-000-9555';

export function init(token, edition, language) {
  return call('init', { token, edition, language, hotline: HOTLINE, page: () => location.hash || '#/home' });
}

export function configure(edition, language, token) {
  return call('configure', { edition, language, token });
}

export function requestHelp(topic, transcript = []) {
  return call('requestHelp', { topic, transcript });
}

// Whether an agent is with the customer right now (a live session).
export function inSession() {
  const answer = call('state');
  return Boolean(answer.ok && answer.value && answer.value.sessionId);
}

export function noteStep(step) {
  return call('noteStep', step);
}

export function shutdown() {
  return call('shutdown');
}
