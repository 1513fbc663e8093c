"""Fixtures for the scale-out tests: real servers from Debian's packages on loopback ports."""

from __future__ import annotations

import secrets

import pytest

from tests.scale.deployment import Deployment
from tests.servers.coturn import Coturn


# --- coturn (TURN relay) ---------------------------------------------------------------------
@pytest.fixture
def coturn(tmp_path):
    """A coturn with a fresh shared secret (`use-auth-secret`); its log is `coturn.log()`."""
    server = Coturn(tmp_path / "coturn", secrets.token_urlsafe(24)).start()
    yield server
    server.stop()


# --- a scaled-out deployment: Redis + PostgreSQL + N assist nodes + nginx -------------------


@pytest.fixture
async def deployment(redis_server, postgres, tmp_path):
    """`await deployment(3)` starts three nodes behind nginx; everything is stopped afterwards."""
    started: list[Deployment] = []

    async def start(nodes: int, **env: str) -> Deployment:
        d = Deployment(tmp_path / f"deployment{len(started)}", redis_server, postgres.url(), nodes, env)
        started.append(d)
        await d.start()
        return d

    yield start
    for d in started:
        await d.stop()
