"""The demo bank behind the demo app: accounts, payees, limits, transfers.

`add_routes(app)` registers the JSON API under /api/bank/ and, in demo mode, a startup hook
that opens the demo customers' accounts. See docs/bank.md.
"""
from __future__ import annotations

import asyncio
from functools import lru_cache

from aiohttp import web

from ..appkeys import BANK, CONFIG
from ..auth import hash_password
from . import api, demo_data
from .store import BankStore
from .tables import TABLES  # noqa: F401  (registers the bank's tables on the shared metadata)


@lru_cache(maxsize=1)
def _demo_pin_hash() -> str:
    return hash_password(demo_data.TRANSACTION_PASSWORD)


def add_routes(app: web.Application) -> None:
    """Register the bank's HTTP API on the app (called by the composition root)."""
    config = app[CONFIG]
    store = BankStore(config.resolved_database_url())
    app[BANK] = store
    api.add_routes(app, store)

    async def startup(app: web.Application) -> None:
        # The tables exist by now: the composition root migrates the database in a startup hook
        # registered before this one.
        loop = asyncio.get_running_loop()
        if config.demo:
            pin_hash = await loop.run_in_executor(store.io, _demo_pin_hash)
            await loop.run_in_executor(store.io, store.seed, demo_data.customers(), pin_hash)

    async def cleanup(app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, store.close)

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
