"""The SDK and the agent console in real Chromium against the real server: help, consent,
mirror, guidance, call, stop sharing; masking scanned on every byte; no remote control."""
from __future__ import annotations

import re

from playwright.async_api import expect

from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

REPLAY = "#replay-root iframe"


async def replay_text(agent_page, selector: str) -> str | None:
    frame = agent_page.frame_locator(REPLAY)
    return await frame.locator(selector).first.text_content(timeout=10_000)


async def mirror_count(harness) -> float:
    _, text = await harness.http("GET", "/metrics")
    match = re.search(r'assist_events_received_total\{event="mirror"\} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


async def serve(start_server, **planted):
    return await start_server(pages={"/sdk-test": page_html(**planted), "/sdk-test.js": TEST_SCRIPT})


async def start_session(harness, browser):
    """Customer asks for help, agent accepts, the consent dialog shows: returns the pages."""
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    customer_ctx = await browser.new_context(**PHONE)
    agent = await open_agent(agent_ctx, harness.base_url)
    customer = await open_customer(customer_ctx, harness.base_url, await harness.login("zhangsan"))
    await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
    await agent.wait_for_selector("#offer-view:not([hidden])")
    await agent.click("#accept-offer")
    dialog = customer.locator("#assist-sdk [role=dialog]")
    await dialog.wait_for()
    return agent, customer, dialog


async def test_help_consent_mirror_guidance_call_and_stop(start_server):
    harness = await serve(start_server)
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, customer, dialog = await start_session(harness, browser)
        # Who is coming: name, badge and the same code the agent reads aloud.
        assert "王晓敏" in await dialog.text_content() and "A1024" in await dialog.text_content()
        code = await customer.locator("[data-assist-code]").text_content()
        await agent.wait_for_function("() => document.getElementById('ctx-code').textContent.length === 4")
        assert await agent.locator("#ctx-code").text_content() == code
        # Nothing is mirrored before consent.
        assert await agent.locator(REPLAY).count() == 0
        await customer.click("[data-assist-action=agree]")

        # The agent's replay shows the customer's page.
        assert await replay_text(agent, "#heading") == "转账给李四"
        await customer.fill("#amount", "500")
        await expect(agent.frame_locator(REPLAY).locator("#amount")).to_have_value("500", timeout=10_000)

        # Highlight the "next" button with a caption: the customer sees it over that button.
        await agent.click("[data-tool=highlight]")
        await agent.fill("#caption", "点这里继续")
        frame_box = await agent.locator(REPLAY).bounding_box()
        button = await agent.frame_locator(REPLAY).locator("#next").bounding_box()
        assert frame_box and button
        await agent.mouse.click(button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
        caption = customer.locator("#assist-sdk .assist-caption")
        await caption.wait_for()
        assert await caption.text_content() == "点这里继续"
        box = await customer.locator("#assist-sdk .assist-highlight").bounding_box()
        target = await customer.locator("#next").bounding_box()
        assert box["x"] <= target["x"] and box["x"] + box["width"] >= target["x"] + target["width"]
        assert await customer.locator("#clicks").text_content() == "0"  # shown, never clicked

        # The call connects peer to peer.
        await agent.wait_for_function("() => document.body.dataset.callState === 'connected'", timeout=20_000)
        await customer.wait_for_function("() => Assist.state().callState === 'connected'", timeout=20_000)

        # Stop sharing: the agent's view freezes and the server relays nothing more.
        await customer.click("[data-assist-action=stop]")
        await agent.wait_for_function("() => document.body.dataset.sessionState === 'stopped'")
        seen = await agent.evaluate("window.assistConsole.mirrorSeen")
        received = await mirror_count(harness)
        await customer.fill("#amount", "999")
        await customer.evaluate("document.getElementById('heading').textContent = '改过的标题'")
        await customer.wait_for_timeout(500)
        assert await agent.evaluate("window.assistConsole.mirrorSeen") == seen
        assert await replay_text(agent, "#heading") == "转账给李四"
        assert await mirror_count(harness) == received  # the device sent nothing more
        await customer.click("[data-assist-action=hangup]")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")
