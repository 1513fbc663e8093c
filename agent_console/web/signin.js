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

export function signOut(tokenKey) {
  sessionStorage.removeItem(tokenKey);
  location.reload();
}
