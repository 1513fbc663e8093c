"""The supervisors' catch-up buffer (signaling.keyframes.Keyframes) shared between nodes in Redis:
a supervisor may join on another node than the customer's, and a node may die mid-session."""

from __future__ import annotations

import json

from signaling.keyframes import Keyframes, starts_recording

from ..redis_client import AsyncRedis

# KEYS: list, size. ARGV: starts a recording (0/1), batch, its size, max bytes, ttl seconds.
# A buffer exists only from a full snapshot on (the size key marks it); past the cap it stops
# growing and joiners wait for the next snapshot, as in memory.
ADD = """
if ARGV[1] == '1' then redis.call('DEL', KEYS[1]); redis.call('SET', KEYS[2], 0) end
local total = redis.call('GET', KEYS[2])
if not total then return 0 end
if tonumber(total) + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('INCRBY', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5]); redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
"""
TTL_S = 86_400  # a session that ends without anyone noticing (every node died) cleans itself up


class RedisKeyframes(Keyframes):
    def __init__(self, redis: AsyncRedis, prefix: str = "assist:") -> None:
        super().__init__()
        self.redis = redis
        self.k_list, self.k_size = f"{prefix}keyframes:", f"{prefix}keyframes-size:"
        self._add = redis.register_script(ADD)

    async def add(self, session_id: str, payload: dict, size: int) -> None:
        blob = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        await self._add(
            keys=[self.k_list + session_id, self.k_size + session_id],
            args=[int(starts_recording(payload)), blob, size, self.MAX_BYTES, TTL_S],
        )

    async def get(self, session_id: str) -> list[dict]:
        return [json.loads(item) for item in await self.redis.lrange(self.k_list + session_id, 0, -1)]

    async def forget(self, session_id: str) -> None:
        await self.redis.delete(self.k_list + session_id, self.k_size + session_id)
