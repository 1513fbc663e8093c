"""A bank-like test page for the SDK, served from the real server's origin (any page can use it)."""

from __future__ import annotations

TEST_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>SDK test page</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="/sdk/assist.js"></script></head>
<body>
<main id="page">
  <h1 id="heading">转账给李四</h1>
  <form id="form" autocomplete="off">
    <label for="amount">金额</label><input id="amount" inputmode="decimal" data-assist-unmask>
    <label for="card">收款卡号</label><input id="card" placeholder="{card_placeholder}">
    <label for="pw">交易密码</label><input id="pw" type="password" value="{password_attr}">
    <label for="otp">短信验证码</label><input id="otp" autocomplete="one-time-code">
    <input type="hidden" id="token" value="{hidden_value}">
    <label for="memo">备注</label><input id="memo" data-assist-mask>
  </form>
  <p id="account">收款账号 {account_text}</p>
  <div data-assist-mask id="masked">{masked_text}</div>
  <div data-assist-block id="blocked">{blocked_text}</div>
  <p id="after"></p>
  <button id="next" type="button">下一步</button>
  <p id="clicks">0</p>
  <section id="sensitive-slot"></section>
</main>
<script src="/sdk-test.js"></script>
</body></html>"""

# The page's own script, served as a file: the server's CSP allows no inline scripts.
TEST_SCRIPT = """
  document.getElementById("next").addEventListener("click", () => {
    const c = document.getElementById("clicks"); c.textContent = String(Number(c.textContent) + 1);
  });
  window.alertsFired = 0;
  window.alert = () => { window.alertsFired += 1; };
"""

SAFE = {
    "card_placeholder": "请输入卡号",
    "password_attr": "",
    "hidden_value": "",
    "account_text": "尾号 3445",
    "masked_text": "客户备注",
    "blocked_text": "不共享的内容",
}


def page_html(**planted: str) -> str:
    values = SAFE | planted
    html = TEST_PAGE
    for key, value in values.items():
        html = html.replace("{" + key + "}", value)
    return html


async def open_customer(
    context, base_url: str, token: str, path: str = "/sdk-test", edition: str = "standard", language: str = "zh"
):
    """Open a test page served by the server itself (start_server(pages=...)) and init the SDK."""
    page = await context.new_page()
    await page.goto(f"{base_url}{path}")
    await page.evaluate(
        "([token, edition, language]) => Assist.init({token, edition, language, "
        "audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}})",
        [token, edition, language],
    )
    await page.wait_for_function("() => Assist.state().connected")
    return page


async def open_agent(context, base_url: str, username: str = "agent01", lang: str | None = None):
    """The agent console, signed in and available; in the agent's language setting when given."""
    page = await context.new_page()
    await page.goto(f"{base_url}/agent" + (f"?lang={lang}" if lang else ""))
    await page.fill("#username", username)
    await page.fill("#password", "demo1234")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#desk-view:not([hidden])")
    await page.wait_for_function("() => window.assistConsole.socket && window.assistConsole.socket.connected")
    await page.click("#go-available")
    await page.wait_for_function("() => document.body.dataset.agentState === 'available'")
    return page


async def click_in_replay(agent, page, selector: str, replay: str = "#replay-root iframe") -> None:
    """The agent clicks, in the mirror, on the middle of what `selector` is on the customer's phone."""
    frame = await agent.locator(replay).bounding_box()
    scale = frame["width"] / 390
    target = await page.locator(selector).bounding_box()
    await agent.mouse.click(
        frame["x"] + (target["x"] + target["width"] / 2) * scale, frame["y"] + (target["y"] + target["height"] / 2) * scale
    )
