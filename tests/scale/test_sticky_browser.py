"""A real browser on long-polling only, through nginx, across two nodes: every poll of a
connection must reach the node holding it (the assist_node cookie), and when that node is
killed the console comes back on the other one, re-pinned."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser import chromium
from tests.customer.pages import open_agent

# What a browser sees behind a proxy that refuses WebSockets: each one fails, asynchronously.
REFUSED_WEBSOCKETS = """
window.WebSocket = class {
  constructor() {
    this.readyState = 0;
    setTimeout(() => {
      this.readyState = 3;
      if (this.onerror) this.onerror(new Event("error"));
      if (this.onclose) this.onclose({code: 1006, reason: "", wasClean: false});
    }, 10);
  }
  send() {}
  close() {}
};
"""
HELP = {"topic": "transfer", "edition": "standard", "language": "zh", "page": "transfer"}


async def _pinned(context) -> str:
    return next(c["value"] for c in await context.cookies() if c["name"] == "assist_node")


async def test_long_polling_console_stays_on_its_node_and_moves_when_it_dies(deployment):
    d = await deployment(2)
    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        # No WebSockets (as behind a proxy that refuses them): every message rides HTTP
        # long-polling, which only works if each poll of a connection reaches the node holding it.
        await context.add_init_script(REFUSED_WEBSOCKETS)
        agent = await open_agent(context, d.url)
        assert await agent.evaluate("() => window.assistConsole.socket.io.engine.transport.name") == "polling"
        node = await _pinned(context)
        customer = await d.client("zhangsan")
        assert (await customer.call("help_request", HELP))["ok"]
        await agent.click("#accept-offer")
        started = await customer.expect("session_started")
        assert started["agent"]["badge"] == "A1024"

        victim = next(n for n in d.nodes if n.node_id == node)
        victim.kill()
        # The console notices, polls again through nginx, lands on the other node, is re-pinned
        # and is still the agent of the session (back before anyone noticed it was gone).
        await agent.wait_for_function("() => window.assistConsole.socket.connected === false", timeout=15000)
        await agent.wait_for_function("() => window.assistConsole.socket.connected", timeout=30000)
        assert await _pinned(context) != node
        assert (await customer.call("consent", {"session_id": started["session_id"], "accept": True}))["ok"]
        await expect(agent.locator("body")).to_have_attribute("data-agent-state", "busy")
