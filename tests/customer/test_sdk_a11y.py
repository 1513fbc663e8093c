"""The SDK's own UI (waiting panel, consent dialog, sharing banner) is accessible in both editions."""
from __future__ import annotations

import pytest

from tests.browser import PHONE, WEBRTC_ARGS, axe_violations, chromium
from tests.customer.pages import TEST_SCRIPT, open_customer, page_html


@pytest.mark.parametrize("edition", ["standard", "elderly"])
async def test_sdk_ui_has_no_axe_violations_and_elderly_sizes(start_server, edition):
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium(*WEBRTC_ARGS) as browser:
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url,
                                       await harness.login("zhangsan"), edition=edition)
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await customer.locator("#assist-sdk [data-assist-action=cancel]").wait_for()
        checked = {"waiting": await axe_violations(customer)}
        agent = await harness.agent("agent01")
        offer = await agent.expect("offer")
        await agent.call("offer_accept", {"offer_id": offer["offer_id"]})
        await customer.locator("#assist-sdk [role=dialog]").wait_for()
        # Focus goes into the dialog, and the keyboard alone can agree.
        assert await customer.evaluate("document.activeElement.dataset.assistAction") == "agree"
        checked["consent"] = await axe_violations(customer)
        await customer.keyboard.press("Enter")
        await customer.locator("#assist-sdk [data-assist-action=stop]").wait_for()
        checked["sharing"] = await axe_violations(customer)
        assert checked == {"waiting": [], "consent": [], "sharing": []}
        if edition == "elderly":
            sizes = await customer.evaluate("""() => [...document.querySelectorAll('#assist-sdk button')].map(b => {
                const r = b.getBoundingClientRect();
                return [r.width, r.height, parseFloat(getComputedStyle(b).fontSize)]; })""")
            assert sizes and all(w >= 60 and h >= 60 and f >= 24 for w, h, f in sizes), sizes
