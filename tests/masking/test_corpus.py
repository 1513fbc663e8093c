"""The masking corpus driven through a whole session in real Chromium, against the real server.

Every secret of tests/masking/corpus.py is planted (typed key by key where a person types it),
and every byte that could carry it is searched: both sockets' frames, the stored recording, the
help request's record, and the agent's rendered replay (text, attributes, input values, CSS
generated content, shadow roots, frames). The classes named by issue 11: keystroke by keystroke,
a password switched to text, number formats, inside a data-assist-mask region (attributes,
generated content, shadow roots, same-origin frames), outside the mirror (page and transcript),
and fidelity the other way round (SVG geometry and innocent text intact).
"""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import open_agent
from tests.masking.corpus import CORPUS_PAGE, CORPUS_SCRIPT, INNOCENT, OUTSIDE, PAGE, SECRETS, SVG_PATH, TYPED
from tests.masking.leaks import find_leaks, socketio_strings, strings

REPLAY = "#replay-root iframe"

# Everything a person could read in a page, shadow roots and frames included.
DUMP = """() => {
  const out = [];
  const visit = (root) => {
    const doc = root.ownerDocument || root;
    const walker = doc.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = walker.currentNode; n; n = walker.nextNode()) {
      if (n.nodeType === 3) { out.push(n.data); continue; }
      if (n.nodeType !== 1) continue;
      for (const a of n.attributes) out.push(a.value);
      if (typeof n.value === 'string') out.push(n.value);
      const view = n.ownerDocument.defaultView;
      for (const pseudo of ['::before', '::after']) {
        const content = view.getComputedStyle(n, pseudo).content;
        if (content && content !== 'none' && content !== 'normal') out.push(content);
      }
      if (n.shadowRoot) visit(n.shadowRoot);
      if (n.tagName === 'IFRAME') { try { if (n.contentDocument) visit(n.contentDocument.documentElement); } catch {} }
    }
  };
  visit(document.documentElement);
  return out;
}"""


def capture(page, into: list[str]) -> None:
    page.on(
        "websocket",
        lambda ws: (ws.on("framesent", lambda f: into.append(str(f))), ws.on("framereceived", lambda f: into.append(str(f)))),
    )
    page.on("request", lambda r: into.append(r.post_data or "") if "/socket.io/" in r.url else None)
    page.on("response", lambda r: None)


async def test_corpus_no_secret_leaves_in_any_form_and_the_page_stays_intact(start_server):
    harness = await start_server(pages={"/corpus": CORPUS_PAGE, "/corpus.js": CORPUS_SCRIPT})
    wire: list[str] = []
    agent_console_errors: list[str] = []
    async with chromium(*WEBRTC_ARGS) as browser:
        agent = await open_agent(await browser.new_context(viewport={"width": 1366, "height": 900}), harness.base_url)
        agent.on("console", lambda m: agent_console_errors.append(m.text) if m.type == "error" else None)
        capture(agent, wire)
        customer = await (await browser.new_context(**PHONE)).new_page()
        capture(customer, wire)
        await customer.goto(f"{harness.base_url}/corpus#/transfer/{OUTSIDE['help_page']}")
        await customer.evaluate("([t]) => Assist.init({token: t, audio: false})", [await harness.login("zhangsan")])
        await customer.wait_for_function("() => Assist.state().connected")

        # A password typed and then shown as text before sharing even began.
        await customer.type("#pw", TYPED["typed_password"], delay=20)
        await customer.click("#show-pw")
        assert await customer.get_attribute("#pw", "type") == "text"

        await customer.evaluate(
            "([line]) => Assist.requestHelp({topic: 'transfer', transcript: [line]})",
            [f"我的卡号是 {OUTSIDE['help_transcript']} 帮我看看"],
        )
        await agent.click("#accept-offer")
        await agent.click("#ask-share")  # on the call, the agent asks to see the screen
        await customer.click("[data-assist-action=agree]")
        replay = agent.frame_locator(REPLAY)
        await expect(replay.locator("#heading")).to_have_text("掩码语料", timeout=15_000)

        # Key by key, as a person types.
        await customer.type("#k-card", TYPED["typed_card_default"], delay=20)
        await customer.type("#k-unmasked", TYPED["typed_card_unmasked"], delay=20)
        await customer.type("#k-numeric", TYPED["typed_account_numeric"], delay=20)
        await customer.type("#k-area", TYPED["typed_textarea"], delay=20)
        await customer.click("#k-edit")
        await customer.keyboard.type(TYPED["typed_editable"], delay=20)
        await customer.type("#pw", TYPED["typed_password_shown"], delay=20)
        await customer.frame_locator("#frame").locator("#frame-input").type(TYPED["typed_frame_input"], delay=20)
        await customer.dispatch_event("#pw", "change")
        await customer.evaluate("window.addGroups()")
        await expect(replay.locator("#f-progressive span")).to_have_count(4, timeout=10_000)
        await expect(replay.locator("#echo")).to_contain_text("您输入了", timeout=10_000)
        await expect(replay.locator("#k-unmasked")).to_have_value("*" * 19, timeout=10_000)

        # A fresh full snapshot of the page as it is now (stop, then share again).
        await customer.click("[data-assist-action=stop]")
        await agent.wait_for_function("() => document.body.dataset.sessionState === 'stopped'")
        await customer.click("[data-assist-action=share]")
        await agent.wait_for_function("() => document.body.dataset.sessionState === 'sharing'")
        await expect(replay.locator("#echo")).to_contain_text("您输入了", timeout=15_000)
        # The snapshot is complete when its last parts are drawn (a fixed pause flaked under load).
        await expect(replay.locator("#innocent")).to_have_text(INNOCENT, timeout=15_000)
        await expect(replay.locator("#icon-path")).to_have_attribute("d", SVG_PATH, timeout=15_000)

        rendered = await agent.evaluate(DUMP)
        replay_frame = agent.frame(url="about:blank") or next(f for f in agent.frames if f != agent.main_frame)
        svg_path = await replay_frame.get_attribute("#icon-path", "d")
        innocent = await replay_frame.text_content("#innocent")
        await customer.click("[data-assist-action=hangup]")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")

    supervisor = await harness.login("super01")
    status, listing = await harness.http("GET", "/api/recordings", supervisor)
    assert status == 200 and listing["recordings"], listing
    sid = listing["recordings"][0]["session_id"]
    status, recording = await harness.http("GET", f"/api/recordings/{sid}/events", supervisor)
    assert status == 200
    status, requests = await harness.http("GET", "/api/requests", supervisor)
    assert status == 200

    sent = list(socketio_strings(wire))
    stored = list(strings(recording)) + list(strings(requests))
    # The capture really saw the mirror, the recording and the request.
    assert "掩码语料" in "".join(sent) and "掩码语料" in "".join(stored)
    assert any("#/transfer/" in s for s in strings(requests))

    for where, texts in (("sockets", sent), ("recording and records", stored), ("agent's screen", rendered)):
        leaks = find_leaks(texts, SECRETS)
        assert not leaks, f"secrets reached the {where}: {leaks}"
    # The page repeated the password in its own text: gone there too.
    assert not find_leaks(rendered + sent, {"echoed_password": PAGE["echoed_password"]})

    # Fidelity: geometry and innocent text arrive as they are, and the replay raised no errors.
    assert svg_path == SVG_PATH
    assert innocent == INNOCENT
    assert not [e for e in agent_console_errors if "Expected number" in e or "attribute d" in e], agent_console_errors
