"""Screenshots of the customer's and the agent's journeys, for people to look at.

    .venv/bin/python scripts/screenshots.py OUT_DIR [BASE_URL]

Starts a server on a free port (unless BASE_URL is given), drives Debian's Chromium through
the journeys (390×844 phone in each edition; 1366×768 and 1920×1080 consoles) and writes
one PNG per screen. Not a test: what it shows is for a person to judge.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser import ARGS, CHROMIUM, PHONE, WEBRTC_ARGS  # noqa: E402

EDITIONS = ["standard", "elderly", "english"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = os.environ | {
        "ASSIST_PORT": str(port),
        "ASSIST_VAR_DIR": tempfile.mkdtemp(prefix="shots-"),
        "ASSIST_VOICE": "0",
        "ASSIST_GRACE_S": "4",
        "ASSIST_OFFER_TIMEOUT_S": "30",
    }
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/assist"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def agent_page(browser, base: str, size: tuple[int, int], user: str = "agent01"):
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    page.goto(f"{base}/agent")
    page.fill("#username", user)
    page.fill("#password", "demo1234")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#desk-view:not([hidden])")
    page.wait_for_function("() => window.assistConsole.socket && window.assistConsole.socket.connected")
    page.wait_for_timeout(500)
    if page.locator("#wrapup-view:not([hidden])").count():  # left over from a tab that died
        page.click("#wrapup-form button[type=submit]")
        page.wait_for_selector("#wrapup-view", state="hidden")
    return page


def bank_page(browser, base: str, edition: str, user: str | None = "zhangsan"):
    context = browser.new_context(**PHONE)
    context.add_init_script(f"localStorage.setItem('assist-bank.edition', '{edition}')")
    page = context.new_page()
    page.goto(f"{base}/#/login")
    page.wait_for_selector("#main .page")
    if user:
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", "demo1234")
        page.click("form button[type=submit]")
        page.wait_for_selector("#main .page-home")
    return page


def to_amount_page(page):
    page.click(".actions a[href='#/transfer']")
    page.wait_for_selector("#main .page-transfer")
    page.locator(".list-button").first.click()
    page.wait_for_selector("#main .page-transfer-amount")


def shoot(page, out: Path, name: str) -> None:
    page.wait_for_timeout(400)
    page.screenshot(path=str(out / f"{name}.png"))
    print(out / f"{name}.png")


def set_state(agent, state: str) -> None:
    agent.click("#go-available" if state == "available" else "#go-away")
    wanted = ["available", "offered"] if state == "available" else [state]  # a waiting request rings at once
    agent.wait_for_function(f"() => {wanted}.includes(document.body.dataset.agentState)")


def customer_journeys(browser, base: str, out: Path, edition: str, agent) -> None:
    set_state(agent, "away")
    page = bank_page(browser, base, edition)
    to_amount_page(page)
    # Nobody is available (the agent is on a break): the waiting panel.
    page.locator("[data-help]").first.click()
    page.locator("#assist-sdk .assist-panel").wait_for()
    shoot(page, out, f"phone-{edition}-1-waiting")
    # The agent takes it: the call and the code come first.
    set_state(agent, "available")
    agent.wait_for_selector("#offer-view:not([hidden])")
    shoot(agent, out, f"console-1366-offer-{edition}")
    agent.click("#accept-offer")
    page.locator("#assist-sdk [data-assist-action=hangup]").wait_for()
    page.wait_for_function("() => Assist.state().callState === 'connected'")
    shoot(page, out, f"phone-{edition}-2-call")
    shoot(agent, out, f"console-1366-call-{edition}")
    agent.click("#ask-share")
    page.locator("[data-assist-action=agree]").wait_for()
    shoot(page, out, f"phone-{edition}-3-consent")
    page.click("[data-assist-action=agree]")
    page.locator("#assist-sdk .assist-banner, #assist-sdk .assist-indicator").first.wait_for()
    agent.frame_locator("#replay-root iframe").locator(".page-transfer-amount").wait_for()
    shoot(page, out, f"phone-{edition}-4-sharing")
    shoot(agent, out, f"console-1366-sharing-{edition}")
    # A transfer to a new payee while the agent is there: the scam warning.
    page.evaluate("location.hash = '#/transfer/new'")
    page.wait_for_selector("#main .page-transfer-new")
    page.locator(".page-transfer-new input").nth(0).fill("钱七")
    page.locator(".page-transfer-new input").nth(1).fill("6212260000111122223")
    page.click("form button[type=submit]")
    page.wait_for_selector("#main .page-transfer-amount")
    page.fill("input[inputmode=decimal]", "100")
    page.click("form button[type=submit]")
    if edition == "elderly":
        page.wait_for_selector("#main .page-transfer-purpose")
        page.locator(".option").first.click()
    page.wait_for_selector("[data-scam-warning]")
    page.locator("[data-scam-warning]").scroll_into_view_if_needed()
    shoot(page, out, f"phone-{edition}-4b-scam-warning")
    agent.wait_for_selector("#ctx-alert:not([hidden])")
    shoot(agent, out, f"console-1366-scam-{edition}")
    # The agent's tab dies: the customer is told who is reconnecting.
    agent.context.close()
    page.wait_for_timeout(1500)
    shoot(page, out, f"phone-{edition}-5-agent-reconnecting")
    page.wait_for_timeout(5000)
    shoot(page, out, f"phone-{edition}-6-ended")
    page.context.close()


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    proc, base = (None, sys.argv[2]) if len(sys.argv) > 2 else start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS + WEBRTC_ARGS)
            # With nobody on shift: what a customer is told.
            for edition in EDITIONS:
                page = bank_page(browser, base, edition)
                to_amount_page(page)
                page.locator("[data-help]").first.click()
                page.locator("#assist-sdk .assist-panel").wait_for()
                shoot(page, out, f"phone-{edition}-0-unstaffed")
                page.context.close()
            # Before sign-in: help as a guest (an agent on a break, so the request waits).
            agent = agent_page(browser, base, (1366, 768))
            set_state(agent, "away")
            for edition in EDITIONS:
                page = bank_page(browser, base, edition, user=None)
                page.locator("[data-help]").first.click()
                page.locator("#assist-sdk .assist-panel").wait_for()
                shoot(page, out, f"phone-{edition}-0b-guest-waiting")
                page.locator("#assist-sdk [data-assist-action=cancel]").click()
                page.context.close()
            agent.context.close()
            for edition in EDITIONS:
                agent = agent_page(browser, base, (1366, 768))
                customer_journeys(browser, base, out, edition, agent)
            # The console after a session, at both sizes.
            for size in ((1366, 768), (1920, 1080)):
                agent = agent_page(browser, base, size)
                set_state(agent, "available")
                page = bank_page(browser, base, "standard", "lisi")
                to_amount_page(page)
                page.locator("[data-help]").first.click()
                agent.wait_for_selector("#offer-view:not([hidden])")
                agent.click("#accept-offer")
                agent.click("#ask-share")
                page.click("[data-assist-action=agree]")
                agent.frame_locator("#replay-root iframe").locator(".page-transfer-amount").wait_for()
                shoot(agent, out, f"console-{size[0]}-sharing")
                agent.click("#end-session")
                agent.wait_for_selector("#wrapup-view:not([hidden])")
                shoot(agent, out, f"console-{size[0]}-wrapup")
                agent.click("#wrapup-form button[type=submit]")
                agent.wait_for_selector("#wrapup-view", state="hidden")
                shoot(agent, out, f"console-{size[0]}-after")
                agent.context.close()
                page.context.close()
            browser.close()
    finally:
        if proc:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
