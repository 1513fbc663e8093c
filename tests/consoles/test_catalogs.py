"""The consoles' word catalogs: every language has the same keys and the same placeholders,
and every key each console names exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "agent_console" / "web"
CATALOGS = {p.stem: json.loads(p.read_text()) for p in sorted((WEB / "locales").glob("*.json"))}


def test_every_catalog_has_the_same_keys_and_placeholders():
    assert set(CATALOGS) >= {"zh", "en"}
    zh = CATALOGS["zh"]
    for lang, catalog in CATALOGS.items():
        assert set(catalog) == set(zh), (lang, set(catalog) ^ set(zh))
        for key, text in catalog.items():
            assert text.strip(), (lang, key)
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", zh[key])), (lang, key)


def test_the_supervisor_console_names_only_keys_that_exist():
    named, _ = named_keys((WEB / "supervisor.html").read_text(), (WEB / "supervisor.js").read_text())
    assert named and named <= set(CATALOGS["zh"]), named - set(CATALOGS["zh"])


def test_every_timeline_event_has_words():
    """The recording's timeline names each step in words: every literal timeline name the domain
    writes, and the composed ones (offer_<reason>, supervisor_<mode>, <role>_<status>)."""
    center = (WEB.parents[1] / "signaling" / "domain" / "center.py").read_text()
    names = set(re.findall(r'timeline="(\w+)"', center))
    names |= {f"offer_{r}" for r in ("declined", "timeout", "agent_left", "agent_away", "reassigned")}
    names |= {f"supervisor_{m}" for m in ("monitor", "whisper", "barge")}
    names |= {f"{who}_{status}" for who in ("customer", "agent") for status in ("reconnecting", "back")}
    missing = sorted(n for n in names if f"ev.{n}" not in CATALOGS["zh"])
    assert not missing, missing


def named_keys(html: str, *scripts: str) -> tuple[set[str], set[str]]:
    """The keys a console names: data-i18n attributes, t("key") calls and key strings in maps
    (a string beginning with a catalog section, "page.home"); and the families it composes
    (t(`agent.state.${state}`), named("agent.call", state)), as their prefixes."""
    sections = {key.split(".")[0] for key in CATALOGS["zh"]}
    named = set(re.findall(r'data-i18n(?:-label|-title)?="([\w.]+)"', html))
    families = set()
    for script in scripts:
        named |= {s for s in re.findall(r'"([a-z]\w*\.[\w.]+)"', script) if s.split(".")[0] in sections}
        families |= set(re.findall(r"\bt\(`([\w.]+)\.\$\{", script))
        families |= set(re.findall(r'\bnamed\("([\w.]+)"', script))
    return named - families, families


def test_the_agent_console_names_only_keys_that_exist():
    """Every word of the agent console (and the words both consoles share) is in the catalogs,
    and every code it puts in words has them: each agent, session and call state, end reason,
    transfer failure, edition, language and call quality."""
    from signaling.domain.model import AgentState, Edition, EndReason, SessionState

    named, families = named_keys((WEB / "agent.html").read_text(), (WEB / "agent.js").read_text(), (WEB / "words.js").read_text())
    codes = {
        "agent.state": [s.value for s in AgentState],
        "agent.share": [s.value for s in SessionState if s is not SessionState.ENDED],
        "agent.call": ["idle", "new", "connecting", "connected", "disconnected", "failed", "closed"],
        "agent.end": [r.value for r in EndReason] + ["supervisor_ended", "transferred", "other"],
        "agent.transfer.failed": ["declined", "timeout", "agent_away", "agent_left", "other"],
        "agent.quality": ["good", "fair", "poor"],
        "edition": [e.value for e in Edition],
        "spoken": ["zh", "en"],
        "topic": ["transfer", "general"],
    }
    assert families <= set(codes), families - set(codes)  # a new family needs its codes listed here
    named |= {f"{family}.{code}" for family in families for code in codes[family]}
    assert named and named <= set(CATALOGS["zh"]), sorted(named - set(CATALOGS["zh"]))


def test_every_word_written_in_a_console_page_is_translated():
    """Chinese written into a console's HTML is only the default: the element holding it must
    name its catalog key (data-i18n), or an English console shows it as it is (the supervisor's
    "排队与回电" heading did). Language choices name each language in its own words, and the
    page title is set by the console's script (document.title): both are left out."""
    from html.parser import HTMLParser

    class Words(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[tuple[str, bool]] = []  # (tag, translated here or above)
            self.bare: list[str] = []

        def handle_starttag(self, tag, attrs):
            keyed = any(name.startswith("data-i18n") for name, _ in attrs)
            if tag not in ("br", "img", "input", "meta", "link", "hr"):
                self.open.append((tag, keyed or (self.open[-1][1] if self.open else False)))

        def handle_endtag(self, tag):
            while self.open and self.open.pop()[0] != tag:
                pass

        def handle_data(self, data):
            inside = self.open[-1] if self.open else ("", False)
            if re.search(r"[\u4e00-\u9fff]", data) and not inside[1] and inside[0] not in ("option", "script", "style", "title"):
                self.bare.append(data.strip())

    for page in ("supervisor.html", "agent.html"):
        words = Words()
        words.feed((WEB / page).read_text())
        assert not words.bare, (page, words.bare)
