"""The demo bank app in real Chromium at 390×844: the transfer flow by touch and by keyboard,
accessibility (axe-core, WCAG 2.2 A/AA) on every page of every edition, the elderly edition's
sizes, 200% text, and the hooks for the assist SDK."""

from __future__ import annotations

import asyncio
import time

import pytest

from signaling.domain import queries
from tests.auth.test_production import refused_soon

from .bankapp import CLIPPED_TEXT_JS, EDITIONS, ELDERLY_SIZES_JS, App


async def api_balance(harness, user: str) -> int:
    token = await harness.login(user)
    status, body = await harness.http("GET", "/api/bank/account", token)
    assert status == 200, body
    return body["account"]["balance"]


async def test_transfer_by_touch_moves_the_money_once(open_app, harness):
    app = await open_app("standard")
    await app.expect("login")
    assert await app.evaluate("() => document.documentElement.lang") == "zh-CN"
    await app.login("zhangsan")
    assert await app.text(".balance-amount") == "¥52,680.00"
    assert await app.evaluate("() => !!sessionStorage.getItem('assist-bank.session')")

    await app.page.click(".actions a[href='#/transfer']")
    await app.expect("transfer")
    await app.page.click(".list-button:has-text('李四')")
    await app.expect("transfer-amount")
    await app.page.fill("input[inputmode=decimal]", "1,234.56")
    await app.page.select_option("select#purpose", "living")
    await app.page.click("form button[type=submit]")
    await app.expect("transfer-confirm")
    confirm = await app.text("#main")
    assert "¥1,234.56" in confirm and "¥51,445.44" in confirm and "通过" in confirm
    assert await app.page.locator(".risk").count() == 0  # a saved payee: nothing unusual
    await app.page.click("[data-confirm]")

    await app.expect("transfer-password")
    assert await app.page.locator(".page-transfer-password[data-assist-sensitive]").count() == 1
    assert await app.page.get_attribute(".page-transfer-password input", "type") == "password"
    await app.page.fill(".page-transfer-password input", "000000")
    await app.page.click("form button[type=submit]")
    error = app.page.locator(".field-error:visible")
    await error.wait_for()
    assert "还可以再试 4 次" in await error.inner_text()

    # A double tap on "pay": two submits of the form at once. The idempotency key makes it one debit.
    await app.page.fill(".page-transfer-password input", "135790")
    await app.evaluate(
        "() => { const f = document.querySelector('.page-transfer-password form'); f.requestSubmit(); f.requestSubmit(); }"
    )
    await app.page.wait_for_selector("#main .page-transfer-result")
    assert await app.text("[data-balance-after]") == "¥51,445.44"
    assert await api_balance(harness, "zhangsan") == 52_680_00 - 1_234_56
    assert await api_balance(harness, "lisi") == 8_000_00 + 1_234_56

    await app.page.click("button:has-text('完成')")
    await app.expect("home")
    assert await app.text(".balance-amount") == "¥51,445.44"
    assert "转给 李四" in await app.text(".recent")
    assert app.errors == []


async def test_transfer_with_the_keyboard_alone(open_app, harness):
    app = await open_app("standard")
    await app.expect("login")
    key = app.page.keyboard
    await app.tab_to("input[name=username]")
    await key.type("zhangsan")
    await app.tab_to("input[name=password]")
    await key.type("demo1234")
    await key.press("Enter")
    await app.expect("home")

    await app.tab_to(".actions a[href='#/transfer']")
    await assert_focus_visible(app)
    await key.press("Enter")
    await app.expect("transfer")
    await app.tab_to(".list-button:has-text('王五')")
    await assert_focus_visible(app)
    await key.press("Space")
    await app.expect("transfer-amount")
    await app.tab_to("input[inputmode=decimal]")
    await key.type("200")
    await app.tab_to("form button[type=submit]")
    await key.press("Enter")
    await app.expect("transfer-confirm")
    await app.tab_to("[data-confirm]")
    await assert_focus_visible(app)
    await key.press("Enter")
    await app.expect("transfer-password")
    await app.tab_to(".page-transfer-password input")
    await key.type("135790")
    await key.press("Enter")
    await app.expect("transfer-result")
    assert await app.text("[data-balance-after]") == "¥52,480.00"
    await app.tab_to("button:has-text('完成')")
    await key.press("Space")
    await app.expect("home")
    assert await app.text(".balance-amount") == "¥52,480.00"
    assert await api_balance(harness, "zhangsan") == 52_480_00


async def assert_focus_visible(app: App) -> None:
    outline = await app.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline


async def walk_every_page(app: App, harness, edition: str, at) -> list[str]:
    """Visit every route of the app (and the states that show alerts) in one edition; call
    `at(name)` on each. A transfer to a new payee shows the risk warning; limits used up
    make the confirm page refuse."""
    seen = []

    async def visit(name: str) -> None:
        seen.append(name)
        await at(name)

    await app.expect("login")
    await visit("login")
    await app.go("#/settings", "settings")
    await visit("settings (signed out)")
    await app.go("#/login", "login")
    await app.login("zhangsan")
    await visit("home")
    for route, name in (
        ("#/records", "records"),
        ("#/payees", "payees"),
        ("#/limits", "limits"),
        ("#/settings", "settings"),
        ("#/transfer", "transfer"),
    ):
        await app.go(route, name)
        await visit(name)

    await app.page.click("a[href='#/transfer/new']")
    await app.expect("transfer-new")
    await visit("transfer-new")
    inputs = app.page.locator(".page-transfer-new input")
    await inputs.nth(0).fill("钱七")
    await inputs.nth(1).fill("6212 2600 0011 1122 223")
    await app.page.click("form button[type=submit]")
    await app.expect("transfer-amount")
    await visit("transfer-amount")
    await app.page.fill("input[inputmode=decimal]", "8000")
    await app.page.click("form button[type=submit]")
    if edition == "elderly":
        await app.expect("transfer-purpose")
        await visit("transfer-purpose")
        await app.page.click(".option >> nth=0")
    await app.expect("transfer-confirm")
    assert await app.page.locator(".risk").count() == 1, "a large amount to a new payee must warn"
    await visit("transfer-confirm (warning)")
    await app.page.click("[data-confirm]")  # not ticked: refused on the page
    await app.page.wait_for_selector("#risk-error:visible")
    await visit("transfer-confirm (not ticked)")
    await app.page.check("#risk-ack")
    await app.page.click("[data-confirm]")
    await app.expect("transfer-password")
    await visit("transfer-password")
    await app.page.fill(".page-transfer-password input", "000000")
    await app.page.click("form button[type=submit]")
    await app.page.wait_for_selector(".field-error:visible")
    await visit("transfer-password (wrong)")
    await app.page.fill(".page-transfer-password input", "135790")
    await app.page.click("form button[type=submit]")
    await app.expect("transfer-result")
    await visit("transfer-result")

    token = await harness.login("zhangsan")
    status, _ = await harness.http("PUT", "/api/bank/limits", token, json={"per_transaction": 8_000_00, "daily": 8_000_00})
    assert status == 200
    await app.go("#/transfer", "transfer")
    await app.page.click(".list-button:has-text('王五')")
    await app.expect("transfer-amount")
    await app.page.fill("input[inputmode=decimal]", "100")
    await app.page.click("form button[type=submit]")
    if edition == "elderly":
        await app.expect("transfer-purpose")
        await app.page.click(".option >> nth=1")
    await app.expect("transfer-confirm")
    assert await app.page.locator(".alert-error").count() == 1, "the daily limit is used up"
    await visit("transfer-confirm (refused)")
    return seen


@pytest.mark.parametrize("edition", EDITIONS)
async def test_every_page_of_every_edition_passes_axe(open_app, harness, edition):
    app = await open_app(edition)
    found: dict[str, list] = {}
    titles: dict[str, str] = {}
    language = "en" if edition == "english" else "zh-CN"

    async def check(name: str) -> None:
        violations = await app.axe()
        if violations:
            found[name] = violations
        titles[name] = await app.page.title()
        assert await app.evaluate("() => document.documentElement.lang") == language
        assert await app.evaluate("(e) => document.documentElement.classList.contains('edition-' + e)", edition)
        assert await app.page.locator("main h1").count() == 1

    seen = await walk_every_page(app, harness, edition, check)
    assert not found, found
    assert len(seen) >= 16
    # Titles name the page (the refusal/warning states share their page's title).
    pages = {name.split(" (")[0]: title for name, title in titles.items()}
    assert len(set(pages.values())) == len(pages), pages
    assert app.errors == []


async def test_elderly_edition_sizes_help_and_voice_on_every_screen(open_app, harness):
    app = await open_app("elderly")
    problems: dict[str, list] = {}

    async def check(name: str) -> None:
        found = await app.evaluate(ELDERLY_SIZES_JS)
        if found:
            problems[name] = found[:8]
        assert await app.page.locator("[data-voice-button].voice-button:visible").count() == 1, name
        assert await app.page.locator(".help-button[data-help]:visible").count() == 1, name
        assert await app.page.locator(".tabbar:visible").count() == 0, name

    await walk_every_page(app, harness, "elderly", check)
    assert not problems, problems
    # This browser has no microphone: a plain message, never the browser's own error text.
    # (The voice path itself is tested with a fake microphone in tests/voice.)
    await app.page.click("[data-voice-button]")
    await app.page.wait_for_function("() => document.getElementById('toast').textContent.includes('没有找到可用的麦克风')")


@pytest.mark.parametrize("edition", ["standard", "elderly"])
async def test_text_at_200_percent_is_never_clipped(open_app, harness, edition):
    app = await open_app(edition)
    await app.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    problems: dict[str, list] = {}

    async def check(name: str) -> None:
        assert await app.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "32px"
        found = await app.evaluate(CLIPPED_TEXT_JS)
        if found:
            problems[name] = found[:8]

    await walk_every_page(app, harness, edition, check)
    assert not problems, problems


async def test_edition_is_chosen_in_settings_and_remembered(open_app, harness):
    app = await open_app("standard")
    await app.login("zhangsan")
    await app.go("#/settings", "settings")
    await app.page.check("input[value=english]")
    await app.page.click("form button[type=submit]")
    await app.expect("settings")
    assert await app.evaluate("() => [document.documentElement.lang, document.documentElement.className]") == [
        "en",
        "edition-english",
    ]
    assert await app.text("h1") == "Settings"
    assert await app.page.title() == "Settings - Anxin Bank"

    await app.page.check("input[value=elderly]")
    await app.page.click("form button[type=submit]")
    await app.expect("settings")
    assert await app.evaluate("() => localStorage.getItem('assist-bank.edition')") == "elderly"
    await app.page.reload()
    await app.expect("settings")
    assert await app.evaluate("() => [document.documentElement.lang, document.documentElement.className]") == [
        "zh-CN",
        "edition-elderly",
    ]
    assert await app.page.locator("[data-voice-button]").count() == 1
    # Still signed in (sessionStorage); signing out from the elderly home page forgets the token,
    # and the server refuses it from then on (a copy of it is worth nothing).
    await app.go("#/home", "home")
    token = await app.evaluate("() => JSON.parse(sessionStorage.getItem('assist-bank.session')).token")
    await app.page.click("button:has-text('退出登录')")
    await app.expect("login")
    assert await app.evaluate("() => sessionStorage.getItem('assist-bank.session')") is None
    await refused_soon(harness, token, "/api/bank/account")


async def test_the_app_works_without_the_sdk(browser, harness):
    from tests.browser import PHONE

    context = await browser.new_context(**PHONE)
    await context.route("**/sdk/assist.js", lambda route: route.abort())
    page = await context.new_page()
    app = App(page, harness.base_url)
    await app.open()
    await app.expect("login")
    await app.login("zhangsan")
    assert await app.evaluate("() => typeof window.Assist") == "undefined"
    await page.click(".help-chip")
    await page.wait_for_selector("#toast.visible")
    assert "暂时无法连接" in await app.text("#toast")
    await context.close()


async def test_index_loads_the_sdk_before_the_app_and_sends_csp(harness):
    status, html = await harness.http("GET", "/")
    assert status == 200
    sdk, app = html.index('<script src="/sdk/assist.js"></script>'), html.index('src="/app/js/main.js"')
    assert sdk < app
    assert "onclick=" not in html and "<script>" not in html
    for path in ("/app/i18n/zh.json", "/app/i18n/en.json", "/app/css/app.css", "/app/js/main.js"):
        status, _ = await harness.http("GET", path)
        assert status == 200, path


async def test_one_tap_help_reaches_the_queue_through_the_sdk(open_app, harness):
    status, _ = await harness.http("GET", "/sdk/assist.js")
    assert status == 200, "the assist SDK bundle is not built (make runs the build step)"
    await harness.agent("agent01", available=False)  # on shift: the request waits in line
    app = await open_app("elderly")
    await app.login("zhangsan")
    assert await app.evaluate("() => typeof window.Assist.requestHelp") == "function"
    await app.page.click(".actions a[href='#/transfer']")
    await app.expect("transfer")
    await app.page.click(".help-button[data-help]")
    deadline = time.monotonic() + 10
    waiting = []
    while time.monotonic() < deadline:
        waiting = queries.waiting_list(harness.center(), time.time())
        if waiting:
            break
        await asyncio.sleep(0.05)
    assert waiting, "the help request never reached the queue"
    request = waiting[0]
    assert (request["topic"], request["edition"], request["language"], request["page"]) == (
        "transfer",
        "elderly",
        "zh",
        "#/transfer",
    )
