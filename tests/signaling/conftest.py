"""The whole signaling suite runs twice: live state in memory (embedded) and in a real Redis
(scaled out), through the same server code, as the issue of scale-out asks."""

import pytest


@pytest.fixture(params=["memory", "redis"])
def live_backend(request) -> str:
    return request.param
