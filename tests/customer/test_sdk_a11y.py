"""The SDK's own UI (nobody on shift, waiting, consent, sharing indicator, the end with its
rating) is accessible in both editions, and the indicator never covers the page's header."""
from __future__ import annotations

import pytest

from tests.browser import PHONE, WEBRTC_ARGS, axe_violations, chromium
from tests.customer.pages import TEST_SCRIPT, open_customer, page_html

# Every control of the SDK at least 60×60 px with text at least 24 px (the elderly edition).
SIZES_JS = """() => [...document.querySelectorAll('#assist-sdk button, #assist-sdk a, #assist-sdk textarea')]
  .filter((b) => b.checkVisibility()).map((b) => {
    const r = b.getBoundingClientRect();
    return [b.dataset.assistAction || b.tagName, r.width, r.height, parseFloat(getComputedStyle(b).fontSize)]; })"""


@pytest.mark.parametrize("edition", ["standard", "elderly"])
async def test_sdk_ui_has_no_axe_violations_and_elderly_sizes(start_server, edition):
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium(*WEBRTC_ARGS) as browser:
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url,
                                       await harness.login("zhangsan"), edition=edition)
        checked, sizes = {}, []

        async def check(step: str) -> None:
            checked[step] = await axe_violations(customer)
            sizes.extend(await customer.evaluate(SIZES_JS))

        # Nobody on shift: said plainly, with a callback on offer.
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await customer.locator("#assist-sdk [data-assist-action=callback]").wait_for()
        await check("unstaffed")
        agent = await harness.agent("agent01", available=False)
        await customer.click("#assist-sdk [data-assist-action=close]")
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await customer.locator("#assist-sdk [data-assist-action=cancel]").wait_for()
        await check("waiting")
        assert (await agent.call("agent_state", {"state": "available"}))["ok"]
        offer = await agent.expect("offer")
        await agent.call("offer_accept", {"offer_id": offer["offer_id"]})
        session = (await agent.expect("session_started"))["session_id"]
        await customer.locator("#assist-sdk [data-assist-action=hangup]").wait_for()  # the call comes first
        await check("call")
        await agent.call("ask_to_share", {"session_id": session})
        await customer.locator("#assist-sdk [role=dialog]").wait_for()
        # Focus goes into the dialog, and the keyboard alone can agree.
        assert await customer.evaluate("document.activeElement.dataset.assistAction") == "agree"
        await check("consent")
        await customer.keyboard.press("Enter")
        await customer.locator("#assist-sdk [data-assist-action=stop]").wait_for()
        await check("sharing")
        # The indicator never covers the page's heading: what is under its middle is the heading.
        under = await customer.evaluate("""() => { const r = document.getElementById('heading').getBoundingClientRect();
            return document.elementFromPoint(r.left + 4, r.top + r.height / 2).id; }""")
        assert under == "heading"
        await agent.call("end_session", {"session_id": session})
        await customer.locator("#assist-sdk [data-assist-rating=satisfied]").wait_for()
        await check("ended")
        assert checked == {"unstaffed": [], "waiting": [], "call": [], "consent": [], "sharing": [], "ended": []}
        if edition == "elderly":
            assert sizes and all(w >= 60 and h >= 60 and f >= 24 for _, w, h, f in sizes), sizes
