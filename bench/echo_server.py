"""The baseline: a bare python-socketio server that acknowledges `echo` with its payload."""

from __future__ import annotations

import sys

import socketio
from aiohttp import web


def main(port: int) -> None:
    sio = socketio.AsyncServer(async_mode="aiohttp", logger=False, engineio_logger=False)

    @sio.on("echo")
    async def echo(sid, data):
        return data

    app = web.Application()
    sio.attach(app)

    async def healthz(request):
        return web.Response(text="ok")

    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
