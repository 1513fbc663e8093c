"""Passwords (argon2, off the event loop) and access tokens (short-lived HS256 JWTs).

A token carries the role, an id (`jti`) and its user's token generation (`gen`); it is accepted
only while the account exists, is active and is still at that generation (assist/accounts.py),
so signing out, disabling, a password reset and a role change take effect at once. Tokens
issued in demo mode say so (`demo`), and a server with demo mode off refuses them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, Generic, TypeVar

import jwt
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from signaling.domain.model import Role, is_guest
from signaling.tasks import cancel_and_wait

from .accounts import AccountStore, Refusal, Standing
from .redis_client import subscribed

P = TypeVar("P")  # who the caller is, as the service knows them (signaling.service.Principal)
log = structlog.get_logger("auth")
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of nothing anybody knows, verified when the user does not exist, so a wrong
    username costs the same time as a wrong password (no account enumeration by timing)."""
    return _hasher.hash(uuid.uuid4().hex)


class AuthError(Refusal):
    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class Busy(Exception):
    """More sign-ins are waiting for a hash than the pool queues: answer 503, try again."""


class PasswordPool:
    """argon2 on a few threads of their own, never on the event loop. A sign-in storm queues
    here (up to `queue` waiting, then Busy) and slows sign-ins only. The threads run at a
    lower CPU priority, and argon2's own lane threads inherit it, so the event loop (health
    checks, sockets, relays) is scheduled first on a busy machine."""

    NICE = 19  # the lowest priority: hashes use the CPU the event loop leaves

    def __init__(self, workers: int = 1, queue: int = 16) -> None:
        self.limit = workers + queue
        self.waiting = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2", initializer=self._lower_priority)

    @classmethod
    def _lower_priority(cls) -> None:
        # Linux: the nice value is per thread, and threads started from it inherit it.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), cls.NICE)

    @property
    def full(self) -> bool:
        return self.waiting >= self.limit

    async def run(self, fn: Callable, *args):
        if self.full:
            raise Busy()
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self.waiting -= 1

    async def check(self, stored_hash: str | None, password: str) -> bool:
        return await self.run(check_password, stored_hash, password)

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Tokens:
    ALGORITHM = "HS256"

    def __init__(self, secret: str, ttl_s: int, issuer: str = "assist", demo: bool = False) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self.secret = secret
        self.ttl_s = ttl_s
        self.issuer = issuer
        self.demo = demo

    def issue(self, account: dict, now: float | None = None) -> str:
        now = time.time() if now is None else now
        claims = {
            "iss": self.issuer,
            "sub": account["username"],
            "role": account["role"],
            "name": account["display_name"],
            "badge": account.get("badge") or "",
            "langs": list(account.get("languages") or []),
            "skills": list(account.get("skills") or []),
            "iat": int(now),
            "exp": int(now + self.ttl_s),
            "jti": uuid.uuid4().hex,
            "gen": int(account.get("token_generation") or 0),
        }
        if self.demo:
            claims["demo"] = True
        if account.get("guest"):  # a customer without an account (short-lived): nothing to revoke
            claims["guest"] = True
        return jwt.encode(claims, self.secret, algorithm=self.ALGORITHM)

    def decode(self, token: object) -> dict:
        """The claims of a well-formed, signed, unexpired token (not yet checked against the account)."""
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise AuthError("unauthorized", "A valid access token is required.")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[self.ALGORITHM],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token_expired", "Your sign-in has expired; please sign in again.") from None
        except jwt.PyJWTError:
            raise AuthError("token_invalid", "The access token is not valid.") from None
        if (
            claims.get("role") not in {r.value for r in Role}
            or not isinstance(claims.get("gen"), int)
            or (claims.get("demo") and not self.demo)
            or (claims.get("guest") and claims["role"] != "customer")
        ):
            raise AuthError("token_invalid", "The access token is not valid.")
        return claims

    @staticmethod
    def identity(claims: dict) -> dict[str, Any]:
        """What a token says of its holder, by the names of signaling.service.Principal's fields."""
        return {
            "user_id": str(claims["sub"]),
            "role": Role(claims["role"]),
            "display_name": str(claims.get("name", "")),
            "badge": str(claims.get("badge", "")),
            "languages": tuple(claims.get("langs") or ()),
            "skills": tuple(claims.get("skills") or ()),
            "expires_at": float(claims["exp"]),
            "generation": claims["gen"],
        }


REVOKED = AuthError("token_revoked", "You have been signed out; please sign in again.")


class Revocations:
    """Which generation each user's tokens must carry, as this node knows it.

    Read from the database on first use and kept for FRESH_S (bounded, least recently used out);
    changes made elsewhere arrive by polling `changed_at` every `poll_s` (the `assist users`
    command, other nodes) and, scaled out, at once over Redis pub/sub. Every FRESH_S the users
    with sockets here (`watched`) are read again, so one deleted behind our back is noticed too.
    Every change heard of calls the `on_revoked` hooks (the socket adapter disconnects that
    user's sockets opened with an older token).
    """

    MAX_CACHED = 100_000
    FRESH_S = 30.0
    POLL_OVERLAP_S = 10.0  # re-read this far back: clocks of nodes and the CLI may differ a little
    GONE = Standing(-1, False)  # a deleted account

    def __init__(
        self, accounts: AccountStore, io: ThreadPoolExecutor | None = None, poll_s: float = 0.5, redis=None, channel: str = ""
    ) -> None:
        self.accounts = accounts
        self.io = io
        self.poll_s = poll_s
        self.redis, self.channel = redis, channel
        self.known: OrderedDict[str, tuple[Standing, float]] = OrderedDict()  # → (standing, read at)
        # Called with (username, standing) on every change heard of; must be idempotent.
        self.on_revoked: list[Callable[[str, Standing], Awaitable[None]]] = []
        self.watched: Callable[[], Iterable[str]] = lambda: ()
        self._tasks: list[asyncio.Task] = []

    async def _blocking(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.io, fn, *args)

    async def standing(self, username: str) -> Standing | None:
        entry = self.known.get(username)
        if entry is not None and time.monotonic() - entry[1] < self.FRESH_S:
            self.known.move_to_end(username)
            return entry[0]
        return await self._read(username)

    async def _read(self, username: str) -> Standing | None:
        found = await self._blocking(self.accounts.standing, username)
        if found is None:
            self.known.pop(username, None)
            return None
        return self._remember(username, found)

    async def check(self, claims: dict) -> None:
        username = str(claims["sub"])
        standing = await self.standing(username)
        if standing is not None and standing.generation < claims["gen"]:
            # Newer than we know: a change on another node that has not reached us yet.
            standing = await self._read(username)
        if standing is None or not standing.active or standing.generation != claims["gen"]:
            raise REVOKED

    def _remember(self, username: str, standing: Standing) -> Standing:
        """Keep the newer of what we had and `standing` (generations only grow); return it."""
        old = self.known.get(username)
        if old is not None and old[0].generation > standing.generation:
            standing = old[0]
        self.known[username] = (standing, time.monotonic())
        self.known.move_to_end(username)
        while len(self.known) > self.MAX_CACHED:
            self.known.popitem(last=False)
        return standing

    async def applied(self, username: str, standing: Standing) -> None:
        """A change this node made (already in the database): act here, tell the other nodes."""
        await self._learn(username, standing)
        if self.redis is not None:
            try:
                await self.redis.publish(self.channel, f"{standing.generation}:{int(standing.active)}:{username}")
            except Exception as exc:  # noqa: BLE001 (the poll still carries it to the others)
                log.warning("revocation_publish_failed", error=str(exc))

    async def _learn(self, username: str, standing: Standing) -> None:
        current = self._remember(username, standing) if standing is not self.GONE else standing
        if standing is self.GONE:
            self.known.pop(username, None)
        for hook in self.on_revoked:
            try:
                await hook(username, current)
            except Exception:
                log.exception("revocation_hook_failed", user=username)

    # ------------------------------------------------------------------ watching
    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._poll_forever(), name="revocations-poll"))
        self._tasks.append(asyncio.create_task(self._sweep_forever(), name="revocations-sweep"))
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._listen_forever(), name="revocations-listen"))

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)

    async def _poll_forever(self) -> None:
        since = time.time() - self.POLL_OVERLAP_S
        failing = False
        while True:
            await asyncio.sleep(self.poll_s)
            started = time.time()
            try:
                changed = await self._blocking(self.accounts.changed_since, since)
            except Exception as exc:  # noqa: BLE001 (database away: keep what we know, say so once)
                if not failing:
                    log.warning("revocations_poll_failed", error=str(exc))
                failing = True
                continue
            failing = False
            since = started - self.POLL_OVERLAP_S
            for username, standing in changed.items():
                await self._learn(username, standing)

    async def _sweep_forever(self, chunk: int = 500) -> None:
        while True:
            await asyncio.sleep(self.FRESH_S)
            names = sorted(set(self.watched()))
            for start in range(0, len(names), chunk):
                part = names[start : start + chunk]
                try:
                    found = await self._blocking(self.accounts.standings, part)
                except Exception as exc:  # noqa: BLE001 (database away: the next sweep tries again)
                    log.warning("revocations_sweep_failed", error=str(exc))
                    break
                for username in part:
                    await self._learn(username, found.get(username, self.GONE))

    async def _listen_forever(self) -> None:
        while True:
            pubsub = None
            try:
                # The plain client's or the cluster client's pub/sub (assist.redis_client).
                pubsub = await subscribed(self.redis, self.channel)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    generation, active, username = message["data"].decode().split(":", 2)
                    await self._learn(username, Standing(int(generation), active == "1"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (Redis restarting: the poll covers the gap)
                log.warning("revocations_listen_failed", error=str(exc))
                await asyncio.sleep(1.0)
            finally:
                if pubsub is not None:
                    await pubsub.aclose()


class Authenticator(Generic[P]):
    """A token in, the caller out: signature, expiry and mode (Tokens), then the account's
    standing (Revocations). Raises AuthError.

    The caller is made by `principal` (the composition root passes signaling.service.Principal):
    accounts and tokens sit below the service, which drives them, and do not import it."""

    def __init__(self, tokens: Tokens, revocations: Revocations, principal: Callable[..., P]) -> None:
        self.tokens = tokens
        self.revocations = revocations
        self.principal = principal

    async def verify(self, token: object) -> P:
        claims = self.tokens.decode(token)
        # A guest (assist/guest.py) has no account to stand by: its token lives ten minutes and
        # is good for one help request; it cannot be refreshed, and the bank API refuses it.
        if not (claims.get("guest") and is_guest(str(claims["sub"]))):
            await self.revocations.check(claims)
        return self.principal(**self.tokens.identity(claims))
