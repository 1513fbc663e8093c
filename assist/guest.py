"""Help before sign-in: someone who cannot sign in may still ask for an agent.

`POST /api/auth/guest` gives a short-lived customer token for a guest ("未登录客户"): no bank
account behind it (the bank API refuses it), one help request (the call center refuses a
second, and callbacks), and a few tokens per client address in a window, so it cannot be
used to flood the line.
"""
from __future__ import annotations

import secrets
import time
from collections import deque

from aiohttp import web

from signaling.domain.model import GUEST_PREFIX

from .auth import Tokens
from .http_api import json_error

GUEST_TTL_S = 600
GUEST_NAME = "未登录客户"
TOKENS_PER_CLIENT = 3
WINDOW_S = 600.0


def add_routes(app: web.Application) -> None:
    from .server import TOKENS  # keys live with the composition root

    issued: dict[str, deque[float]] = {}

    async def guest(request: web.Request) -> web.Response:
        now = time.time()
        for address in [a for a, times in issued.items() if now - times[-1] > WINDOW_S]:
            del issued[address]  # forget clients quiet for a whole window
        recent = issued.setdefault(request.remote or "unknown", deque())
        while recent and now - recent[0] > WINDOW_S:
            recent.popleft()
        if len(recent) >= TOKENS_PER_CLIENT:
            return json_error(429, "too_many_attempts", "Too many requests for help without signing in; "
                                                        "please wait a few minutes or call the hotline.")
        recent.append(now)
        tokens = Tokens(app[TOKENS].secret, GUEST_TTL_S, app[TOKENS].issuer)
        account = {"username": f"{GUEST_PREFIX}{secrets.token_hex(8)}", "role": "customer",
                   "display_name": GUEST_NAME}
        return web.json_response({"token": tokens.issue(account, now), "role": "customer",
                                  "display_name": GUEST_NAME, "expires_in": GUEST_TTL_S})

    app.router.add_post("/api/auth/guest", guest)
