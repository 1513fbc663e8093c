"""Driving the demo bank app in real Chromium: the page helper and the in-page checks."""

from __future__ import annotations

from tests.browser import axe_violations

EDITIONS = ["standard", "elderly", "english"]

# Text nodes that leave the viewport or an overflow-clipping ancestor (the app's own DOM only).
CLIPPED_TEXT_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > vw + 1) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
  }
  const walker = document.createTreeWalker(document.getElementById('app'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.checkVisibility() || el.closest('.visually-hidden')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width === 0) continue;
      const label = `"${node.textContent.trim().slice(0, 30)}"`;
      if (r.left < -1 || r.right > vw + 1) problems.push(`${label} leaves the screen (${r.left}..${r.right})`);
      for (let a = el; a && a !== document.body; a = a.parentElement) {
        const style = getComputedStyle(a);
        if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
        const box = a.getBoundingClientRect();
        if (r.left < box.left - 1 || r.right > box.right + 1) problems.push(`${label} is clipped by <${a.tagName}>`);
      }
    }
  }
  for (const el of document.querySelectorAll('#app input, #app select')) {
    if (el.checkVisibility() && el.scrollWidth > el.clientWidth + 1 && el.type !== 'radio' && el.type !== 'checkbox') {
      problems.push(`the text in <${el.tagName} ${el.id}> is cut off`);
    }
  }
  return problems;
}"""

# The elderly edition's rules: targets at least 60×60 px, text at least 24 px.
ELDERLY_SIZES_JS = """() => {
  const problems = [];
  const controls = '#app a[href], #app button, #app input, #app select, #app textarea, #app [tabindex]:not([tabindex="-1"])';
  for (const el of document.querySelectorAll(controls)) {
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 59.99 || r.height < 59.99) {
      const text = (el.textContent || el.value || '').trim().slice(0, 20);
      problems.push(`<${el.tagName} class="${el.className}"> "${text}" is ${r.width.toFixed(1)}×${r.height.toFixed(1)}`);
    }
  }
  const walker = document.createTreeWalker(document.getElementById('app'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.checkVisibility() || el.closest('.visually-hidden')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 24) problems.push(`"${node.textContent.trim().slice(0, 20)}" is ${size}px`);
  }
  for (const el of document.querySelectorAll('#app input, #app select')) {
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (el.checkVisibility() && size < 24) problems.push(`<${el.tagName} ${el.id}> text is ${size}px`);
  }
  return problems;
}"""


class App:
    """One phone-sized page of the bank app, driven like a customer would."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    async def open(self, route: str = "#/login") -> None:
        await self.page.goto(f"{self.base_url}/{route}")
        await self.page.wait_for_selector("#main .page")

    async def expect(self, name: str) -> None:
        """Wait for a page (`.page-<name>`) and check the focus went to its heading."""
        await self.page.wait_for_selector(f"#main .page-{name}")
        focused = await self.page.evaluate("() => document.activeElement && document.activeElement.tagName")
        assert focused == "H1", f"focus is on {focused} after opening {name}"

    async def tap(self, selector: str, name: str) -> None:
        """Tap a control that opens a page, and wait for that page."""
        await self.page.click(selector)
        await self.expect(name)

    async def go(self, route: str, name: str) -> None:
        await self.page.evaluate("(route) => { location.hash = route; }", route)
        await self.expect(name)

    async def login(self, user: str = "zhangsan") -> None:
        await self.page.fill("input[name=username]", user)
        await self.page.fill("input[name=password]", "demo1234")
        await self.page.click("form button[type=submit]")
        await self.expect("home")

    async def text(self, selector: str) -> str:
        return (await self.page.locator(selector).first.inner_text()).strip()

    async def axe(self) -> list[dict]:
        return await axe_violations(self.page)

    async def evaluate(self, script: str, arg=None):
        return await self.page.evaluate(script, arg)

    async def tab_to(self, selector: str, limit: int = 40, key: str = "Tab") -> None:
        """Press Tab until the focused element matches `selector` (the keyboard is all we use)."""
        target = self.page.locator(selector).first
        for _ in range(limit):
            await self.page.keyboard.press(key)
            if await target.evaluate("(el) => el === document.activeElement"):
                return
        active = await self.page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 120)")
        raise AssertionError(f"Tab never reached {selector}; focus is on {active}")
