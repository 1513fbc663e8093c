// Sign-in shared by the agent and supervisor consoles: the token lives in sessionStorage only
// (gone with the tab), and a refused token sends the user back to the form. The sign-out button
// signs out on the server too: every token of this user is refused and their sockets closed.
const $ = (id) => document.getElementById(id);

export function signIn({ role, tokenKey, wrongRole, failed, onToken }) {
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
