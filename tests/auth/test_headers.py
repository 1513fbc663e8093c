"""The same security headers on every response: each route the app has, unrouted 404s, wrong
methods, and /metrics behind its token."""

from __future__ import annotations

import re

import aiohttp
import pytest


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) for each route, with a placeholder in each variable part."""
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if not path or route.method == "HEAD":
            continue
        found.add((route.method if route.method != "*" else "GET", re.sub(r"\{[^}]+\}", "x", path)))
    return sorted(found)


@pytest.fixture
async def harness(start_server):
    return await start_server(voice=False)


async def test_every_response_carries_the_headers(harness):
    routes = every_route(harness.app)
    paths = {path for _, path in routes}
    assert {"/", "/agent", "/supervisor", "/api/auth/logout", "/healthz", "/metrics"} <= paths, paths
    token = await harness.login("super01")
    cases = routes + [("GET", "/no/such/page"), ("GET", "/api/no/such"), ("PUT", "/healthz"), ("GET", "/app/../../etc/passwd")]
    async with aiohttp.ClientSession() as http:
        for method, path in cases:
            for auth in ({}, {"Authorization": f"Bearer {token}"}):
                async with http.request(method, harness.base_url + path, headers=auth, allow_redirects=False) as resp:
                    await resp.read()
                    check_headers(method, path, resp.status, resp.headers)
    seen = {(m, p) for m, p in cases}
    assert ("GET", "/no/such/page") in seen


def check_headers(method: str, path: str, status: int, headers) -> None:
    where = f"{method} {path} -> {status}"
    csp = {
        part.split(" ", 1)[0]: part.split(" ", 1)[1]
        for part in (p.strip() for p in headers.get("Content-Security-Policy", "").split(";"))
        if " " in part
    }
    assert csp.get("connect-src") == "'self'", (where, csp)
    assert csp.get("base-uri") == "'none'" and csp.get("form-action") == "'self'", (where, csp)
    assert csp.get("frame-ancestors") == "'none'" and csp.get("object-src") == "'none'", (where, csp)
    assert "ws:" not in str(csp) and "wss:" not in str(csp), where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    policy = headers.get("Permissions-Policy", "")
    microphone = "microphone=(self)" if path in ("/", "/agent") else "microphone=()"
    assert microphone in policy and "camera=()" in policy and "geolocation=()" in policy, (where, policy)
    if path.startswith("/api/"):
        assert headers.get("Cache-Control") == "no-store", where


async def test_metrics_need_the_metrics_token(harness):
    status, text = await harness.http("GET", "/metrics", harness.config.metrics_token)
    assert status == 200 and "assist_queue_length" in text
    for token in (None, "nope", harness.config.metrics_token + "x", await harness.login("super01")):
        status, text = await harness.http("GET", "/metrics", token)
        assert status == 401 and "assist_" not in str(text)


async def test_without_a_configured_metrics_token_one_is_generated_and_kept(start_server, tmp_path):
    harness = await start_server(voice=False, metrics_token="")
    kept = tmp_path / "var" / "metrics-token"
    assert (await harness.http("GET", "/metrics"))[0] == 401
    assert kept.stat().st_mode & 0o777 == 0o600
    assert (await harness.http("GET", "/metrics", kept.read_text().strip()))[0] == 200
