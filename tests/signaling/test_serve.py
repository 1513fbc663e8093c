"""`assist serve` as an operator runs it: a real process, its banner, its JSON logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import aiohttp
import pytest

from bench.common import free_port, wait_http
from tests.conftest import METRICS_TOKEN, Client

pytestmark = pytest.mark.server  # a real `assist serve` process

HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "/transfer"}


async def test_serve_process_banner_health_login_and_clean_logs(tmp_path):
    port = free_port()
    env = os.environ | {"ASSIST_VAR_DIR": str(tmp_path), "ASSIST_GRACE_S": "1", "ASSIST_METRICS_TOKEN": METRICS_TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assist.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    tokens = {}
    try:
        wait_http(f"{base}/healthz")
        async with aiohttp.ClientSession() as http:
            for user in ("zhangsan", "agent01", "super01"):
                async with http.post(f"{base}/api/auth/login", json={"username": user, "password": "demo1234"}) as r:
                    assert r.status == 200
                    tokens[user] = (await r.json())["token"]
            async with http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) as r:
                assert "assist_queue_length" in await r.text()
        agent = Client(base, tokens["agent01"], "agent01")
        customer = Client(base, tokens["zhangsan"], "zhangsan")
        await agent.connect()
        await customer.connect()
        await agent.call("agent_state", {"state": "available"})
        await customer.call("help_request", HELP)
        offer = await agent.expect("offer")
        await agent.call("offer_accept", {"offer_id": offer["offer_id"]})
        session_id = (await customer.expect("session_started"))["session_id"]
        await customer.call("end_session", {"session_id": session_id})
        await agent.expect("session_ended")
        await agent.close()
        await customer.close()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}/" in out and "demo1234" in out and "super01" in out
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(line.get("session_id") == session_id for line in lines)
    assert all("timestamp" in line and "level" in line for line in lines)
    for secret in [*tokens.values(), "demo1234"]:
        assert secret not in err
