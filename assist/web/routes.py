"""Static pages and bundles: the demo bank's app at /, the SDK at /sdk/assist.js, the consoles.

Each front end lives in its own top-level folder (demo_bank/web, sdk, agent_console); the
composition root serves them all from here.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

WEB = Path(__file__).resolve().parent
ROOT = WEB.parent.parent
BANK_APP = ROOT / "demo_bank" / "web"  # the host application's pages, which embed the SDK
SDK_DIST = ROOT / "sdk" / "dist"  # the customer SDK as esbuild bundles it (build.mjs)
CONSOLE = ROOT / "agent_console"
NOT_BUILT = "The front-end bundles are not built yet: run `make run` (it runs the build step)."
TYPES = {".js": "text/javascript", ".map": "application/json", ".css": "text/css"}


def _serve(path: Path) -> web.StreamResponse:
    if not path.is_file():
        return web.Response(status=503 if "dist" in path.parts else 404, text=NOT_BUILT)
    response = web.FileResponse(path)
    if path.suffix in TYPES:  # aiohttp would guess octet-stream for some; nosniff then refuses them
        response.content_type = TYPES[path.suffix]
    # Pages and bundles change with every build; never serve yesterday's from a cache.
    response.headers["Cache-Control"] = "no-cache"
    return response


def _file(path: Path):
    async def handler(request: web.Request) -> web.StreamResponse:
        return _serve(path)

    return handler


def _folder(base: Path):
    """Files below `base` only (the build output may not exist yet when the app starts)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        target = (base / request.match_info["name"]).resolve()
        if not target.is_relative_to(base.resolve()):
            raise web.HTTPNotFound()
        return _serve(target)

    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", _file(BANK_APP / "index.html"))
    app.router.add_get("/app/{name:.+}", _folder(BANK_APP))
    app.router.add_get("/sdk/{name:.+}", _folder(SDK_DIST))
    app.router.add_get("/agent", _file(CONSOLE / "web" / "agent.html"))
    app.router.add_get("/supervisor", _file(CONSOLE / "web" / "supervisor.html"))
    app.router.add_get("/console/{name:.+}", _folder(CONSOLE / "web"))
    app.router.add_get("/console-dist/{name:.+}", _folder(CONSOLE / "dist"))
