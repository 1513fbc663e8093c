"""The whole signaling suite runs twice: live state in memory (embedded) and in a real Redis
(scaled out), through the same server code, as the issue of scale-out asks."""

import pytest


@pytest.fixture(params=["memory", "redis"])
def live_backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    """A redis-server of the module's own, so the commands it counts are its tests' only."""
    from tests.servers.redis import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()
