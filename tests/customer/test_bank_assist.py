"""The whole story in the demo bank app: stuck in a transfer, one tap for help, an agent guides,
the customer finishes the transfer themselves, stops sharing, and the agent's view freezes."""

from __future__ import annotations

from playwright.async_api import expect

from tests.bank.bankapp import App
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import click_in_replay, open_agent
from tests.customer.test_sdk_flow import REPLAY, mirror_count


async def agent_and_app(browser, harness):
    """An available agent on a 1366×768 console, and the bank app's sign-in screen on a phone."""
    agent = await open_agent(await browser.new_context(viewport={"width": 1366, "height": 768}), harness.base_url)
    page = await (await browser.new_context(**PHONE)).new_page()
    app = App(page, harness.base_url)
    await app.open()
    return agent, page, app


async def test_help_in_the_transfer_flow_from_tap_to_transfer(harness):
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, page, app = await agent_and_app(browser, harness)
        await app.login("zhangsan")
        await page.click(".actions a[href='#/transfer']")
        await app.expect("transfer")
        await page.click(".list-button:has-text('李四')")
        await app.expect("transfer-amount")

        # Stuck: one tap on help; the customer sees their place, the agent the offer.
        await page.click(".help-chip")
        await page.locator("#assist-sdk [data-assist-action=cancel]").wait_for()
        await agent.wait_for_selector("#offer-view:not([hidden])")
        # The offer in words, not a route or a language code.
        offer = await agent.locator("#offer-view").inner_text()
        assert "张三 · 转账 · 标准版 · 普通话 · 已等待" in offer and "转账 · 填写金额" in offer
        assert "#/" not in offer and "zh" not in offer
        await agent.click("#accept-offer")
        await agent.click("#ask-share")
        dialog = page.locator("#assist-sdk [role=dialog]")
        await dialog.wait_for()
        assert "王晓敏" in await dialog.inner_text()
        await agent.wait_for_function("() => document.getElementById('ctx-code').textContent.length === 4")
        assert await page.locator("[data-assist-code]").inner_text() == await agent.locator("#ctx-code").inner_text()
        await page.click("[data-assist-action=agree]")

        # The agent's replay shows the amount page; the agent points at the "next" button.
        replay = agent.frame_locator(REPLAY)
        await replay.locator(".page-transfer-amount").wait_for()
        await page.fill("input[inputmode=decimal]", "500")
        await expect(replay.locator("input[inputmode=decimal]")).to_have_value("500")
        await agent.click("[data-tool=highlight]")
        await agent.fill("#caption", "金额填好了，点这里")
        await click_in_replay(agent, page, "form button[type=submit]")
        target = await page.locator("form button[type=submit]").bounding_box()
        caption = page.locator("#assist-sdk .assist-caption")
        await caption.wait_for()
        assert await caption.inner_text() == "金额填好了，点这里"
        box = await page.locator("#assist-sdk .assist-highlight").bounding_box()
        assert box["x"] <= target["x"] and box["y"] <= target["y"]
        assert box["x"] + box["width"] >= target["x"] + target["width"]

        # The customer finishes the transfer; the password step is never mirrored.
        await page.click("form button[type=submit]")
        await app.expect("transfer-confirm")
        await replay.locator(".page-transfer-confirm").wait_for()
        # The agent's context follows the customer's step, and the call's quality is shown.
        title = await page.title()
        await expect(agent.locator("#ctx-page")).to_contain_text(title.split(" ")[0])
        await agent.wait_for_function("() => document.body.dataset.callQuality === 'good'", timeout=20_000)
        await page.click("[data-confirm]")
        await app.expect("transfer-password")
        await agent.wait_for_selector("#replay-paused:not([hidden])")
        await page.fill(".page-transfer-password input", "135790")
        await page.click("form button[type=submit]")
        await page.wait_for_selector("#main .page-transfer-result")
        await replay.locator(".page-transfer-result").wait_for()
        await agent.wait_for_selector("#replay-paused", state="hidden")
        assert "135790" not in await replay.locator("body").inner_html()

        # Stop sharing: the agent's view freezes on the result, the server relays nothing more.
        await page.click("[data-assist-action=stop]")
        await agent.wait_for_function("() => document.body.dataset.sessionState === 'stopped'")
        frozen = await replay.locator("body").inner_html()
        relayed = await mirror_count(harness)
        await page.click("button:has-text('完成')")
        await app.expect("home")
        await page.wait_for_timeout(500)
        assert await replay.locator("body").inner_html() == frozen
        assert await mirror_count(harness) == relayed


async def test_help_before_sign_in_reaches_an_agent_as_a_guest(harness):
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, page, app = await agent_and_app(browser, harness)  # the sign-in screen: this customer cannot sign in
        await page.locator("[data-help]").first.click()
        await agent.wait_for_selector("#offer-view:not([hidden])")
        await expect(agent.locator("#offer-detail")).to_contain_text("未登录客户 · 一般咨询")
        assert "请先登录" not in await page.locator("body").inner_text()
        await agent.click("#accept-offer")
        await expect(page.locator("#assist-sdk [data-assist-status]")).to_contain_text("王晓敏")


async def test_a_transfer_to_a_new_payee_during_help_stops_for_a_scam_warning(harness):
    account = "6212260000111122223"
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, page, app = await agent_and_app(browser, harness)
        await app.login("zhangsan")
        await page.locator("[data-help]").first.click()
        await agent.click("#accept-offer")
        await expect(page.locator("#assist-sdk [data-assist-status]")).to_contain_text("王晓敏")

        await app.go("#/transfer/new", "transfer-new")
        inputs = page.locator(".page-transfer-new input")
        await inputs.nth(0).fill("钱七")
        await inputs.nth(1).fill(account)
        await page.click("form button[type=submit]")
        await app.expect("transfer-amount")
        await page.fill("input[inputmode=decimal]", "100")
        await page.click("form button[type=submit]")
        await app.expect("transfer-confirm")
        warning = page.locator("[data-scam-warning]")
        await expect(warning).to_contain_text("银行工作人员绝不会让您")
        # The agent learns the step, never the payee's number.
        await expect(agent.locator("#ctx-alert")).to_contain_text("新收款人")
        assert account[-4:] not in await agent.locator("#desk-view").inner_text()
        # A pause the customer must acknowledge: going on without it is refused on the page.
        await page.click("[data-confirm]")
        await page.wait_for_selector("#scam-error:visible")
        await expect(page.locator("#scam-ack")).to_be_enabled(timeout=10_000)
        await page.check("#scam-ack")
        await page.click("[data-confirm]")
        await app.expect("transfer-password")
        session_id = await page.evaluate("Assist.state().sessionId")
    token = await harness.login("super01")
    _, listing = await harness.http("GET", "/api/requests", token)
    assert next(r for r in listing["requests"] if r["session_id"] == session_id)["scam_warning_at"]
