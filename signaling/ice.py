"""ICE servers for clients, with time-limited TURN credentials (coturn `use-auth-secret`).

The TURN REST API scheme: username = "<expiry unix time>:<user id>", password =
base64(HMAC-SHA1(shared secret, username)). coturn recomputes the HMAC and refuses a username
whose expiry has passed, so a leaked credential is useless after the TTL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def turn_credential(secret: str, user_id: str, now: float, ttl_s: int) -> tuple[str, str]:
    username = f"{int(now) + ttl_s}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(
    stun_urls: tuple[str, ...], turn_urls: tuple[str, ...], turn_secret: str, ttl_s: int, user_id: str, now: float
) -> list[dict]:
    servers: list[dict] = []
    if stun_urls:
        servers.append({"urls": list(stun_urls)})
    if turn_urls and turn_secret:
        username, credential = turn_credential(turn_secret, user_id, now, ttl_s)
        servers.append({"urls": list(turn_urls), "username": username, "credential": credential})
    return servers
