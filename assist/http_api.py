"""HTTP endpoints: sign-in, the record, health and metrics, and the pages."""

from __future__ import annotations

import asyncio
import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.exceptions import RedisError

from signaling.domain.model import Role
from signaling.service import Principal

from . import demo
from .appkeys import ACCOUNTS, AUTH, CONFIG, METRICS, PASSWORDS, RECORDS, REVOCATIONS, THROTTLE, TOKENS
from .auth import AuthError, Busy
from .throttle import client_address

HTTP_CODES = {
    400: "bad_payload",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "too_many_attempts",
}
CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The microphone only on the pages that use it: the bank app (call, voice assistant) and the
# agent console (call). Everything else may use no powerful feature at all.
NO_FEATURES = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=()"
MICROPHONE_PAGES = ("/", "/agent")
PERMISSIONS = {page: NO_FEATURES.replace("microphone=()", "microphone=(self)") for page in MICROPHONE_PAGES}


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


def json_error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


@web.middleware
async def security_headers(request: web.Request, handler):
    """The same headers on every response: pages, API, bundles, errors and unrouted 404s."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if request.path.startswith("/api/"):
            response = json_error(exc.status, HTTP_CODES.get(exc.status, "http_error"), exc.reason)
        else:
            response = web.Response(status=exc.status, text=exc.text, headers=exc.headers)
    if getattr(response, "prepared", False):  # a WebSocket (or a stream) already sent its headers
        return response
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("Permissions-Policy", PERMISSIONS.get(request.path, NO_FEATURES))
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    return response


async def principal_of(request: web.Request) -> Principal:
    """The caller, from `Authorization: Bearer <token>`; raises AuthError."""
    return await request.app[AUTH].verify(bearer(request))


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


async def staff(request: web.Request) -> Principal:
    """An agent or a supervisor (401 without a valid token, 403 for customers)."""
    try:
        principal = await principal_of(request)
    except AuthError as exc:
        raise web.HTTPUnauthorized(reason=exc.message) from None
    if principal.role is Role.CUSTOMER:
        raise web.HTTPForbidden(reason="Forbidden")
    return principal


def add_routes(app: web.Application) -> None:
    config = app[CONFIG]
    metrics_token = config.resolved_metrics_token().encode()

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def metrics(request: web.Request) -> web.Response:
        if not hmac.compare_digest((bearer(request) or "").encode(), metrics_token):
            return web.Response(
                status=401,
                text="Metrics need `Authorization: Bearer <ASSIST_METRICS_TOKEN>`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        app[METRICS].record_backlog.set(app[RECORDS].backlog)
        return web.Response(body=app[METRICS].render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def signed_in(account: dict) -> web.Response:
        return web.json_response(
            {
                "token": app[TOKENS].issue(account),
                "role": account["role"],
                "display_name": account["display_name"],
                "expires_in": config.token_ttl_s,
            }
        )

    async def login(request: web.Request) -> web.Response:
        try:
            body = LoginIn.model_validate(await request.json())
        except (ValueError, ValidationError):
            return json_error(400, "bad_payload", "Send JSON with a username and a password.")
        address = client_address(request.remote, request.headers.get("X-Forwarded-For"), config.trusted_proxies)
        try:
            return await attempt_login(address, body)
        except (RedisError, OSError):  # the shared throttle cannot count: no sign-in it cannot count
            return json_error(503, "unavailable", "Sign-in is briefly unavailable; please try again.", **{"Retry-After": "1"})

    async def attempt_login(address: str, body: LoginIn) -> web.Response:
        async with app[THROTTLE].attempt(address, body.username) as wait:
            if wait is not None:
                return json_error(
                    429,
                    "too_many_attempts",
                    f"Too many sign-in attempts; try again in {wait.seconds} seconds.",
                    **{"Retry-After": str(wait.seconds)},
                )
            try:
                if app[PASSWORDS].full:  # refused before it costs a database read
                    raise Busy()
                account = await app[RECORDS].get_user_async(body.username)
                valid = await app[PASSWORDS].check(account["password_hash"] if account else None, body.password)
            except Busy:
                return json_error(503, "busy", "Too many sign-ins at once; try again in a moment.", **{"Retry-After": "1"})
            if not config.demo and body.password == demo.DEMO_PASSWORD:
                valid = False  # the published demo password never opens anything in production
            if not valid or account is None or not account["active"]:
                await app[THROTTLE].failed(address, body.username)
                return json_error(401, "bad_credentials", "Wrong username or password.")
            await app[THROTTLE].succeeded(address, body.username)
        return signed_in(account)

    async def current_account(request: web.Request) -> tuple[Principal, dict] | web.Response:
        try:
            principal = await principal_of(request)
        except AuthError as exc:
            return json_error(401, exc.code, exc.message)
        account = await app[RECORDS].get_user_async(principal.user_id)
        if account is None or not account["active"]:
            return json_error(401, "unauthorized", "This account can no longer sign in.")
        return principal, account

    async def refresh(request: web.Request) -> web.Response:
        found = await current_account(request)
        return found if isinstance(found, web.Response) else signed_in(found[1])

    async def logout(request: web.Request) -> web.Response:
        """Sign out everywhere: every token of this user so far is refused, their sockets closed."""
        found = await current_account(request)
        if isinstance(found, web.Response):
            return found
        principal = found[0]
        standing = await asyncio.get_running_loop().run_in_executor(None, app[ACCOUNTS].bump, principal.user_id)
        await app[REVOCATIONS].applied(principal.user_id, standing)
        return web.json_response({"signed_out": principal.user_id})

    async def list_requests(request: web.Request) -> web.Response:
        principal = await staff(request)
        try:
            limit = max(1, min(500, int(request.query.get("limit", "100"))))
        except ValueError:
            return json_error(400, "bad_payload", "limit must be a number.")
        agent = principal.user_id if principal.role is Role.AGENT else None
        rows = await app[RECORDS].list_requests(agent_id=agent, limit=limit)
        return web.json_response({"requests": rows})

    async def get_request(request: web.Request) -> web.Response:
        principal = await staff(request)
        row = await app[RECORDS].get_request(request.match_info["request_id"])
        # Another agent's request answers exactly like a missing one.
        if row is None or (principal.role is Role.AGENT and row["agent_id"] != principal.user_id):
            return json_error(404, "not_found", "No such request for you.")
        return web.json_response(row)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/refresh", refresh)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/requests", list_requests)
    app.router.add_get("/api/requests/{request_id}", get_request)
