"""docs/protocol.md and the code name the same events and error codes."""
from __future__ import annotations

import re
from pathlib import Path

from signaling.protocol import INBOUND, OUTBOUND

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text()
SOURCE = "\n".join(p.read_text() for p in (ROOT / "signaling").rglob("*.py"))


def test_every_inbound_event_is_documented():
    missing = [e for e in INBOUND if f"`{e}`" not in DOC]
    assert not missing


def test_every_outbound_event_is_declared_and_documented():
    emitted = set(re.findall(r'(?:notify\([^,]+, |Notice\([^,]+, )"([a-z_]+)"', SOURCE))
    assert emitted, "the pattern found no emitted events"
    assert emitted <= set(OUTBOUND) | set(INBOUND)
    assert not [e for e in OUTBOUND if f"`{e}`" not in DOC]


def test_every_error_code_is_documented():
    raised = set(re.findall(r'(?:DomainError|Refused)\(\s*"([a-z_]+)"', SOURCE))
    raised |= {"not_found", "forbidden", "invalid_state", "internal", "unauthorized", "token_invalid",
               "token_expired"}
    assert len(raised) > 10
    assert not [code for code in raised if f"`{code}`" not in DOC]
