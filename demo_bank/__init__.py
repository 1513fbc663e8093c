"""The demo bank behind the demo app: accounts, payees, limits, transfers.

`add_routes(app)` registers the JSON API under /api/bank/; `lifecycle`, a cleanup context the
composition root places after the schema's, opens the demo customers' accounts in demo mode
and closes the store at the end. See docs/bank.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import lru_cache

from aiohttp import web

from assist.appkeys import BANK, CONFIG
from assist.auth import hash_password

from . import api, demo_data
from .store import BankStore
from .tables import TABLES  # noqa: F401  (registers the bank's tables on the shared metadata)


@lru_cache(maxsize=1)
def _demo_pin_hash() -> str:
    return hash_password(demo_data.TRANSACTION_PASSWORD)


def add_routes(app: web.Application) -> None:
    """Register the bank's HTTP API on the app (called by the composition root)."""
    store = BankStore(app[CONFIG].resolved_database_url())
    app[BANK] = store
    api.add_routes(app, store)


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    """The bank's part of the app's life (an aiohttp cleanup context). Its tables exist by now:
    the composition root migrates the database in the context before this one."""
    store, loop = app[BANK], asyncio.get_running_loop()
    if app[CONFIG].demo:
        pin_hash = await loop.run_in_executor(store.io, _demo_pin_hash)
        await loop.run_in_executor(store.io, store.seed, demo_data.customers(), pin_hash)
    yield
    await loop.run_in_executor(None, store.close)
