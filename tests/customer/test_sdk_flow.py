"""The SDK and the agent console in real Chromium against the real server: help, consent,
mirror, guidance, call, stop sharing; masking scanned on every byte; no remote control."""

from __future__ import annotations

import re
import time

from playwright.async_api import expect

from assist.appkeys import ADAPTER
from signaling.domain.model import Policy
from tests.browser import PHONE, WEBRTC_ARGS, chromium
from tests.customer.pages import TEST_SCRIPT, open_agent, open_customer, page_html

REPLAY = "#replay-root iframe"


async def replay_text(agent_page, selector: str) -> str | None:
    frame = agent_page.frame_locator(REPLAY)
    return await frame.locator(selector).first.text_content(timeout=10_000)


async def mirror_count(harness) -> float:
    _, text = await harness.http("GET", "/metrics", harness.config.metrics_token)
    match = re.search(r'assist_events_received_total\{event="mirror"\} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


async def serve(start_server, **planted):
    return await start_server(pages={"/sdk-test": page_html(**planted), "/sdk-test.js": TEST_SCRIPT})


async def start_session(harness, browser):
    """Customer asks for help, agent accepts, the consent dialog shows: returns the pages."""
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    customer_ctx = await browser.new_context(**PHONE)
    agent = await open_agent(agent_ctx, harness.base_url)
    customer = await open_customer(customer_ctx, harness.base_url, await harness.login("zhangsan"))
    await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
    await agent.wait_for_selector("#offer-view:not([hidden])")
    await agent.click("#accept-offer")
    await agent.click("#ask-share")  # on the call, the agent asks to see the screen
    dialog = customer.locator("#assist-sdk [role=dialog]")
    await dialog.wait_for()
    return agent, customer, dialog


async def test_help_consent_mirror_guidance_call_and_stop(start_server):
    harness = await serve(start_server)
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, customer, dialog = await start_session(harness, browser)
        # Who is coming: name, badge and the same code the agent reads aloud.
        assert "王晓敏" in await dialog.text_content() and "A1024" in await dialog.text_content()
        code = await customer.locator("[data-assist-code]").text_content()
        await agent.wait_for_function("() => document.getElementById('ctx-code').textContent.length === 4")
        assert await agent.locator("#ctx-code").text_content() == code
        # The code is read aloud and checked by eye: it is large, not body text.
        size = await customer.locator("[data-assist-code]").evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 32, size
        # Nothing is mirrored before consent.
        assert await agent.locator(REPLAY).count() == 0
        # A double tap on "agree" (as people do) agrees once; its second tap lands on nothing.
        await customer.evaluate(
            """() => { window.pageTaps = 0; document.addEventListener('click',
                (e) => { if (!e.target.closest('#assist-sdk')) window.pageTaps++; }, true); }"""
        )
        await customer.locator("[data-assist-action=agree]").dblclick()
        assert await customer.evaluate("window.pageTaps") == 0

        # The agent's replay shows the customer's page.
        assert await replay_text(agent, "#heading") == "转账给李四"
        await customer.fill("#amount", "500")
        await expect(agent.frame_locator(REPLAY).locator("#amount")).to_have_value("500", timeout=10_000)

        # Highlight the "next" button with a caption: the customer sees it over that button.
        await agent.click("[data-tool=highlight]")
        await agent.fill("#caption", "点这里继续")
        frame_box = await agent.locator(REPLAY).bounding_box()
        button = await agent.frame_locator(REPLAY).locator("#next").bounding_box()
        assert frame_box and button
        await agent.mouse.click(button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
        caption = customer.locator("#assist-sdk .assist-caption")
        await caption.wait_for()
        assert await caption.text_content() == "点这里继续"
        box = await customer.locator("#assist-sdk .assist-highlight").bounding_box()
        target = await customer.locator("#next").bounding_box()
        assert box["x"] <= target["x"] and box["x"] + box["width"] >= target["x"] + target["width"]
        assert await customer.locator("#clicks").text_content() == "0"  # shown, never clicked

        # The call connects peer to peer.
        await agent.wait_for_function("() => document.body.dataset.callState === 'connected'", timeout=20_000)
        await customer.wait_for_function("() => Assist.state().callState === 'connected'", timeout=20_000)

        # Stop sharing: the agent's view freezes and the server relays nothing more, and nothing
        # of the agent's stays on the customer's screen.
        await customer.click("[data-assist-action=stop]")
        await agent.wait_for_function("() => document.body.dataset.sessionState === 'stopped'")
        await expect(customer.locator("#assist-sdk .assist-highlight")).to_have_count(0)
        seen = await agent.evaluate("window.assistConsole.mirrorSeen")
        received = await mirror_count(harness)
        await customer.fill("#amount", "999")
        await customer.evaluate("document.getElementById('heading').textContent = '改过的标题'")
        await customer.wait_for_timeout(500)
        assert await agent.evaluate("window.assistConsole.mirrorSeen") == seen
        assert await replay_text(agent, "#heading") == "转账给李四"
        assert await mirror_count(harness) == received  # the device sent nothing more
        await customer.click("[data-assist-action=hangup]")
        await agent.wait_for_selector("#wrapup-view:not([hidden])")


PLANTED = {
    "password": "Qz7781Secret",
    "password_attr": "AttrPw-6613",
    "otp": "493027",
    "card": "6222 0202 9988 7766 554",
    "card_placeholder": "6217 0000 1111 2222 333",
    "hidden": "HiddenTok-5521",
    "account": "6228-4800-1020-3040-506",
    "masked": "MaskedNote-8842",
    "blocked": "BlockedText-9931",
    "memo": "MemoSecret-7702",
    "sensitive": "SensitivePage-4410",
}


def variants(value: str) -> set[str]:
    """The value as typed and as bare digits (a card number leaks just as well without spaces)."""
    bare = re.sub(r"[ -]", "", value)
    return {value, bare} | ({bare[:12]} if bare.isdigit() else set())


async def test_masking_every_byte_the_server_and_agent_see(start_server):
    harness = await serve(
        start_server,
        password_attr=PLANTED["password_attr"],
        card_placeholder=PLANTED["card_placeholder"],
        hidden_value=PLANTED["hidden"],
        account_text=PLANTED["account"],
        masked_text=PLANTED["masked"],
        blocked_text=PLANTED["blocked"],
    )
    wire: list[str] = []

    def capture(page):
        page.on(
            "websocket",
            lambda ws: (ws.on("framesent", lambda f: wire.append(str(f))), ws.on("framereceived", lambda f: wire.append(str(f)))),
        )
        page.on("request", lambda r: wire.append(r.post_data or "") if "/socket.io/" in r.url else None)

    async with chromium(*WEBRTC_ARGS) as browser:
        agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
        customer_ctx = await browser.new_context(**PHONE)
        agent = await open_agent(agent_ctx, harness.base_url)
        capture(agent)
        customer_page = await customer_ctx.new_page()
        capture(customer_page)
        await customer_page.goto(f"{harness.base_url}/sdk-test")
        await customer_page.evaluate("([t]) => Assist.init({token: t, audio: false})", [await harness.login("zhangsan")])
        await customer_page.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await agent.click("#accept-offer")
        await agent.click("#ask-share")
        await customer_page.click("[data-assist-action=agree]")
        await agent.frame_locator(REPLAY).locator("#heading").wait_for()

        await customer_page.type("#amount", "500")
        await customer_page.type("#pw", PLANTED["password"])
        await customer_page.type("#otp", PLANTED["otp"])
        await customer_page.type("#card", PLANTED["card"])
        await customer_page.type("#memo", PLANTED["memo"])
        # Text written after submit, an attribute set by script: both must be masked too.
        await customer_page.evaluate(
            """([card]) => {
            document.getElementById('after').textContent = '已提交 ' + card;
            document.getElementById('card').setAttribute('value', card);
        }""",
            [PLANTED["card"]],
        )
        await expect(agent.frame_locator(REPLAY).locator("#amount")).to_have_value("500")
        await expect(agent.frame_locator(REPLAY).locator("#after")).to_contain_text("已提交")
        # A sensitive page: mirroring pauses, the agent sees a placeholder, nothing of it leaves.
        await customer_page.evaluate(
            """([text]) => {
            const slot = document.getElementById('sensitive-slot');
            slot.setAttribute('data-assist-sensitive', '');
            slot.textContent = text;
        }""",
            [PLANTED["sensitive"]],
        )
        await agent.wait_for_selector("#replay-paused:not([hidden])")
        await customer_page.evaluate("""() => {
            const slot = document.getElementById('sensitive-slot');
            slot.removeAttribute('data-assist-sensitive');
            slot.textContent = '';
        }""")
        await agent.wait_for_selector("#replay-paused", state="hidden")
        await customer_page.wait_for_timeout(300)
        agent_dom = await agent.content() + await agent.frame_locator(REPLAY).locator("html").inner_html()

    everything = "\n".join(wire) + agent_dom
    assert "转账给李四" in everything and "500" in everything  # the capture saw the mirror
    assert "data-assist-sensitive" not in "\n".join(wire) or PLANTED["sensitive"] not in everything
    leaks = [(name, v) for name, value in PLANTED.items() for v in variants(value) if v in everything]
    assert not leaks, leaks


async def test_agent_cannot_control_the_customer_page(start_server):
    harness = await serve(start_server)
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, customer, _ = await start_session(harness, browser)
        await customer.click("[data-assist-action=agree]")
        await agent.frame_locator(REPLAY).locator("#heading").wait_for()
        await customer.fill("#amount", "500")
        before = await customer.evaluate("""() => ({
            url: location.href, main: document.getElementById('page').outerHTML,
            amount: document.getElementById('amount').value, scripts: document.scripts.length,
            focused: document.activeElement && document.activeElement.id })""")
        send = """async ([event, payload]) => await new Promise((resolve) =>
            window.assistConsole.socket.timeout(5000).emit(event, payload, (err, reply) => resolve(err ? 'timeout' : reply)))"""
        sid = await agent.evaluate("window.assistConsole.session.session_id")
        crafted = [
            # Things the protocol has no words for: the server refuses them outright.
            {"kind": "click", "selector": "#next"},
            {"kind": "highlight", "selector": "#amount", "value": "100000"},
            {"kind": "highlight", "selector": "#next", "navigate": "https://evil.example/"},
            {"kind": "pointer", "point": {"x": 0.5, "y": 0.5}, "script": "alert(1)"},
        ]
        for i, payload in enumerate(crafted, start=1):
            reply = await agent.evaluate(send, ["annotation", {"session_id": sid, "seq": 10**15 + i, **payload}])
            assert reply["ok"] is False and reply["error"]["code"] == "bad_payload", reply
        for event in ("mirror", "help_request", "consent", "stop_sharing"):
            reply = await agent.evaluate(send, [event, {"session_id": sid}])
            assert reply["ok"] is False and reply["error"]["code"] in ("forbidden", "bad_payload"), (event, reply)
        # Well-formed guidance with hostile content: drawn as text, aimed at our own controls, …
        harmless = [
            {"kind": "highlight", "selector": "#next", "caption": "<img src=x onerror=alert(1)><script>alert(2)</script>"},
            {"kind": "highlight", "selector": "#assist-sdk [data-assist-action=stop]", "caption": "点我"},
            {"kind": "highlight", "selector": "}{ not a selector", "caption": "x"},
            {"kind": "pointer", "point": {"x": 0.5, "y": 0.3}},
        ]
        for i, payload in enumerate(harmless, start=100):
            reply = await agent.evaluate(send, ["annotation", {"session_id": sid, "seq": 10**15 + i, **payload}])
            assert reply["ok"], reply
        await customer.locator("#assist-sdk .assist-caption").first.wait_for()
        await customer.wait_for_timeout(300)
        after = await customer.evaluate("""() => ({
            url: location.href, main: document.getElementById('page').outerHTML,
            amount: document.getElementById('amount').value, scripts: document.scripts.length,
            focused: document.activeElement && document.activeElement.id })""")
        assert after == before
        assert await customer.evaluate("window.alertsFired") == 0
        assert await customer.locator("#clicks").text_content() == "0"
        assert await customer.locator("#assist-sdk img, #assist-sdk script").count() == 0
        captions = await customer.locator("#assist-sdk .assist-caption").all_text_contents()
        assert captions == ["<img src=x onerror=alert(1)><script>alert(2)</script>"]  # shown as text
        assert (await customer.evaluate("Assist.state()"))["sharing"] is True  # still sharing


async def test_reload_resumes_the_session_mirror_and_call(start_server):
    harness = await serve(start_server)
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, customer, _ = await start_session(harness, browser)
        await customer.click("[data-assist-action=agree]")
        await agent.wait_for_function("() => document.body.dataset.callState === 'connected'", timeout=20_000)
        token = await harness.login("zhangsan")
        await customer.reload()
        await customer.evaluate("([t]) => Assist.init({token: t, audio: {echoCancellation: false}})", [token])
        await customer.wait_for_function("() => Assist.state().phase === 'in_session' && Assist.state().sharing")
        await customer.evaluate("document.getElementById('heading').textContent = '刷新之后'")
        await expect(agent.frame_locator(REPLAY).locator("#heading")).to_have_text("刷新之后", timeout=10_000)
        await customer.wait_for_function("() => Assist.state().callState === 'connected'", timeout=20_000)
        assert await customer.locator("[data-assist-action=stop]").count() == 1  # the banner is back


async def test_reconnect_after_the_first_token_expired_uses_the_refreshed_one(start_server):
    # Tokens live 10 s (whole seconds: a token expires 9 to 10 s after it is issued).
    harness = await start_server(token_ttl_s=10, pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium() as browser:
        first = await harness.login("zhangsan")
        issued = time.time()
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url, first)
        await customer.wait_for_timeout(4000)
        _, fresh = await harness.http("POST", "/api/auth/refresh", first)  # valid ≥ 13 s after the first
        await customer.evaluate("([t]) => Assist.configure({token: t})", [fresh["token"]])
        await customer.wait_for_timeout(max(0, (issued + 10.5 - time.time()) * 1000))  # the first has expired
        adapter = harness.app[ADAPTER]
        for sid in list(adapter.by_user.get("zhangsan", ())):
            await adapter.sio.disconnect(sid)  # a network blip
        await customer.wait_for_function("() => Assist.state().connected", timeout=10_000)
        assert (await customer.evaluate("Assist.state()"))["phase"] == "idle"


async def test_the_call_connects_before_consent_and_survives_no_and_stop(start_server):
    """The agent accepts: the call connects at once (nothing mirrored); the agent reads the code
    and asks to share; "not now" keeps the call; asked again, the customer shares; stopping
    sharing keeps the call too."""
    harness = await serve(start_server)
    async with chromium(*WEBRTC_ARGS) as browser:
        agent = await open_agent(await browser.new_context(viewport={"width": 1366, "height": 768}), harness.base_url)
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url, await harness.login("zhangsan"))
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await agent.click("#accept-offer")
        # Both ends' RTCPeerConnection connected, with no consent dialog and no mirror yet.
        await customer.wait_for_function("() => Assist.state().callState === 'connected'", timeout=20_000)
        await agent.wait_for_function("() => window.assistConsole.call.pc.connectionState === 'connected'", timeout=20_000)
        assert await customer.locator("#assist-sdk [role=dialog]").count() == 0
        assert await agent.locator(REPLAY).count() == 0 and await mirror_count(harness) == 0
        # The customer sees who is talking and the code the agent reads aloud, above the page.
        status = await customer.locator("#assist-sdk [data-assist-status]").inner_text()
        code = await agent.locator("#ctx-code").inner_text()
        assert "王晓敏" in status and code in status
        assert await expect_call_label(agent) == "已接通"

        await agent.click("#ask-share")
        await customer.click("[data-assist-action=decline]")
        await expect(agent.locator("#session-message")).to_contain_text("暂不共享")
        assert await customer.evaluate("Assist.state().callState") == "connected"
        assert await customer.evaluate("Assist.state().phase") == "call" and await mirror_count(harness) == 0

        await agent.click("#ask-share")
        await customer.click("[data-assist-action=agree]")
        await agent.frame_locator(REPLAY).locator("#heading").wait_for()
        await customer.click("[data-assist-action=stop]")
        await agent.wait_for_function("() => document.body.dataset.sessionState === 'stopped'")
        await expect(agent.locator("#replay-waiting")).to_contain_text("客户已停止共享")
        assert await agent.evaluate("window.assistConsole.call.pc.connectionState") == "connected"
        assert await customer.evaluate("Assist.state().callState") == "connected"


async def expect_call_label(agent) -> str:
    await expect(agent.locator("#ctx-call")).to_have_text("已接通")
    return await agent.locator("#ctx-call").inner_text()


async def test_when_the_agent_drops_the_customer_is_told_who_and_can_ask_again(start_server):
    harness = await start_server(policy=Policy(grace_s=1), pages={"/sdk-test": page_html(), "/sdk-test.js": TEST_SCRIPT})
    async with chromium(*WEBRTC_ARGS) as browser:
        agent, customer, _ = await start_session(harness, browser)
        await customer.click("[data-assist-action=agree]")
        await agent.frame_locator(REPLAY).locator("#heading").wait_for()
        helping = await customer.evaluate("Assist.state().sessionId")

        # Help pressed again during the session: the session, not an error.
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        await expect(customer.locator("#assist-sdk .assist-notice")).to_contain_text("您正在和客服通话")
        assert await customer.evaluate("Assist.state().sessionId") == helping

        await agent.context.close()  # the agent's tab dies
        status = customer.locator("#assist-sdk [data-assist-status]")
        await expect(status).to_have_text("客服暂时离线，没有人在看您的屏幕")
        assert "网络" not in await customer.locator("#assist-sdk").inner_text()  # not blamed on the customer
        # After the grace window: a lasting end, a rating, and a way back.
        ended = customer.locator("#assist-sdk [data-assist-panel=ended]")
        await expect(ended).to_contain_text("服务已结束", timeout=10_000)
        await expect(ended).to_contain_text("客服的连接中断了")
        assert await customer.locator("#assist-sdk .assist-banner").count() == 0
        await customer.click("[data-assist-rating=unsatisfied]")
        await customer.fill("#assist-rate-comment", "客服掉线了")
        await customer.click("[data-assist-action=rate]")
        await expect(ended).to_contain_text("谢谢您的评价")
        assert await customer.locator("#assist-sdk [data-assist-action=help-again]").is_visible()
    token = await harness.login("super01")
    _, listing = await harness.http("GET", "/api/requests", token)
    row = next(r for r in listing["requests"] if r["session_id"] == helping)
    assert row["rating"] == "unsatisfied" and row["rating_comment"] == "客服掉线了" and row["end_reason"] == "dropped"


async def test_the_customer_is_told_when_a_supervisor_barges_in_and_only_then(start_server):
    harness = await serve(start_server)
    async with chromium(*WEBRTC_ARGS) as browser:
        agent = await harness.agent("agent01")
        customer = await open_customer(await browser.new_context(**PHONE), harness.base_url, await harness.login("zhangsan"))
        await customer.evaluate("Assist.requestHelp({topic: 'transfer'})")
        offer = await agent.expect("offer")
        await agent.call("offer_accept", {"offer_id": offer["offer_id"]})
        sid = (await agent.expect("session_started"))["session_id"]
        supervisor = await harness.client("super01")
        notice = customer.locator("#assist-sdk .assist-notice")
        # Watching and whispering are not heard by the customer: nothing is said to them.
        assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "monitor"}))["ok"]
        assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "whisper"}))["ok"]
        await agent.expect("supervisor_joined", mode="whisper")
        assert await notice.count() == 0
        assert (await supervisor.call("supervisor_join", {"session_id": sid, "mode": "barge"}))["ok"]
        await expect(notice).to_have_text("主管已加入")
