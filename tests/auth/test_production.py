"""Production mode is clean: demo accounts and demo tokens die with demo mode, and real accounts
come from `assist users` (a real process on the same data directory)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys

import pytest
import socketio

from assist.cli import main
from tests.conftest import Client

DEMO = ("zhangsan", "lisi", "agent01", "agent02", "super01")


async def refused_soon(harness, token: str, path: str = "/api/requests") -> None:
    """The running server notices a change made by another process within its poll period
    (0.5 s); give it ten times that before calling it a failure."""
    deadline = asyncio.get_running_loop().time() + 5
    while (status := (await harness.http("GET", path, token))[0]) != 401:
        assert asyncio.get_running_loop().time() < deadline, f"still {status}"
        await asyncio.sleep(0.1)


def assist_users(where, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """`assist users …` as an operator runs it, on a data directory or with a deployment's settings."""
    env = os.environ | (where if isinstance(where, dict) else {"ASSIST_VAR_DIR": str(where)})
    return subprocess.run(
        [sys.executable, "-m", "assist.cli", "users", *args],
        env=env,
        capture_output=True,
        text=True,
        input=None if password is None else password + "\n",
        timeout=60,
    )


def assist_users_refused(monkeypatch, capsys, var, *args: str, password: str | None = None) -> tuple[int, str]:
    """`assist users …` that must be refused, run in this process: the same code, without the
    two seconds a new Python process takes to start (eight of them were half this file's time).
    What the running server must notice is done by real processes (`assist_users`)."""
    monkeypatch.setenv("ASSIST_VAR_DIR", str(var))
    monkeypatch.setattr(sys, "stdin", io.StringIO("" if password is None else password + "\n"))
    capsys.readouterr()
    try:
        code = main(["users", *args])
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


async def test_demo_accounts_and_tokens_do_not_survive_a_production_restart(start_server, tmp_path):
    var = tmp_path / "var"
    demo = await start_server(var_dir=var, voice=False)
    tokens = {name: await demo.login(name) for name in DEMO}
    await demo.server.close()

    prod = await start_server(var_dir=var, demo=False, voice=False)
    for name in DEMO:
        status, body = await prod.http("POST", "/api/auth/login", json={"username": name, "password": "demo1234"})
        assert status == 401 and body["error"]["code"] == "bad_credentials", (name, body)
    for name, token in tokens.items():
        assert (await prod.http("POST", "/api/auth/refresh", token))[0] == 401, name
        client = Client(prod.base_url, token, name)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect()
        assert client.refusal["data"]["code"] in ("token_invalid", "token_revoked"), client.refusal
    assert (await prod.http("GET", "/api/requests", tokens["super01"]))[0] == 401
    assert (await prod.http("GET", "/api/bank/account", tokens["zhangsan"]))[0] == 401
    listed = assist_users(var, "list").stdout
    assert all(f"{name}\t" in listed and "disabled (demo)" in listed.split(f"{name}\t")[1].split("\n")[0] for name in DEMO), (
        listed
    )


async def test_operator_manages_real_accounts_with_assist_users(start_server, tmp_path, monkeypatch, capsys):
    var = tmp_path / "var"
    prod = await start_server(var_dir=var, demo=False, voice=False)
    made = assist_users(
        var, "add", "ops01", "--role", "supervisor", "--name", "Operator", "--password-stdin", password="correct horse battery"
    )
    assert made.returncode == 0, made.stderr
    token = await prod.login("ops01", "correct horse battery")
    assert (await prod.http("GET", "/api/requests", token))[0] == 200

    # Bad input: a clear message, exit 2, and nothing changed.
    for args, password, said in [
        (("add", "ops01", "--role", "agent", "--password-stdin"), "another long one", "already"),
        (("add", "bad name!", "--role", "agent", "--password-stdin"), "another long one", "username"),
        (("add", "ops02", "--role", "agent", "--password-stdin"), "short", "at least"),
        (("add", "ops02", "--role", "agent", "--password-stdin"), "demo1234", "at least"),
        (("add", "operator99", "--role", "agent", "--password-stdin"), "Operator99", "not allowed"),
        (("reset-password", "ops01", "--password-stdin"), "ops01", "at least"),
        (("disable", "nobody"), None, "no account"),
    ]:
        code, stderr = assist_users_refused(monkeypatch, capsys, var, *args, password=password)
        assert code == 2 and said in stderr, (args, stderr)
    listed = assist_users(var, "list").stdout
    assert "ops02" not in listed and "operator99" not in listed
    assert (await prod.http("GET", "/api/requests", token))[0] == 200  # a refused command revoked nothing
    code, stderr = assist_users_refused(monkeypatch, capsys, var, "add", "ops03", "--role", "admin", "--password-stdin")
    assert code == 2 and "invalid choice" in stderr

    reset = assist_users(var, "reset-password", "ops01", "--password-stdin", password="a brand new secret")
    assert reset.returncode == 0, reset.stderr
    await refused_soon(prod, token)  # the old token
    status, _ = await prod.http("POST", "/api/auth/login", json={"username": "ops01", "password": "correct horse battery"})
    assert status == 401
    token = await prod.login("ops01", "a brand new secret")
    assert assist_users(var, "set-role", "ops01", "--role", "agent").returncode == 0
    await refused_soon(prod, token)
    token = await prod.login("ops01", "a brand new secret")
    assert (await prod.http("GET", "/api/requests", token))[0] == 200  # as an agent now: their own requests
    assert assist_users(var, "disable", "ops01").returncode == 0
    await refused_soon(prod, token)
    status, _ = await prod.http("POST", "/api/auth/login", json={"username": "ops01", "password": "a brand new secret"})
    assert status == 401
    assert assist_users(var, "enable", "ops01").returncode == 0
    assert await prod.login("ops01", "a brand new secret")


async def test_a_deleted_account_is_signed_out_everywhere(start_server, tmp_path):
    from tests.auth.test_signin import until_disconnected

    var = tmp_path / "var"
    harness = await start_server(var_dir=var, voice=False)
    token = await harness.login("lisi")
    socket = await harness.client("lisi", token=token)
    # In a thread: the server (in this test's event loop) must keep running meanwhile, as it would.
    deleted = await asyncio.to_thread(assist_users, var, "delete", "lisi")
    assert deleted.returncode == 0, deleted.stderr
    await until_disconnected(socket)
    assert (await harness.http("GET", "/api/bank/account", token))[0] == 401
    assert (await harness.http("POST", "/api/auth/refresh", token))[0] == 401
    late = Client(harness.base_url, token, "lisi")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await late.connect()
    assert "lisi\t" not in assist_users(var, "list").stdout
    again = assist_users(var, "delete", "lisi")
    assert again.returncode == 2 and "no account" in again.stderr
