"""The SDK's own UI (nobody on shift, waiting, consent, sharing indicator, the end with its
rating) is accessible in both editions; the indicator never covers the page's header, nor the
waiting and ended panels the app's bottom controls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bank.bankapp import EDITIONS, App
from tests.browser import PHONE, ROOT, WEBRTC_ARGS, axe_violations, chromium
from tests.customer.pages import TEST_SCRIPT, open_customer, page_html

# Every control of the SDK at least 60×60 px with text at least 24 px (the elderly edition).
SIZES_JS = """() => [...document.querySelectorAll('#assist-sdk button, #assist-sdk a, #assist-sdk textarea')]
  .filter((b) => b.checkVisibility()).map((b) => {
    const r = b.getBoundingClientRect();
    return [b.dataset.assistAction || b.tagName, r.width, r.height, parseFloat(getComputedStyle(b).fontSize)]; })"""


async def back_and_accept(agent) -> str:
    """The agent on a break comes back and takes the waiting customer: the session's id."""
    assert (await agent.call("agent_state", {"state": "available"}))["ok"]
    offer = await agent.expect("offer")
    await agent.call("offer_accept", {"offer_id": offer["offer_id"]})
    return (await agent.expect("session_started"))["session_id"]


@pytest.mark.parametrize("edition", ["standard", "elderly"])
async def test_sdk_ui_has_no_axe_violations_and_elderly_sizes(start_server, edition):
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium(*WEBRTC_ARGS) as browser:
        customer = await open_customer(
            await browser.new_context(**PHONE), harness.base_url, await harness.login("zhangsan"), edition=edition
        )
        checked, sizes = {}, []

        async def check(step: str) -> None:
            checked[step] = await axe_violations(customer)
            sizes.extend(await customer.evaluate(SIZES_JS))
            shots = os.environ.get("ASSIST_SCREENSHOTS")  # a directory: each step as the customer sees it
            if shots:
                await customer.screenshot(path=str(Path(shots) / f"sdk-{edition}-{step}-390.png"))

        # Nobody on shift: said plainly, with a callback on offer.
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await customer.locator("#assist-sdk [data-assist-action=callback]").wait_for()
        await check("unstaffed")
        agent = await harness.agent("agent01", available=False)
        await customer.click("#assist-sdk [data-assist-action=close]")
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await customer.locator("#assist-sdk [data-assist-action=cancel]").wait_for()
        await check("waiting")
        session = await back_and_accept(agent)
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
        # The indicator never covers the page's heading: what is under its middle is the heading
        # (once the shield that takes a double tap's second touch has gone).
        await customer.locator("#assist-sdk .assist-shield").wait_for(state="detached")
        under = await customer.evaluate("""() => { const r = document.getElementById('heading').getBoundingClientRect();
            return document.elementFromPoint(r.left + 4, r.top + r.height / 2).id; }""")
        assert under == "heading"
        await agent.call("end_session", {"session_id": session})
        await customer.locator("#assist-sdk [data-assist-rating=satisfied]").wait_for()
        await check("ended")
        assert checked == {"unstaffed": [], "waiting": [], "call": [], "consent": [], "sharing": [], "ended": []}
        if edition == "elderly":
            assert sizes and all(w >= 60 and h >= 60 and f >= 24 for _, w, h, f in sizes), sizes


# The app's controls at the bottom of the screen (the sign-in button, the tab bar, the elderly
# edition's dock), each scrolled into view as a customer would: what is under its middle must be
# the control itself, never the SDK's panel.
COVERED_JS = """() => [...document.querySelectorAll(
    '#main form button[type=submit], #tabbar a, #dock-buttons button')].filter((el) => el.checkVisibility())
  .flatMap((el) => {
    el.scrollIntoView({block: 'nearest'});
    const r = el.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const over = hit && hit.closest('#assist-sdk') ? 'the panel' : hit && hit.tagName;
    return hit && el.contains(hit) ? [] : [`${el.textContent.trim()} is under ${over}`];
  })"""
SHOTS = ROOT / "var" / "screenshots"


@pytest.mark.parametrize("edition", EDITIONS)
async def test_sdk_panels_never_cover_the_apps_bottom_controls(harness, edition):
    agent = await harness.agent("agent01", available=False)  # on shift, on a break: customers wait
    async with chromium(*WEBRTC_ARGS) as browser:
        context = await browser.new_context(**PHONE)
        await context.add_init_script(f"localStorage.setItem('assist-bank.edition', '{edition}');")
        app = App(await context.new_page(), harness.base_url)
        await app.open()
        page = app.page
        found, sizes = {}, []
        SHOTS.mkdir(parents=True, exist_ok=True)

        async def check(step: str) -> None:
            await page.screenshot(path=str(SHOTS / f"panel-{edition}-{step}.png"))
            found[step] = (await page.evaluate(COVERED_JS), await axe_violations(page))
            sizes.extend(await page.evaluate(SIZES_JS))

        # Before sign-in, as a guest: waiting, with the sign-in button (and the dock) in reach.
        await page.locator("[data-help]").first.click()
        await page.locator("#assist-sdk [data-assist-action=cancel]").wait_for()
        await check("guest-waiting")
        await page.click("#assist-sdk [data-assist-action=cancel]")
        await app.login("zhangsan")
        await page.locator("[data-help]").first.click()
        await page.locator("#assist-sdk [data-assist-action=cancel]").wait_for()
        await check("waiting")
        session = await back_and_accept(agent)
        await agent.call("end_session", {"session_id": session})
        await page.locator("#assist-sdk [data-assist-rating=satisfied]").wait_for()
        await check("ended")
        assert found == {step: ([], []) for step in found}, found
        if edition == "elderly":
            assert sizes and all(w >= 60 and h >= 60 and f >= 24 for _, w, h, f in sizes), sizes
