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
