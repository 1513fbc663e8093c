"""The server's events are their models on the wire: what the domain sends parses back into
the model it was made from, the JSON is pydantic's serialisation of the model, and the JSON
Schema agrees."""

from __future__ import annotations

import json

from signaling import protocol_doc
from signaling.domain import queries
from signaling.domain.center import CallCenter
from signaling.domain.model import AgentProfile, Edition, Policy, Presence, Role, SessionState
from signaling.outbound import (
    MODELS,
    OUTBOUND,
    Board,
    QueueWaiting,
    SessionStarted,
    VoiceResult,
    WaitingLine,
    Wall,
)


def test_a_none_default_field_is_left_out_and_any_other_none_is_sent():
    started = SessionStarted(session_id="s", state=SessionState.SHARING, code="1234", agent={"name": "A", "badge": "B"})
    assert "customer" not in started.wire() and started.wire() == started.dump()
    waiting = QueueWaiting(request_id="r", position=1, eta_s=None, callback=False, long_wait=False)
    assert waiting.wire() == {
        "request_id": "r",
        "status": "waiting",
        "position": 1,
        "eta_s": None,
        "callback": False,
        "long_wait": False,
    }
    result = VoiceResult(text="", intent=None, slots={}, engine="grammar", pass_=None)
    assert result.wire() == {"text": "", "intent": None, "slots": {}, "engine": "grammar", "pass": None}
    assert VoiceResult.validate(result.wire()) == result
    assert {m.__name__ for m in MODELS if m.optional_fields()} == {
        "SessionStarted",
        "AnnotationOut",
        "RtcSignalOut",
        "MonitorSignalOut",
        "VoiceResult",
    }


def test_every_payload_the_domain_sends_is_its_model_on_the_wire():
    """A day of the call center, run on the domain: each notice's JSON parses back into the
    model it was made from (names, aliases and values), and matches the JSON Schema's keys."""
    defs = protocol_doc.build_schema()["$defs"]
    center = CallCenter(Policy(offer_timeout_s=15, grace_s=30))
    profile = AgentProfile("a1", "Agent One", "B1", frozenset({"zh"}), frozenset())
    other = AgentProfile("a2", "Agent Two", "B2", frozenset({"zh"}), frozenset())
    notices = []

    def run(result):
        effects = result[1] if isinstance(result, tuple) else result
        notices.extend(effects.notices)
        return result

    run(center.user_connected("a1", Role.AGENT, 1.0, profile))
    run(center.user_connected("a2", Role.AGENT, 1.0, other))
    run(center.set_presence("a1", Presence.AVAILABLE, 2.0))
    view, _ = run(center.request_help("c1", "Customer", "transfer", Edition.ELDERLY, "zh", "/t", 3.0, ("hi",)))
    offer = center.agents["a1"].offer_id
    run(center.accept_offer("a1", offer, 4.0, "s1"))
    run(center.ask_to_share("a1", "s1", 5.0))
    run(center.consent("c1", "s1", True, 6.0))
    run(center.customer_step("c1", "s1", "scam_warning", 6.5))
    run(center.supervisor_join("sup", "Sup", "s1", "barge", 7.0))
    run(center.whisper("sup", "Sup", "s1", "slow down", 7.5))
    run(center.supervisor_leave("sup", "s1", 8.0))
    run(center.user_disconnected("c1", Role.CUSTOMER, 8.5))
    run(center.user_connected("c1", Role.CUSTOMER, 9.0))
    run(center.set_presence("a2", Presence.AVAILABLE, 9.5))
    run(center.transfer("a1", "s1", "a2", 10.0))
    run(center.accept_offer("a2", center.agents["a2"].offer_id, 11.0))
    run(center.end_session("c1", Role.CUSTOMER, "s1", 12.0))
    run(center.request_help("c2", "Other", "transfer", Edition.STANDARD, "zh", "/t", 13.0))
    run(center.wrap_up("a1", "s1", "transferred", "", 14.0))
    run(center.tick(40.0))  # the ringing offer lapses
    events = {n.event for n in notices}
    assert {
        "offer",
        "session_started",
        "agent_changed",
        "session_ended",
        "peer_status",
        "whisper",
        "supervisor_joined",
        "offer_revoked",
        "queue_update",
        "customer_step",
    } <= events
    for notice in notices:
        data = notice.data
        model = type(notice.message)
        assert model.validate(data) == notice.message, notice.event
        assert json.dumps(data) == json.dumps(notice.message.dump()), notice.event  # wire()'s fast path
        node = defs[model.__name__]
        assert set(node["required"]) <= set(data) <= set(node["properties"]), (notice.event, sorted(data))
        assert model in OUTBOUND[notice.event]
    # The service sends the domain's views as they are (issue 16); they are what the models
    # say, and their JSON is the validated model's.
    now = 41.0
    run(center.request_help("c3", "Third", "transfer", Edition.STANDARD, "zh", "/t", now))
    views = [
        (Board, {"rows": queries.board(center, now), "now": now}),
        (Wall, queries.wall(center, now)),
        (WaitingLine, {"waiting": queries.waiting_list(center, now), "total": len(center.queue)}),
    ]
    for model, view in views:
        made = model(**view)
        assert json.dumps(made.wire()) == json.dumps(model.validate(json.loads(json.dumps(view))).dump())
    assert queries.board(center, now) and queries.wall(center, now)["agents"] and queries.waiting_list(center, now)
