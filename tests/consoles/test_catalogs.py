"""The consoles' word catalogs: every language has the same keys and the same placeholders,
and every key the supervisor console names exists."""
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
    html = (WEB / "supervisor.html").read_text()
    script = (WEB / "supervisor.js").read_text()
    named = set(re.findall(r'data-i18n(?:-label|-title)?="([\w.]+)"', html))
    named |= set(re.findall(r'\bt\("([\w.]+)"', script))
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
