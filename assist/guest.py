"""Help before sign-in: someone who cannot sign in may still ask for an agent.

`POST /api/auth/guest` gives a short-lived customer token for a guest ("未登录客户"): no bank
account behind it (the bank API refuses it), one help request (the call center refuses a
second, and callbacks), and a few tokens per client address in a window, so it cannot be
used to flood the line.
"""

from __future__ import annotations

import secrets
import time

from aiohttp import web
from limits import parse

from signaling.domain.model import GUEST_PREFIX

from .appkeys import CONFIG, THROTTLE, TOKENS
from .auth import Tokens
from .http_api import json_error
from .throttle import client_address

GUEST_TTL_S = 600
GUEST_NAME = "未登录客户"
# Per client address, in the sign-in throttle's storage: shared by every node when scaled out.
TOKENS_PER_CLIENT = parse("3/10minutes")


def add_routes(app: web.Application) -> None:
    async def guest(request: web.Request) -> web.Response:
        address = client_address(request.remote, request.headers.get("X-Forwarded-For"), app[CONFIG].trusted_proxies)
        limiter = app[THROTTLE].limiter
        if not await limiter.hit(TOKENS_PER_CLIENT, "guest", address):
            return json_error(
                429,
                "too_many_attempts",
                "Too many requests for help without signing in; please wait a few minutes or call the hotline.",
            )
        now = time.time()
        tokens = Tokens(app[TOKENS].secret, GUEST_TTL_S, app[TOKENS].issuer)
        account = {
            "username": f"{GUEST_PREFIX}{secrets.token_hex(8)}",
            "role": "customer",
            "display_name": GUEST_NAME,
            "guest": True,
        }
        return web.json_response(
            {"token": tokens.issue(account, now), "role": "customer", "display_name": GUEST_NAME, "expires_in": GUEST_TTL_S}
        )

    app.router.add_post("/api/auth/guest", guest)
