"""Fixtures for the scale-out tests: real servers from Debian's packages on loopback ports."""
from __future__ import annotations

import secrets

import pytest

from tests.servers.coturn import Coturn


# --- coturn (TURN relay) ---------------------------------------------------------------------
@pytest.fixture
def coturn(tmp_path):
    """A coturn with a fresh shared secret (`use-auth-secret`); its log is `coturn.log()`."""
    server = Coturn(tmp_path / "coturn", secrets.token_urlsafe(24)).start()
    yield server
    server.stop()
