"""Agent and supervisor consoles in real Chromium: guide, watch, listen, whisper, replay."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser import PHONE, WEBRTC_ARGS, axe_violations, chromium
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

DESK = {"viewport": {"width": 1280, "height": 900}}


async def open_supervisor(context, base_url: str):
    page = await context.new_page()
    await page.goto(f"{base_url}/supervisor")
    await page.fill("#username", "super01")
    await page.fill("#password", "demo1234")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#desk-view:not([hidden])")
    return page


async def test_supervisor_watches_listens_whispers_and_replays(start_server):
    harness = await start_server(
        pages={"/sdk-test": page_html(account_text="6228 4800 1020 3040 506"), "/sdk-test.js": TEST_SCRIPT}
    )
    async with chromium(*WEBRTC_ARGS) as browser:
        supervisor = await open_supervisor(await browser.new_context(**DESK), harness.base_url)
        agent = await open_agent(await browser.new_context(**DESK), harness.base_url)
        await expect(supervisor.locator("#agents tr[data-agent=agent01]")).to_contain_text("就绪")
        customer, replay = await shared_session(browser, harness, agent)
        # The wall moved: one answered, within the threshold, one session.
        await expect(supervisor.locator("#w-sessions")).to_have_text("1")
        await expect(supervisor.locator("#w-sl")).to_have_text("100.0%")

        # Silent monitor: the supervisor sees the mirror and hears the call; nobody is told.
        await supervisor.locator("button[data-mode=monitor]").click()
        await customer.fill("#amount", "500")
        watched = supervisor.frame_locator("#monitor-root iframe")
        await expect(watched.locator("#amount")).to_have_value("500", timeout=10_000)
        await supervisor.wait_for_function("() => document.body.dataset.monitorAudio === 'connected'", timeout=20_000)
        assert "主管" not in (await customer.locator("#assist-sdk").inner_text())
        await supervisor.fill("#whisper-text", "提醒客户核对收款人")
        await supervisor.click("#whisper-form button[type=submit]")
        await expect(agent.locator("#whispers")).to_contain_text("提醒客户核对收款人")
        assert "提醒客户核对收款人" not in await customer.content()

        # The agent guides, then ends; the masked account number never shows anywhere.
        await agent.click("[data-tool=highlight]")
        box = await replay.locator("#next").bounding_box()
        await agent.mouse.click(box["x"] + 5, box["y"] + 5)
        await customer.locator("#assist-sdk .assist-caption").wait_for()
        agent_saw = await replay.locator("#page").inner_text()
        assert "6228" not in agent_saw and "****" in agent_saw
        await agent.click("#end-session")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")
        await agent.select_option("#outcome", "resolved")
        await agent.click("#wrapup-form button[type=submit]")

        # Afterwards: the recording plays to the end and shows what the agent saw, masked alike.
        await supervisor.click("#tab-recordings")
        await supervisor.locator("button[data-recording]").first.click()
        await supervisor.wait_for_function("() => document.body.dataset.player === 'ready'")
        timeline = await supervisor.locator("#timeline").inner_text()
        assert "客户同意共享屏幕" in timeline and "坐席高亮标注" in timeline and "会话结束" in timeline
        await supervisor.select_option("#speed", "8")
        await supervisor.click("#play")
        await supervisor.wait_for_function("() => document.body.dataset.player === 'finished'", timeout=30_000)
        played = await supervisor.frame_locator("#player-root iframe").locator("#page").inner_text()
        assert played == agent_saw
        status, views = await harness.http(
            "GET", f"/api/recordings/{await first_recording(harness)}/views", await harness.login("super01")
        )
        # Each part opened is logged: the metadata, the events, the call audio's list and file.
        assert {v["viewer"] for v in views["views"]} == {"super01"}
        assert {"meta", "events", "audio"} <= {v["what"] for v in views["views"]}


async def shared_session(browser, harness, agent):
    """zhangsan asks for help, the agent answers, the customer shares: (customer page, replay)."""
    customer = await open_customer(await browser.new_context(**PHONE), harness.base_url, await harness.login("zhangsan"))
    await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
    await agent.click("#accept-offer")
    await agent.click("#ask-share")  # on the call, the agent asks to see the screen
    await customer.click("[data-assist-action=agree]")
    replay = agent.frame_locator("#replay-root iframe")
    await replay.locator("#heading").wait_for()
    return customer, replay


async def first_recording(harness) -> str:
    _, body = await harness.http("GET", "/api/recordings", await harness.login("super01"))
    return body["recordings"][0]["session_id"]


async def test_consoles_have_no_axe_violations_and_work_by_keyboard(start_server):
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium(*WEBRTC_ARGS) as browser:
        found = {}
        for path in ("/agent", "/supervisor"):
            page = await (await browser.new_context(**DESK)).new_page()
            await page.goto(f"{harness.base_url}{path}")
            found[f"{path} sign-in"] = await axe_violations(page)
            # Keyboard only: Tab to the fields, type, Enter.
            await page.keyboard.press("Tab")
            await page.keyboard.type("agent01" if path == "/agent" else "super01")
            await page.keyboard.press("Tab")
            await page.keyboard.type("demo1234")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("#desk-view:not([hidden])")
            found[f"{path} desk"] = await axe_violations(page)
            if path == "/agent":
                agent = page
                await page.keyboard.press("Alt+r")
                await page.wait_for_function("() => document.body.dataset.agentState === 'available'")
            else:
                await page.click("#tab-recordings")
                found["/supervisor recordings"] = await axe_violations(page)
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url, await harness.login("zhangsan"))
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await agent.wait_for_selector("#offer-view:not([hidden])")
        found["/agent offer"] = await axe_violations(agent)
        await agent.keyboard.press("Alt+a")  # accept by keyboard: the call comes first
        await agent.wait_for_selector("#session-view:not([hidden])")
        found["/agent call"] = await axe_violations(agent)
        await agent.keyboard.press("Alt+s")  # then ask to share, by keyboard too
        await customer.click("[data-assist-action=agree]")
        await agent.frame_locator("#replay-root iframe").locator("#heading").wait_for()
        found["/agent session"] = await axe_violations(agent)
        await agent.keyboard.press("h")
        assert await agent.get_attribute("[data-tool=highlight]", "aria-pressed") == "true"
        assert found == {k: [] for k in found}, found


async def test_console_sign_out_buttons_end_the_token_on_the_server(start_server):
    """退出登录 in each console: back to the form, and the token refused by the server."""
    from tests.auth.test_production import refused_soon

    harness = await start_server(voice=False)
    async with chromium() as browser:
        for page in (
            await open_agent(await browser.new_context(**DESK), harness.base_url),
            await open_supervisor(await browser.new_context(**DESK), harness.base_url),
        ):
            key = "assist.agent.token" if page.url.endswith("/agent") else "assist.supervisor.token"
            token = await page.evaluate(f"() => sessionStorage.getItem('{key}')")
            await page.click("#sign-out")
            await page.wait_for_selector("#login-view:not([hidden])")
            assert await page.evaluate(f"() => sessionStorage.getItem('{key}')") is None
            await refused_soon(harness, token)
