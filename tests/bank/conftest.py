"""The demo bank app in real Chromium (tests/browser.py) against a real server (the harness);
test_api.py runs on SQLite and on a real PostgreSQL (the `database` parameter)."""

from __future__ import annotations

import pytest

from tests.browser import PHONE, chromium

from .bankapp import App


@pytest.fixture
def database(request) -> str:
    """Where the bank's books live: "sqlite" (embedded) unless a test module parametrizes it."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
async def harness(start_server, database, request):
    if database == "postgresql":
        return await start_server(database_url=request.getfixturevalue("postgres").url())
    return await start_server()


@pytest.fixture
async def browser():
    async with chromium() as b:
        yield b


@pytest.fixture
async def open_app(browser, harness):
    """open_app(edition) → an App on a fresh phone-sized context with that edition remembered."""
    contexts = []

    async def open_(edition: str = "standard", route: str = "#/login") -> App:
        context = await browser.new_context(**PHONE)
        contexts.append(context)
        # The edition the customer chose earlier (localStorage), in place before the app starts.
        await context.add_init_script(
            f"if (!localStorage.getItem('assist-bank.edition')) localStorage.setItem('assist-bank.edition', '{edition}');"
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        app = App(page, harness.base_url)
        app.errors = errors
        await app.open(route)
        return app

    yield open_
    for context in contexts:
        await context.close()
