"""The README's five-minute tour, step by step, in Chromium on the real server: if a step in the
README stops working as written, this fails (keep the two in step)."""

from __future__ import annotations

import os

from playwright.async_api import expect

from signaling.domain.model import Policy
from tests.bank.bankapp import App
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.consoles.test_consoles_browser import DESK, open_supervisor
from tests.consoles.test_supervisor_console import TIMELINE_WORDS
from tests.customer.pages import click_in_replay, open_agent
from tests.customer.test_sdk_flow import REPLAY

ACCOUNT = "6212260000111122223"


async def test_the_readme_tour(start_server):
    # The timings `make run` has (an evaluator reads before acting). ASSIST_TOUR_URL runs the tour
    # against a server started by `make run` instead (a fresh ASSIST_VAR_DIR: no earlier recordings).
    url = os.environ.get("ASSIST_TOUR_URL")
    base_url = url.rstrip("/") if url else (await start_server(policy=Policy())).base_url
    async with chromium(*WEBRTC_ARGS) as browser:
        # 1. The customer, phone-sized: sign in, 转账, 李四 → the amount page.
        page = await (await browser.new_context(**PHONE)).new_page()
        app = App(page, base_url)
        await app.open()
        await app.login("zhangsan")
        await app.tap(".tabbar a:has-text('转账')", "transfer")
        await app.tap(".list-button:has-text('李四')", "transfer-amount")
        # 2. The agent signs in and presses 就绪 (open_agent does both).
        agent = await open_agent(await browser.new_context(**DESK), base_url)

        # 3. Stuck: 远程客服 at the top right; the customer waits, the agent gets the offer.
        await page.click(".help-chip:has-text('远程客服')")
        await expect(page.locator("#assist-sdk")).to_contain_text("客服正在接入")
        await expect(agent.locator("#offer-view")).to_contain_text("张三 · 转账")
        await expect(agent.locator("#offer-view")).to_contain_text("填写金额")
        await agent.click("#accept-offer:has-text('接听')")

        # 4. The call comes first: the same 4-digit code on both sides, then the agent asks.
        await page.locator("#assist-sdk [data-assist-action=hangup]").wait_for()
        await agent.wait_for_function("() => document.getElementById('ctx-code').textContent.length === 4")
        code = await agent.locator("#ctx-code").inner_text()
        await expect(page.locator("#assist-sdk")).to_contain_text(code)
        await agent.click("#ask-share:has-text('请客户共享屏幕')")

        # 5. Consent: who asks and the code; 同意共享; the agent highlights 下一步 with a caption.
        dialog = page.locator("#assist-sdk [role=dialog]")
        await expect(dialog).to_contain_text("王晓敏")
        assert await page.locator("[data-assist-code]").inner_text() == code
        await page.click("[data-assist-action=agree]:has-text('同意共享')")
        replay = agent.frame_locator(REPLAY)
        await replay.locator(".page-transfer-amount").wait_for()
        await agent.click("[data-tool=highlight]:has-text('高亮')")
        await agent.fill("#caption", "点这里")
        await click_in_replay(agent, page, "form button[type=submit]:has-text('下一步')")
        await expect(page.locator("#assist-sdk .assist-caption")).to_have_text("点这里")
        await page.locator("#assist-sdk .assist-highlight").wait_for()
        assert await page.locator("#main .page-transfer-amount").count() == 1  # guided, not pressed

        # 6. Masking: a new payee's account number never reaches the agent.
        await app.tap("button.back-button", "transfer")
        await app.tap("a:has-text('转给新收款人'), button:has-text('转给新收款人')", "transfer-new")
        inputs = page.locator(".page-transfer-new input")
        await inputs.nth(0).fill("钱七")
        await inputs.nth(1).fill(ACCOUNT)
        await replay.locator(".page-transfer-new").wait_for()
        await expect(replay.locator(".page-transfer-new input").nth(1)).not_to_have_value("")
        mirrored = await replay.locator(".page-transfer-new input").nth(1).input_value()
        assert not any(ch.isdigit() for ch in mirrored), mirrored
        assert ACCOUNT[-4:] not in await replay.locator("body").inner_html()

        # 7. Stop sharing: the agent's view freezes.
        await page.click("[data-assist-action=stop]:has-text('停止共享')")
        await agent.wait_for_function("() => document.body.dataset.sessionState === 'stopped'")

        # 8. End, wrap up, and the customer's rating.
        await agent.click("#end-session:has-text('结束会话')")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")
        await agent.click("#wrapup-form button:has-text('提交小结')")
        await agent.wait_for_selector("#wrapup-view", state="hidden")
        await expect(page.locator("#assist-sdk")).to_contain_text("服务已结束")
        await page.click("#assist-sdk [data-assist-rating=satisfied]:has-text('满意')")
        await page.click("#assist-sdk [data-assist-action=rate]:has-text('提交评价')")
        await expect(page.locator("#assist-sdk")).to_contain_text("谢谢您的评价")

        # 9. The supervisor: the wall, the agents and sessions, the recording with its timeline and audio.
        supervisor = await open_supervisor(await browser.new_context(**DESK), base_url)
        await expect(supervisor.locator("#wall-title")).to_have_text("实时看板")
        await expect(supervisor.locator("#agents tr[data-agent=agent01]")).to_contain_text("王晓敏")
        await supervisor.click("#tab-recordings:has-text('会话录像')")
        listed = supervisor.locator("#recordings tr")
        await expect(listed).to_have_count(1)
        await expect(listed).to_contain_text("张三")
        await expect(listed).to_contain_text("满意")  # the customer's rating
        await supervisor.locator("button[data-recording]").click()
        await supervisor.wait_for_function("() => document.body.dataset.player === 'ready'")
        timeline = await supervisor.locator("#timeline").inner_text()
        for words in TIMELINE_WORDS:
            assert words in timeline, timeline
        assert await supervisor.evaluate("document.body.dataset.audioSegments") == "1"  # the call's audio

        # 10. Help before sign-in: sign out, 远程客服 on the sign-in screen, a guest on the call.
        await page.click("#assist-sdk [data-assist-action=close]:has-text('关闭')")
        await app.tap("button.back-button", "transfer")
        await app.tap(".tabbar a:has-text('设置')", "settings")
        await app.tap("button:has-text('退出登录')", "login")
        await page.click(".help-chip:has-text('远程客服')")
        await expect(agent.locator("#offer-detail")).to_contain_text("未登录客户 · 一般咨询")
        await agent.click("#accept-offer")
        await page.click("#assist-sdk [data-assist-action=hangup]:has-text('挂断')")
        await expect(page.locator("#assist-sdk")).to_contain_text("服务已结束")

        # 11. The elderly edition: 切换版本 → 幸福生活版 → 使用此版本; 语音 and 一键联系远程客服 below.
        await page.click("#assist-sdk [data-assist-action=close]:has-text('关闭')")
        await app.tap("a:has-text('切换版本')", "settings")
        await page.click("label:has-text('幸福生活版')")
        await page.click("button:has-text('使用此版本')")
        await page.wait_for_function("() => document.documentElement.classList.contains('edition-elderly')")
        await app.tap("button.back-button", "login")
        await expect(page.locator("#dock [data-voice-button]")).to_have_text("语音")
        await expect(page.locator("#dock .help-button")).to_have_text("一键联系远程客服")
