"""The agent console at work in English and Chinese: offer → call → sharing → wrap-up, with no
axe violations, and in English no Chinese word left in the agent's own screen (the customer's
mirrored page is theirs, and people's names are data). With ASSIST_SCREENSHOTS=<dir> set, each
phase is also saved at 1366×768 and 1920×1080 for review."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from signaling.domain.model import Policy
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.consoles.test_supervisor_screens import SIZES, shoot
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

# Visible Chinese text of the console, leaving out the customer's mirrored page and what is
# marked as Chinese (the language picker's "中文"): texts, and the labels and titles read aloud.
CHINESE_SHOWN = """(names) => {
  const han = /[\\u3400-\\u9fff\\uff01-\\uff5e\\u3000-\\u303f]/;
  const shown = (el) => (el.closest("select") || el).checkVisibility();
  const theirs = (el) => el.closest("#replay-root") || el.closest("[lang^=zh]");
  const strip = (text) => names.reduce((s, n) => s.replaceAll(n, ""), text);
  const found = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    const text = walk.currentNode.textContent;
    if (el && !theirs(el) && shown(el) && han.test(strip(text))) found.push(text.trim());
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder]")) {
    const said = [el.getAttribute("aria-label"), el.getAttribute("title"), el.getAttribute("placeholder")].join(" ");
    if (!theirs(el) && han.test(strip(said))) found.push(said);
  }
  if (han.test(document.title)) found.push(document.title);
  return found;
}"""

# Per language: who asks for help (name, edition, language) and the words the agent reads.
CASES = {
    "en": {
        "customer": ("Emily", "english", "en"),
        "offer": r"^Emily · Transfer · English edition · English · waiting \d+ s$",
        "queue": r"李四 · Transfer · Elderly edition · Mandarin · waiting \d+ s",
        "call": "Not shared yet",
        "sharing": "Sharing",
        "ended": "Emily · You ended the session",
        "caption": "Tap here",
    },
    "zh": {
        "customer": ("张三", "elderly", "zh"),
        "offer": r"^张三 · 转账 · 幸福生活版 · 普通话 · 已等待 \d+ 秒$",
        "queue": r"李四 · 转账 · 幸福生活版 · 普通话 · 已等待 \d+ 秒",
        "call": "通话中 · 未共享屏幕",
        "sharing": "共享中",
        "ended": "张三 · 您结束了会话",
        "caption": "请点这里",
    },
}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_agent_screens(start_server, lang):
    # The offer rings until answered: the screenshots take longer than a real agent would.
    harness = await start_server(
        pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT}, policy=Policy(offer_timeout_s=60, grace_s=5)
    )
    harness.add_customers("Emily")
    case = CASES[lang]
    name, edition, language = case["customer"]
    username = {"Emily": "Emily", "张三": "zhangsan"}[name]
    names = ["王晓敏", "李四", name]  # the agent's own name and the customers': data, not words
    found: dict = {}
    chinese: dict = {}

    async def phase(page, label: str) -> None:
        await shoot(page, f"agent-{lang}-{label}", found)
        if lang == "en":
            chinese[label] = await page.evaluate(CHINESE_SHOWN, names)

    async with chromium(*WEBRTC_ARGS) as browser:
        desk = await browser.new_context(viewport=SIZES[0])
        sign_in = await desk.new_page()
        await sign_in.goto(f"{harness.base_url}/agent?lang={lang}")
        await phase(sign_in, "sign-in")
        await sign_in.close()
        agent = await open_agent(desk, harness.base_url, lang=lang)
        await phase(agent, "available")

        customer = await open_customer(
            await browser.new_context(**PHONE),
            harness.base_url,
            await harness.login(username),
            edition=edition,
            language=language,
        )
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await expect(agent.locator("#offer-detail")).to_have_text(re.compile(case["offer"]))
        waiting = await open_customer(
            await browser.new_context(**PHONE), harness.base_url, await harness.login("lisi"), edition="elderly"
        )
        await waiting.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await expect(agent.locator("#queue-list li")).to_have_text([re.compile(case["queue"])])
        await phase(agent, "offer")

        await agent.click("#accept-offer")
        await expect(agent.locator("#ctx-state")).to_have_text(case["call"])
        assert await agent.locator("#caption").input_value() == case["caption"]  # in the customer's language
        await phase(agent, "call")

        await agent.click("#ask-share")
        await customer.click("[data-assist-action=agree]")
        replay = agent.frame_locator("#replay-root iframe")
        await replay.locator("#heading").wait_for()
        await expect(agent.locator("#ctx-state")).to_have_text(case["sharing"])
        await agent.click("[data-tool=highlight]")
        box = await replay.locator("#next").bounding_box()
        await agent.mouse.click(box["x"] + 5, box["y"] + 5)
        await customer.locator("#assist-sdk .assist-caption").wait_for()
        await phase(agent, "sharing")
        # The agent's own highlight is still on the button after the window was resized both ways.
        for size in (SIZES[1], SIZES[0]):
            await agent.set_viewport_size(size)
        over = False
        for _ in range(50):  # the console refits on the next frame after a resize: wait for it
            mark = await agent.locator("#agent-marks .mark-highlight").bounding_box()
            box = await replay.locator("#next").bounding_box()
            middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            over = mark["x"] < middle[0] < mark["x"] + mark["width"] and mark["y"] < middle[1] < mark["y"] + mark["height"]
            if over:
                break
            await agent.wait_for_timeout(100)
        assert over, (mark, box)

        await agent.click("#end-session")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")
        await expect(agent.locator("#wrapup-about")).to_have_text(case["ended"])
        await phase(agent, "wrap-up")
        await agent.click("#wrapup-form button[type=submit]")
        await agent.wait_for_selector("#wrapup-view", state="hidden")
    assert found == {k: [] for k in found}, found
    assert chinese == {k: [] for k in chinese}, chinese
