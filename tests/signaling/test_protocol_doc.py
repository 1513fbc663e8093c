"""docs/protocol.md and the code name the same events and error codes."""
from __future__ import annotations

import re
from pathlib import Path

from signaling.outbound import OUTBOUND
from signaling.protocol import INBOUND

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text()
SOURCE = "\n".join(p.read_text() for p in (ROOT / "signaling").rglob("*.py"))
EMITTERS = "\n".join(p.read_text() for folder in ("signaling", "assist", "voice") for p in (ROOT / folder).rglob("*.py"))


def test_every_inbound_event_is_documented():
    missing = [e for e in INBOUND if f"`{e}`" not in DOC]
    assert not missing


def test_every_outbound_event_is_declared_and_documented():
    # Notices carry a model of signaling/outbound.py (mypy checks it); what is still emitted by
    # name (relays, the voice assistant) must name a modelled event.
    emitted = set(re.findall(r'emit\(\s*"([a-z_]+)"', EMITTERS))
    assert emitted, "the pattern found no emitted events"
    assert emitted <= set(OUTBOUND)
    assert not re.findall(r'notify\([^,]+, "', SOURCE), "notify takes an outbound model, not an event name"
    assert not [e for e in OUTBOUND if f"`{e}`" not in DOC]


def test_every_error_code_is_documented():
    raised = set(re.findall(r'(?:DomainError|Refused)\(\s*"([a-z_]+)"', SOURCE))
    raised |= {"not_found", "forbidden", "invalid_state", "internal", "unauthorized", "token_invalid",
               "token_expired"}
    assert len(raised) > 10
    assert not [code for code in raised if f"`{code}`" not in DOC]
