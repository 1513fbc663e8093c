"""HTTP endpoints: sign-in, the record, health and metrics, and the pages."""
from __future__ import annotations

import time
from collections import deque

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from signaling.domain.model import Role
from signaling.service import Principal

from .auth import AuthError, check_password

LOGIN_FAILURES_ALLOWED = 5  # per username per window, then 429 until the window passes
LOGIN_WINDOW_S = 300
HTTP_CODES = {400: "bad_payload", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 429: "too_many_attempts"}


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/"):
            raise
        response = json_error(exc.status, HTTP_CODES.get(exc.status, "http_error"), exc.reason)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def principal_of(request: web.Request) -> Principal:
    """The caller, from `Authorization: Bearer <token>`; raises AuthError."""
    from .server import TOKENS

    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else None
    return request.app[TOKENS].verify(token)


def staff(request: web.Request) -> Principal:
    """An agent or a supervisor (401 without a valid token, 403 for customers)."""
    try:
        principal = principal_of(request)
    except AuthError as exc:
        raise web.HTTPUnauthorized(reason=exc.message) from None
    if principal.role is Role.CUSTOMER:
        raise web.HTTPForbidden(reason="Forbidden")
    return principal


def add_routes(app: web.Application) -> None:
    from .server import CONFIG, METRICS, RECORDS, TOKENS  # keys live with the composition root

    failures: dict[str, deque[float]] = {}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        app[METRICS].record_backlog.set(app[RECORDS].backlog)
        return web.Response(body=app[METRICS].render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def login(request: web.Request) -> web.Response:
        try:
            body = LoginIn.model_validate(await request.json())
        except (ValueError, ValidationError):
            return json_error(400, "bad_payload", "Send JSON with a username and a password.")
        now = time.time()
        recent = failures.setdefault(body.username, deque())
        while recent and now - recent[0] > LOGIN_WINDOW_S:
            recent.popleft()
        if len(recent) >= LOGIN_FAILURES_ALLOWED:
            return json_error(429, "too_many_attempts", "Too many failed sign-ins; wait a few minutes.")
        account = await app[RECORDS].get_user_async(body.username)
        valid = check_password(account["password_hash"] if account else None, body.password)
        if not valid or not account["active"]:
            recent.append(now)
            return json_error(401, "bad_credentials", "Wrong username or password.")
        failures.pop(body.username, None)
        return web.json_response({"token": app[TOKENS].issue(account), "role": account["role"],
                                  "display_name": account["display_name"],
                                  "expires_in": app[CONFIG].token_ttl_s})

    async def refresh(request: web.Request) -> web.Response:
        try:
            principal = principal_of(request)
        except AuthError as exc:
            return json_error(401, exc.code, exc.message)
        account = await app[RECORDS].get_user_async(principal.user_id)
        if account is None or not account["active"]:
            return json_error(401, "unauthorized", "This account can no longer sign in.")
        return web.json_response({"token": app[TOKENS].issue(account), "role": account["role"],
                                  "display_name": account["display_name"],
                                  "expires_in": app[CONFIG].token_ttl_s})

    async def list_requests(request: web.Request) -> web.Response:
        principal = staff(request)
        try:
            limit = max(1, min(500, int(request.query.get("limit", "100"))))
        except ValueError:
            return json_error(400, "bad_payload", "limit must be a number.")
        agent = principal.user_id if principal.role is Role.AGENT else None
        rows = await app[RECORDS].list_requests(agent_id=agent, limit=limit)
        return web.json_response({"requests": rows})

    async def get_request(request: web.Request) -> web.Response:
        principal = staff(request)
        row = await app[RECORDS].get_request(request.match_info["request_id"])
        # Another agent's request answers exactly like a missing one.
        if row is None or (principal.role is Role.AGENT and row["agent_id"] != principal.user_id):
            return json_error(404, "not_found", "No such request for you.")
        return web.json_response(row)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/refresh", refresh)
    app.router.add_get("/api/requests", list_requests)
    app.router.add_get("/api/requests/{request_id}", get_request)

