"""docs/protocol.md and the code name the same events and error codes; its tables, the JSON
Schema and the TypeScript declarations are generated from the models and up to date."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from signaling import protocol_doc
from signaling.outbound import OUTBOUND, RelayEvent
from signaling.protocol import INBOUND

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text()
SOURCE = "\n".join(p.read_text() for p in (ROOT / "signaling").rglob("*.py"))
EMITTERS = "\n".join(p.read_text() for folder in ("signaling", "assist", "voice") for p in (ROOT / folder).rglob("*.py"))


def test_every_inbound_event_is_documented():
    missing = [e for e in INBOUND if f"`{e}`" not in DOC]
    assert not missing


def test_every_outbound_event_is_declared_and_documented():
    # Everything goes out through one delivery (signaling.sio.SioDelivery) as a model of
    # signaling/outbound.py (mypy checks it) or a Relay, whose event names are typed there.
    assert len(re.findall(r"\.emit\(", EMITTERS)) == 1, "one place puts events on the socket"
    assert set(get_args(RelayEvent)) <= set(OUTBOUND)
    assert not re.findall(r'notify\([^,]+, "', SOURCE), "notify takes an outbound model, not an event name"
    assert not [e for e in OUTBOUND if f"`{e}`" not in DOC]


def test_every_error_code_is_documented():
    raised = set(re.findall(r'(?:DomainError|Refused)\(\s*"([a-z_]+)"', SOURCE))
    raised |= {"not_found", "forbidden", "invalid_state", "internal", "unauthorized", "token_invalid", "token_expired"}
    assert len(raised) > 10
    assert not [code for code in raised if f"`{code}`" not in DOC]


def test_the_generated_reference_is_up_to_date():
    """docs/protocol.md's tables, docs/protocol.schema.json and the TypeScript declarations are
    generated from the models: edit the models, then run the command."""
    assert not [str(p.relative_to(ROOT)) for p in protocol_doc.stale()], f"run `{protocol_doc.COMMAND}`"


def test_the_doc_keeps_its_prose_around_the_tables():
    for section in protocol_doc.SECTIONS:
        assert f"<!-- generated: {section} " in DOC and f"<!-- end generated: {section} -->" in DOC
    assert "## Reconnect and resume" in DOC and "## Queue, routing and the wait estimate" in DOC
