// What the app remembers: the sign-in (sessionStorage, gone with the tab), the edition
// (localStorage, kept), and the transfer being prepared (sessionStorage).

const TOKEN = 'assist-bank.session';
const EDITION = 'assist-bank.edition';
const DRAFT = 'assist-bank.transfer';
export const EDITIONS = ['standard', 'elderly', 'english'];

function read(storage, key) {
  try {
    return JSON.parse(storage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

export function signIn(login) {
  sessionStorage.setItem(TOKEN, JSON.stringify({
    token: login.token, name: login.display_name, expiresAt: Date.now() + login.expires_in * 1000,
  }));
}

// The token is short-lived; while the customer is active (or being helped) the app swaps it
// for a fresh one before it expires, so a long assisted session is not cut off mid-way.
export async function refreshIfDue(now = Date.now()) {
  const s = current();
  if (!s || s.expiresAt - now > 5 * 60 * 1000) return null;
  const response = await fetch('/api/auth/refresh', { method: 'POST', headers: { Authorization: `Bearer ${s.token}` } });
  if (!response.ok) return null;
  const answer = await response.json();
  signIn({ ...answer, display_name: s.name });
  return answer.token;
}

export function current() {
  return read(sessionStorage, TOKEN);
}

export function token() {
  const s = current();
  return s ? s.token : null;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(DRAFT);
}

export function edition() {
  let value = null;
  try {
    value = localStorage.getItem(EDITION);
  } catch { /* storage disabled: the default */ }
  return EDITIONS.includes(value) ? value : 'standard';
}

export function setEdition(value) {
  try {
    localStorage.setItem(EDITION, value);
  } catch { /* remembered for this page only */ }
}

export function languageOf(ed) {
  return ed === 'english' ? 'en' : 'zh';
}

export function draft() {
  return read(sessionStorage, DRAFT) || {};
}

export function saveDraft(value) {
  sessionStorage.setItem(DRAFT, JSON.stringify(value));
}

export function updateDraft(changes) {
  const next = { ...draft(), ...changes };
  saveDraft(next);
  return next;
}

export function clearDraft() {
  sessionStorage.removeItem(DRAFT);
}

// An idempotency key for one transfer: random, made on this device (works without a secure context).
export function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
