"""pytest fixtures for the real servers (tests/conftest.py registers them for every test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .postgres import Postgres, bin_dir


def running_postgres() -> Iterator[Postgres]:
    """A started PostgreSQL, closed afterwards even when a test or the start failed."""
    binaries = bin_dir()
    if binaries is None:
        pytest.skip(reason="PostgreSQL is not installed (Debian package `postgresql`)")
    server = Postgres(binaries)
    try:
        server.start()
        yield server
    finally:  # no server left behind
        server.close()


@pytest.fixture(scope="session", name="postgres")
def postgres_server():
    """One PostgreSQL for the whole run; `postgres.url()` is a fresh database for each caller."""
    yield from running_postgres()
