"""pytest fixtures for the real servers; a conftest makes them available with
`from tests.servers.fixtures import postgres  # noqa: F401`."""
from __future__ import annotations

import pytest

from .postgres import Postgres, bin_dir


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL for the whole run; `postgres.url()` is a fresh database for each caller."""
    binaries = bin_dir()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (Debian package `postgresql`)")
    server = Postgres(binaries)
    try:
        server.start()
        yield server
    finally:  # even when a test failed or startup did: no server left behind
        server.close()
