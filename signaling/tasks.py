"""Stopping a background task for good."""

from __future__ import annotations

import asyncio


async def cancel_and_wait(task: asyncio.Task, every_s: float = 0.2) -> None:
    """Cancel the task and wait until it has ended, cancelling again while it has not.

    redis-py can lose a cancellation that lands while it tears a connection down: the task then
    goes on to its next Redis call, and a shutdown that awaited it waited out its whole 10 s
    bound (the record pump and the ticker, in about one Redis-backed test teardown in five). What the task ended with is
    not raised here: a stopping task's own errors are its own to log."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every_s)
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not report it as never retrieved
