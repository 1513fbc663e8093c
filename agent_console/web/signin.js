// Sign-in shared by the agent and supervisor consoles: the token lives in sessionStorage only
// (gone with the tab), and a refused token sends the user back to the form. The sign-out button
// signs out on the server too: every token of this user is refused and their sockets closed.
const $ = (id) => document.getElementById(id);

// beforeSignOut: may ask the user first (resolves false to stay signed in), and settles what
// is in hand (an agent's live session) before the token goes.
export function signIn({ role, tokenKey, wrongRole, failed, onToken, beforeSignOut = async () => true }) {
  const saved = sessionStorage.getItem(tokenKey);
  $("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    const res = await fetch("/api/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value, password: $("password").value }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok || body.role !== role) {
      $("login-error").textContent = res.ok ? wrongRole : (body.error && body.error.message) || failed;
      return;
    }
    sessionStorage.setItem(tokenKey, body.token);
    show(body.token);
  });

  function show(token) {
    $("login-view").hidden = true;
    $("desk-view").hidden = false;
    keepFresh(tokenKey);
    onToken(token);
  }
  $("sign-out").addEventListener("click", async () => {
    if (!(await beforeSignOut())) return;
    const token = sessionStorage.getItem(tokenKey);
    if (token) {
      await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } })
        .catch(() => {}); // offline: the token still lapses on its own
    }
    signOut(tokenKey);
  });
  if (saved) show(saved);
}

// Tokens live 15 minutes; a console stays open all shift. The token is swapped for a fresh one
// halfway through its life, so a reconnect (a node restarting, a network blip) presents a valid
// one: with the first token kept, the first reconnect after 15 minutes signed the agent out,
// mid-call if it came to that. A refresh refused (signed out, disabled) leaves the token to
// lapse, and the next connect is refused as it should be.
function keepFresh(tokenKey) {
  const token = sessionStorage.getItem(tokenKey);
  if (!token) return;
  const left = expiryOf(token) - Date.now();
  setTimeout(async () => {
    if (sessionStorage.getItem(tokenKey) !== token) return; // signed out, or another timer has it
    const res = await fetch("/api/auth/refresh", { method: "POST", headers: { Authorization: `Bearer ${token}` } })
      .catch(() => null);
    const body = res && res.ok ? await res.json().catch(() => null) : null;
    if (body && body.token) sessionStorage.setItem(tokenKey, body.token);
    else if (left < 30_000) return; // nothing more to try: it lapses
    keepFresh(tokenKey);
  }, Math.max(1000, left / 2));
}

function expiryOf(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return claims.exp * 1000;
  } catch {
    return 0;
  }
}

// The freshest token of this console (keepFresh swaps it): for every connect and request.
export function currentToken(tokenKey) {
  return sessionStorage.getItem(tokenKey);
}

export function signOut(tokenKey) {
  sessionStorage.removeItem(tokenKey);
  location.reload();
}
