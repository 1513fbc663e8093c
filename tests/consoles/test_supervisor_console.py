"""The supervisor console in real Chromium: every phase of a session as the supervisor sees it,
the monitor pane on an ended session, and the recording replayed with the agent's marks."""

from __future__ import annotations

from playwright.async_api import expect

from assist.appkeys import TOKENS
from signaling.domain.model import Policy
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.consoles.test_consoles_browser import DESK, open_supervisor
from tests.customer.pages import TEST_SCRIPT, open_customer, page_html
from tests.signaling.test_flow import HELP


async def open_agent_on_break(context, base_url: str):
    """The agent signs in and takes a break: on shift, so a customer may wait for them."""
    page = await context.new_page()
    await page.goto(f"{base_url}/agent")
    await page.fill("#username", "agent01")
    await page.fill("#password", "demo1234")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_function("() => window.assistConsole.socket && window.assistConsole.socket.connected")
    await page.click("#go-away")
    await page.wait_for_function("() => document.body.dataset.agentState === 'away'")
    return page


# A shared session's timeline in words: requested, accepted, consent, a highlight, stopped, ended.
TIMELINE_WORDS = ("客户求助", "王晓敏 接起", "客户同意共享屏幕", "坐席高亮标注", "客户停止共享", "会话结束")


def row(page, phase: str):
    return page.locator(f"#sessions tr[data-phase={phase}]")


async def test_live_status_matrix_and_recording_with_marks(start_server):
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium(*WEBRTC_ARGS) as browser:
        supervisor = await open_supervisor(await browser.new_context(**DESK), harness.base_url)
        agent = await open_agent_on_break(await browser.new_context(**DESK), harness.base_url)
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url, await harness.login("zhangsan"))
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        # Nobody is available (the one agent on shift is on a break): the customer waits, and the
        # list says so in words.
        await expect(row(supervisor, "requested")).to_contain_text("排队中")
        await expect(row(supervisor, "requested")).to_contain_text("张三")
        await expect(row(supervisor, "requested")).to_contain_text("标准版·中文")

        await agent.click("#go-available")  # back from the break: the offer comes at once
        await agent.wait_for_selector("#offer-view:not([hidden])")
        await agent.click("#accept-offer")
        await expect(row(supervisor, "call")).to_contain_text("通话中（未共享屏幕）")
        await expect(supervisor.locator("#agents tr[data-agent=agent01]")).to_contain_text("通话")
        await expect(supervisor.locator("#agents tr[data-agent=agent01]")).to_contain_text("张三")

        await agent.click("#ask-share")  # on the call, the agent asks to see the screen
        await customer.click("[data-assist-action=agree]")
        await expect(row(supervisor, "sharing")).to_contain_text("共享屏幕中")
        await supervisor.locator("#sessions button[data-mode=monitor]").click()
        await expect(supervisor.locator("#monitor-state")).to_have_text("共享屏幕中")
        watched = supervisor.frame_locator("#monitor-root iframe")
        await watched.locator("#heading").wait_for()

        # The agent highlights a button and draws; both are recorded.
        replay = agent.frame_locator("#replay-root iframe")
        await replay.locator("#heading").wait_for()
        await agent.click("[data-tool=highlight]")
        box = await replay.locator("#next").bounding_box()
        await agent.mouse.click(box["x"] + 5, box["y"] + 5)
        await customer.locator("#assist-sdk .assist-caption").wait_for()

        await customer.click("[data-assist-action=stop]")
        await expect(row(supervisor, "paused")).to_contain_text("客户已暂停共享")
        await expect(supervisor.locator("#monitor-state")).to_have_text("客户已暂停共享")

        await agent.click("#end-session")
        await expect(row(supervisor, "wrap_up")).to_contain_text("已结束，坐席小结中")
        # The pane says the session ended; nothing of it stays live on screen.
        await expect(supervisor.locator("#monitor-ended")).to_contain_text("会话已结束")
        await expect(supervisor.locator("#monitor-state")).to_have_text("已结束")
        assert await supervisor.locator("#monitor-root iframe").count() == 0
        assert await supervisor.evaluate("document.body.dataset.monitorAudio") == "closed"
        await agent.wait_for_selector("#wrapup-view:not([hidden])")
        await agent.select_option("#outcome", "resolved")
        await agent.click("#wrapup-form button[type=submit]")
        await expect(supervisor.locator("#sessions")).to_contain_text("暂无会话或排队客户")
        await expect(supervisor.locator("#agents tr[data-agent=agent01] td").nth(4)).to_have_text("1")

        # The recording: names, call time, outcome; search by name; the timeline in words,
        # relative to the request, nothing past the end; the highlight drawn on the replay.
        await supervisor.click("#tab-recordings")
        await supervisor.fill("#f-customer", "李四")
        await supervisor.click("#rec-filter button[type=submit]")
        await expect(supervisor.locator("#rec-count")).to_have_text("没有符合条件的录像")
        await supervisor.fill("#f-customer", "张")
        await supervisor.fill("#f-agent", "王晓敏")
        await supervisor.select_option("#f-outcome", "resolved")
        await supervisor.click("#rec-filter button[type=submit]")
        listed = supervisor.locator("#recordings tr")
        await expect(listed).to_have_count(1)
        await expect(listed).to_contain_text("张三")
        await expect(listed).to_contain_text("王晓敏")
        await expect(listed).to_contain_text("已解决")
        await supervisor.locator("button[data-recording]").click()
        await supervisor.wait_for_function("() => document.body.dataset.player === 'ready'")
        timeline = await supervisor.locator("#timeline").inner_text()
        for words in TIMELINE_WORDS:
            assert words in timeline, timeline
        for code in ("requested", "consent", "annotation:", "sharing_stopped"):
            assert code not in timeline, timeline
        assert timeline.splitlines()[0].startswith("0:00 客户求助")
        total = await supervisor.locator("#time-total").inner_text()
        seconds = lambda text: int(text.split(":")[0]) * 60 + int(text.split(":")[1])  # noqa: E731
        times = [seconds(line.split()[0]) for line in timeline.splitlines() if line[:1].isdigit()]
        assert times == sorted(times) and max(times) <= seconds(total)
        # Seek to the highlight: it is drawn over the replayed page, as the customer saw it.
        await supervisor.locator("#timeline button", has_text="坐席高亮标注").click()
        await supervisor.wait_for_function("() => (document.body.dataset.marks || '').includes('highlight')")
        await expect(supervisor.locator(".replay-marks .mark-caption")).to_be_visible()
        await supervisor.locator("#timeline button", has_text="客户求助").click()
        await supervisor.wait_for_function("() => !(document.body.dataset.marks || '').includes('highlight')")


async def test_a_line_longer_than_the_board_says_how_many_more_wait(start_server, tmp_path):
    """The board lists the head of the line (the first 100); the rest are named in one row, so
    a supervisor never reads a long line as a short one."""
    harness = await start_server(policy=Policy(offer_timeout_s=30, grace_s=30, queue_cap=200))
    names = [f"w{i:03d}" for i in range(104)]
    harness.add_customers(*names)
    await harness.agent("agent01", available=False)  # on shift, on a break: they all wait
    # Their tokens from the server's own issuer: 104 password sign-ins (argon2) were a third of
    # this test's time, and signing in is not what it is about.
    tokens = harness.app[TOKENS]
    for name in names:
        token = tokens.issue({"username": name, "role": "customer", "display_name": name})
        await (await harness.client(name, token=token)).call("help_request", HELP)
    async with chromium() as browser:
        supervisor = await open_supervisor(await browser.new_context(**DESK), harness.base_url)
        await expect(row(supervisor, "requested")).to_have_count(100)
        await expect(supervisor.locator("#line-total")).to_have_text("（104）")  # everyone, not the 100 listed
        # The line is sent when it changes, not every second: its waits must count on meanwhile
        # ("已等待 0 秒" stood still beside a wall whose longest wait grew).
        first = supervisor.locator("#line li").first
        shown = await first.inner_text()
        await expect(first).not_to_have_text(shown, timeout=5_000)
        await expect(first).to_contain_text("w000")
        more = supervisor.locator("#sessions tr[data-more]")
        await expect(more).to_contain_text("另有 4 位客户在排队")
        # The wall comes every second while anyone waits; it must not rebuild a board that did
        # not change (it did: an open reassign list closed and focus was lost under the
        # supervisor's hand each second, and this very row detached mid-scroll).
        await supervisor.evaluate(
            "() => { window.kept = document.querySelector('#sessions tr[data-row]');"
            " window.seenWall = window.assistSupervisor.wall; }"
        )
        await supervisor.wait_for_function("() => window.assistSupervisor.wall !== window.seenWall")  # a newer wall
        assert await supervisor.evaluate("() => window.kept.isConnected"), "a wall rebuilt the unchanged board"
        await more.scroll_into_view_if_needed()
        await supervisor.screenshot(path=str(tmp_path / "supervisor-long-line.png"))
