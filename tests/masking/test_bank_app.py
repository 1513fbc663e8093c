"""The demo bank app's own new-payee form during a session: the account number typed key by key
never leaves the phone, while the fields the bank unmasked (payee name, amount) reach the agent."""

from __future__ import annotations

import os

from playwright.async_api import expect

from tests.bank.bankapp import App
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import open_agent
from tests.masking.leaks import find_leaks, socketio_strings, strings

REPLAY = "#replay-root iframe"
ACCOUNT = "6212 2611 0200 4477 391"


async def test_new_payee_account_number_typed_key_by_key_stays_on_the_phone(harness):
    wire: list[str] = []
    async with chromium(*WEBRTC_ARGS) as browser:
        agent = await open_agent(await browser.new_context(viewport={"width": 1366, "height": 768}), harness.base_url)
        page = await (await browser.new_context(**PHONE)).new_page()
        for p in (agent, page):
            p.on(
                "websocket",
                lambda ws: (
                    ws.on("framesent", lambda f: wire.append(str(f))),
                    ws.on("framereceived", lambda f: wire.append(str(f))),
                ),
            )
        app = App(page, harness.base_url)
        await app.open()
        await app.login("zhangsan")
        await page.click(".help-chip")
        await agent.click("#accept-offer")
        await agent.click("#ask-share")  # on the call, the agent asks to see the screen
        await page.click("[data-assist-action=agree]")
        replay = agent.frame_locator(REPLAY)
        await replay.locator(".page-home").wait_for()

        await app.go("#/transfer/new", "transfer-new")
        await replay.locator(".page-transfer-new").wait_for()
        name, account = page.locator(".page-transfer-new input").nth(0), page.locator(".page-transfer-new input").nth(1)
        await name.type("赵六", delay=30)
        await account.type(ACCOUNT, delay=40)
        await expect(replay.locator(".page-transfer-new input").nth(0)).to_have_value("赵六")
        await expect(replay.locator(".page-transfer-new input").nth(1)).to_have_value("*" * len(ACCOUNT))
        if os.environ.get("ASSIST_SCREENSHOTS"):
            await agent.screenshot(path=f"{os.environ['ASSIST_SCREENSHOTS']}/agent-new-payee-1366.png")
        await page.click("form button[type=submit]")
        await app.expect("transfer-amount")
        await page.type("input[inputmode=decimal]", "120000", delay=30)  # a large amount is still an amount
        await expect(replay.locator("input[inputmode=decimal]")).to_have_value("120000")
        await page.click("[data-assist-action=hangup]")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")

    supervisor = await harness.login("super01")
    _, listing = await harness.http("GET", "/api/recordings", supervisor)
    _, recording = await harness.http("GET", f"/api/recordings/{listing['recordings'][0]['session_id']}/events", supervisor)
    texts = list(socketio_strings(wire)) + list(strings(recording))
    assert any("赵六" in t for t in texts)  # the capture saw the form
    assert find_leaks(texts, {"account": ACCOUNT}) == []
