"""Sign-in throttling: failed sign-ins counted per client address and per (username, address),
in moving windows kept by the `limits` library: in this process (embedded) or in Redis, shared
by every node (scaled out).

- Per address, any username: spraying one password over many usernames is cut off.
- Per username *from that address*: guessing one account's password meets delays that grow
  with the failures (a minute, then a quarter of an hour, then an hour). The account itself is
  never locked: its owner, signing in from anywhere else, is not slowed by someone else's guesses.

Only failures count; a success clears that username's count from that address. Memory stays
bounded: keys expire with their window, and one address can create only as many keys as its
own limit lets it fail (IPv6 addresses count per /64, what one subscriber usually holds).
"""

from __future__ import annotations

import contextlib
import ipaddress
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

ADDRESS_LIMITS = "10/minute;100/hour"
ACCOUNT_LIMITS = "5/minute;10/15minutes;20/hour"
IN_FLIGHT_PER_ADDRESS = 4  # per node: a burst cannot slip past the windows before its failures count


@dataclass(frozen=True)
class Wait:
    """Refused for now: try again after this many seconds."""

    seconds: int


class SignInThrottle:
    def __init__(self, storage: Storage, address_limits: str = ADDRESS_LIMITS, account_limits: str = ACCOUNT_LIMITS) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.address_limits = parse_many(address_limits)
        self.account_limits = parse_many(account_limits)
        self.in_flight: dict[str, int] = {}  # address → sign-ins being checked now (gone at 0)

    @contextlib.asynccontextmanager
    async def attempt(self, address: str, username: str):
        """One sign-in attempt: yields None to go ahead, or how long to wait. The windows count
        failures only when they are known, so a burst from one address is also capped in flight."""
        if self.in_flight.get(address, 0) >= IN_FLIGHT_PER_ADDRESS:
            yield Wait(1)
            return
        self.in_flight[address] = self.in_flight.get(address, 0) + 1
        try:
            yield await self.check(address, username)
        finally:
            self.in_flight[address] -= 1
            if not self.in_flight[address]:
                del self.in_flight[address]

    @classmethod
    def build(cls, redis_url: str = "", prefix: str = "assist:", cluster: bool = False) -> SignInThrottle:
        if not redis_url:
            return cls(MemoryStorage())
        # Short timeouts, as for the live state: a Redis restart shows as refusals, not hangs.
        key_prefix = f"{prefix}signin"
        if not cluster:
            return cls(
                RedisStorage(
                    "async+" + redis_url,
                    implementation="redispy",
                    key_prefix=key_prefix,
                    socket_timeout=5,
                    socket_connect_timeout=2,
                )
            )
        # limits makes its own client (redis-py's cluster client) from its own URL scheme,
        # `async+redis+cluster://host:port`, where TLS (`rediss://`) is an option, not a scheme.
        # Each window is one key, under the deployment's hash tag.
        scheme, _, rest = redis_url.partition("://")
        return cls(
            RedisClusterStorage(
                f"async+redis+cluster://{rest}",
                implementation="redispy",
                key_prefix=key_prefix,
                ssl=scheme == "rediss",
                socket_timeout=5,
                socket_connect_timeout=2,
            )
        )

    async def close(self) -> None:
        """Close the Redis connections (limits keeps its client on the storage's bridge)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        if client is not None and hasattr(client, "aclose"):
            await client.aclose()

    def _tiers(self, address: str, username: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        return [(item, ("address", address)) for item in self.address_limits] + [
            (item, ("account", username, address)) for item in self.account_limits
        ]

    async def check(self, address: str, username: str) -> Wait | None:
        """Whether another attempt may be made now; if not, how long to wait."""
        waits = []
        for item, ids in self._tiers(address, username):
            if not await self.limiter.test(item, *ids):
                stats = await self.limiter.get_window_stats(item, *ids)
                waits.append(stats.reset_time - time.time())
        return Wait(max(1, int(max(waits)) + 1)) if waits else None

    async def failed(self, address: str, username: str) -> None:
        for item, ids in self._tiers(address, username):
            await self.limiter.hit(item, *ids)

    async def succeeded(self, address: str, username: str) -> None:
        for item in self.account_limits:
            await self.limiter.clear(item, "account", username, address)


def client_address(remote: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy (an address or a
    network such as 172.16.0.0/12), the last address in X-Forwarded-For that is not one
    (proxies append what they saw). IPv6 by its /64."""
    address = remote or "unknown"
    if forwarded_for and _trusted(address, trusted):
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            address = hop
            if not _trusted(hop, trusted):
                break
    ip = _ip(address)
    if ip is None:
        return address[:64]
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _ip(address: str):
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    ip = _ip(address)
    if ip is None:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
