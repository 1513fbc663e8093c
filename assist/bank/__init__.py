"""The demo bank behind the demo app: accounts, payees, limits, transfers (filled in by issue 4)."""
from __future__ import annotations

from aiohttp import web


def add_routes(app: web.Application) -> None:
    """Register the bank's HTTP API on the app (called by the composition root)."""
