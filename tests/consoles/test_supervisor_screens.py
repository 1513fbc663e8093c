"""Every supervisor screen, in English and Chinese, with no axe violations; with
ASSIST_SCREENSHOTS=<dir> set, each screen is also saved at 1366×768 and 1920×1080 for review."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import expect

from signaling.domain.model import Policy
from tests.browser import PHONE, WEBRTC_ARGS, axe_violations, chromium
from tests.consoles.test_consoles_browser import shared_session
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html
from tests.signaling.test_flow import HELP

SIZES = [{"width": 1366, "height": 768}, {"width": 1920, "height": 1080}]


async def shoot(page, name: str, found: dict) -> None:
    found[name] = await axe_violations(page)
    target = os.environ.get("ASSIST_SCREENSHOTS")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        await page.set_viewport_size(size)
        await page.screenshot(path=f"{target}/{name}-{size['width']}.png", full_page=False)
    await page.set_viewport_size(SIZES[0])


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_supervisor_screens(start_server, lang):
    policy = Policy(offer_timeout_s=60, grace_s=5, queue_cap=50, alert_longest_wait_s=2)
    harness = await start_server(pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT}, policy=policy)
    words = {"en": ("Sharing the screen", "Waiting", "Agent highlighted"), "zh": ("共享屏幕中", "排队中", "坐席高亮标注")}[lang]
    found: dict = {}
    async with chromium(*WEBRTC_ARGS) as browser:
        page = await (await browser.new_context(viewport=SIZES[0])).new_page()
        await page.goto(f"{harness.base_url}/supervisor?lang={lang}")
        await shoot(page, f"{lang}-sign-in", found)
        await page.fill("#username", "super01")
        await page.fill("#password", "demo1234")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#desk-view:not([hidden])")

        agent = await open_agent(await browser.new_context(viewport=SIZES[0]), harness.base_url)
        _, replay = await shared_session(browser, harness, agent)
        await agent.click("[data-tool=highlight]")
        box = await replay.locator("#next").bounding_box()
        await agent.mouse.click(box["x"] + 5, box["y"] + 5)
        other = await open_customer(
            await browser.new_context(**PHONE), harness.base_url, await harness.login("lisi"), edition="elderly"
        )
        await other.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await agent.click("#invite")  # the agent asks for help: the invite offers the three modes
        await expect(page.locator("#invites li button[data-mode]")).to_have_count(3)
        await expect(page.locator("#sessions tr[data-phase=sharing]")).to_contain_text(words[0])
        await expect(page.locator("#sessions tr[data-phase=requested]")).to_contain_text(words[1])
        await page.wait_for_function("() => Number(document.body.dataset.alerts) > 0")  # lisi waits past 2 s
        await shoot(page, f"{lang}-wall", found)

        await page.locator("#sessions button[data-mode=monitor]").click()
        await page.frame_locator("#monitor-root iframe").locator("#heading").wait_for()
        await page.locator("#monitor-view").scroll_into_view_if_needed()
        await shoot(page, f"{lang}-monitor", found)
        await agent.click("#end-session")
        await page.wait_for_function("() => document.body.dataset.monitorPhase === 'ended'")
        await page.locator("#monitor-view").scroll_into_view_if_needed()
        await shoot(page, f"{lang}-monitor-ended", found)
        await agent.wait_for_selector("#wrapup-view:not([hidden])")
        await agent.select_option("#outcome", "resolved")
        await agent.click("#wrapup-form button[type=submit]")

        await page.click("#tab-recordings")
        await page.locator("button[data-recording]").first.wait_for()
        await shoot(page, f"{lang}-recordings", found)
        await page.locator("button[data-recording]").first.click()
        await page.wait_for_function("() => document.body.dataset.player === 'ready'")
        await page.locator("#timeline button", has_text=words[2]).click()
        await page.wait_for_function("() => (document.body.dataset.marks || '').includes('highlight')")
        await page.locator("#player-view").scroll_into_view_if_needed()
        await shoot(page, f"{lang}-player", found)
    assert found == {k: [] for k in found}, found


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_reassign_choices_follow_the_free_agents_and_keep_focus(start_server, lang):
    """A waiting customer's row offers the agents free to take them: the choice appears when an
    agent becomes free and goes when none is, and a supervisor at the list keeps their place
    while the wall ticks every second (it used to rebuild the board and drop their focus)."""
    harness = await start_server(policy=Policy(offer_timeout_s=60, grace_s=30, queue_cap=50))
    none_free, reassign = {"en": ("No free agent", "Reassign to"), "zh": ("无空闲坐席", "改派给")}[lang]
    await harness.agent("agent01")  # rings for the customer below, so it is not free
    customer = await harness.client("zhangsan")
    asked = await customer.call("help_request", HELP)
    rid = asked["request"]["request_id"]
    found: dict = {}
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=SIZES[0])).new_page()
        await page.goto(f"{harness.base_url}/supervisor?lang={lang}")
        await page.fill("#username", "super01")
        await page.fill("#password", "demo1234")
        await page.keyboard.press("Enter")
        await expect(page).to_have_title({"en": "Supervisor console · Assist", "zh": "主管监控台 · Assist"}[lang])
        await expect(page.locator("#line-title")).to_contain_text({"en": "Line and callbacks", "zh": "排队与回电"}[lang])
        waiting = page.locator(f"#sessions tr[data-row='{rid}']")
        await expect(waiting).to_contain_text(none_free)

        second = await harness.agent("agent02")  # free now: the row offers them
        choice = page.locator(f"#reassign-{rid}")
        await expect(choice).to_have_attribute("aria-label", f"{reassign} · 张三")
        await expect(choice.locator("option")).to_have_text(["陈立 A2048"])  # agent02 only: agent01 rings
        await choice.focus()
        await page.evaluate("() => { window.seenWall = window.assistSupervisor.wall; }")
        await page.wait_for_function("() => window.assistSupervisor.wall !== window.seenWall")  # a second ticked
        assert await page.evaluate("() => document.activeElement && document.activeElement.id") == f"reassign-{rid}"
        await waiting.scroll_into_view_if_needed()
        await shoot(page, f"{lang}-reassign", found)

        assert (await second.call("agent_state", {"state": "away"}))["ok"]  # nobody free again
        await expect(waiting).to_contain_text(none_free)
        await expect(choice).to_have_count(0)
    assert found == {f"{lang}-reassign": []}, found
