"""pytest fixtures for the real servers; a conftest or test module makes them available with
`from tests.servers.fixtures import postgres_server  # noqa: F401` (the fixture is `postgres`)."""
from __future__ import annotations

import pytest

from .postgres import Postgres, bin_dir


@pytest.fixture(scope="session", name="postgres")
def postgres_server():
    """One PostgreSQL for the whole run; `postgres.url()` is a fresh database for each caller."""
    binaries = bin_dir()
    if binaries is None:
        pytest.skip(reason="PostgreSQL is not installed (Debian package `postgresql`)")
    server = Postgres(binaries)
    try:
        server.start()
        yield server
    finally:  # even when a test failed or startup did: no server left behind
        server.close()
