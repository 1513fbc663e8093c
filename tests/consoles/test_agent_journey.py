"""The agent's journey as the agent sees it: nothing of the last customer stays on screen, the
wrap-up outcome fits how the session ended, the mirror fits a small screen, and transfer is a
choice among the agents who can take it."""

from __future__ import annotations

import re

from playwright.async_api import expect

from assist.appkeys import ADAPTER
from signaling.domain.model import Policy
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

SMALL = {"viewport": {"width": 1366, "height": 768}}
REPLAY = "#replay-root iframe"


async def test_a_dropped_session_is_wrapped_up_as_dropped_and_then_cleared(start_server):
    harness = await start_server(policy=Policy(grace_s=1), pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium(*WEBRTC_ARGS) as browser:
        agent = await open_agent(await browser.new_context(**SMALL), harness.base_url)
        second = await harness.agent("agent02")  # someone else who could take a transfer
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url, await harness.login("zhangsan"))
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await agent.click("#accept-offer")
        # Transfer is a choice among the agents who can take it, by name.
        await expect(agent.locator("#transfer-to")).to_contain_text("陈立（工号 A2048）")
        await agent.click("#ask-share")
        await customer.click("[data-assist-action=agree]")
        await agent.frame_locator(REPLAY).locator("#heading").wait_for()
        # The whole phone fits the window on a 1366×768 screen.
        stage = await agent.locator("#replay-stage").bounding_box()
        assert stage["y"] + stage["height"] <= 768 and stage["height"] > 300
        await expect(agent.locator("#ctx-customer")).to_have_text("张三")

        await customer.context.close()  # the customer's phone goes away for good
        await agent.wait_for_selector("#wrapup-view:not([hidden])", timeout=10_000)
        assert await agent.locator("#outcome").input_value() == "dropped"
        await expect(agent.locator("#wrapup-about")).to_contain_text("连接中断")
        assert not await agent.locator("#session-view").is_visible()
        await agent.click("#wrapup-form button[type=submit]")
        await agent.wait_for_selector("#wrapup-view", state="hidden")
        # Nothing of the last customer stays: no name, no code, no sharing state, no end button.
        shown = await agent.locator("#desk-view").inner_text()
        assert "张三" not in shown and "共享中" not in shown
        assert not await agent.locator("#end-session").is_visible()
        # Nor the last customer's phone frame, black and empty, waiting for the next call.
        assert await agent.locator("#replay-stage").evaluate("(s) => s.style.height === '' && s.offsetHeight === 0")
        await second.close()


async def test_a_console_open_past_its_first_tokens_life_reconnects_signed_in(start_server):
    """Tokens live minutes, a shift hours: the console swaps its token ahead of expiry, so a
    reconnect long after sign-in (a node restart, a network blip) is not a sign-out."""
    harness = await start_server(token_ttl_s=4)  # whole seconds: it expires 3 to 4 s after issue
    async with chromium() as browser:
        agent = await open_agent(await browser.new_context(**SMALL), harness.base_url)
        first = await agent.evaluate("sessionStorage.getItem('assist.agent.token')")
        await agent.wait_for_timeout(5000)  # the first token has expired
        assert await agent.evaluate("sessionStorage.getItem('assist.agent.token')") != first
        adapter = harness.app[ADAPTER]
        for sid in list(adapter.by_user.get("agent01", ())):
            await adapter.sio.disconnect(sid)  # a network blip
        await agent.wait_for_function("() => window.assistConsole.socket.connected", timeout=10_000)
        assert await agent.locator("#desk-view").is_visible() and not await agent.locator("#login-view").is_visible()


async def test_an_offer_left_to_ring_out_says_why_the_agent_is_on_a_break(start_server):
    harness = await start_server(policy=Policy(offer_timeout_s=1))
    async with chromium() as browser:
        agent = await open_agent(await browser.new_context(**SMALL), harness.base_url)
        customer = await harness.client("zhangsan")
        assert (await customer.call("help_request", {"topic": "transfer"}))["ok"]
        await agent.wait_for_selector("#offer-view:not([hidden])")
        await agent.wait_for_function("() => document.body.dataset.agentState === 'away'", timeout=10_000)
        await expect(agent.locator("#desk-message")).to_have_text(re.compile("错过了一个来电"))
        await agent.click("#go-available")  # back: the message goes with the break
        await expect(agent.locator("#desk-message")).to_have_text("")
