"""The supervisor wall: a scripted scenario whose figures are worked out by hand."""

from __future__ import annotations

import re

from signaling.domain import queries
from signaling.domain.center import CallCenter
from signaling.domain.model import AgentProfile, Edition, Policy, Presence, Role

AGENT = AgentProfile("a1", "A1", "B1", frozenset({"zh"}), frozenset())


def test_scripted_scenario_matches_hand_computation():
    c = CallCenter(Policy(offer_timeout_s=600, grace_s=10, service_level_s=20, stats_window_s=3600))
    c.user_connected("a1", Role.AGENT, 0, AGENT)
    # Four customers arrive at t=0; the agent is away, so they wait.
    for name in ("c1", "c2", "c3", "c4"):
        c.request_help(name, name, "transfer", Edition.STANDARD, "zh", "/", 0)
    c.cancel_request("c4", c.by_customer["c4"][1], 5)  # abandons after 5 s: a short abandon
    c.set_presence("a1", Presence.AVAILABLE, 10)  # c1 is offered at t=10 …
    c.accept_offer("a1", c.agents["a1"].offer_id, 12)  # … answered after 12 s (within 20)
    c.end_session("a1", Role.AGENT, c.by_customer["c1"][1], 72)  # talk 60 s
    c.wrap_up("a1", next(iter(c.agents["a1"].wrap_ups)), "resolved", "", 82)  # wrap 10 s; c2 offered
    c.accept_offer("a1", c.agents["a1"].offer_id, 90)  # c2 answered after 90 s (late)
    c.user_disconnected("c3", Role.CUSTOMER, 95)
    c.tick(106)  # c3 gone past the 10 s grace: abandoned after 106 s (a late abandon)
    c.end_session("a1", Role.AGENT, c.by_customer["c2"][1], 130)  # talk 40 s
    c.wrap_up("a1", next(iter(c.agents["a1"].wrap_ups)), "resolved", "", 150)  # wrap 20 s

    wall = queries.wall(c, 150)
    # By hand: answered 2 (waits 12 and 90); abandoned 2 (after 5 s and 106 s).
    assert wall["answered"] == 2 and wall["abandoned"] == 2
    assert wall["service_level"] == round(1 / (2 + 1), 4)  # 1 within 20 s; 1 late abandon counts against
    assert wall["abandonment_rate"] == 0.5
    assert wall["average_speed_of_answer_s"] == (12 + 90) / 2
    assert wall["average_handle_time_s"] == ((60 + 10) + (40 + 20)) / 2
    assert wall["waiting"] == 0 and wall["sessions_active"] == 0 and wall["longest_wait_s"] == 0.0
    assert wall["agents_by_state"]["available"] == 1
    # An hour later the window has moved on: no data is no figure, not 0 %.
    later = queries.wall(c, 150 + 3601)
    assert later["answered"] == 0 and later["service_level"] is None and later["average_handle_time_s"] is None


async def test_supervisor_sees_the_wall_move_and_metrics_agree(harness):
    supervisor = await harness.client("super01")
    await harness.agent("agent01", available=False)  # on shift, on a break: the line can move
    customer = await harness.client("zhangsan")
    await customer.call("help_request", {"edition": "elderly"})
    wall = await supervisor.expect("wall", waiting=1, timeout=3)
    assert wall["waiting_by_class"] == {"elderly:zh": 1}
    agent = await harness.agent("agent01")
    offer = await agent.expect("offer")
    await agent.call("offer_accept", {"offer_id": offer["offer_id"]})
    wall = await supervisor.expect("wall", sessions_active=1, timeout=3)
    assert wall["answered"] == 1 and wall["service_level"] == 1.0 and wall["agents_by_state"]["busy"] == 1
    _, text = await harness.http("GET", "/metrics", harness.config.metrics_token)
    assert "assist_service_level 1.0" in text
    asa = float(re.search(r"^assist_average_speed_of_answer_seconds (\S+)$", text, re.M).group(1))
    assert abs(asa - wall["average_speed_of_answer_s"]) < 1e-9


def test_wall_per_agent_and_per_line_match_hand_computation():
    policy = Policy(
        offer_timeout_s=600, grace_s=600, service_level_s=20, alert_service_level=0.8, alert_longest_wait_s=60, day_offset_s=0
    )
    c = CallCenter(policy)
    day = 86400 * 100  # a day's start (UTC here: day_offset_s=0)
    b = AgentProfile("a2", "B2", "B2", frozenset({"zh", "en"}), frozenset())
    c.user_connected("a1", Role.AGENT, day, AGENT)
    c.user_connected("a2", Role.AGENT, day, b)
    c.request_help("c1", "张三", "transfer", Edition.STANDARD, "zh", "/", day + 0)
    c.request_help("c2", "Ann", "transfer", Edition.ENGLISH, "en", "/", day + 0)
    c.request_help("c3", "李四", "transfer", Edition.ELDERLY, "zh", "/", day + 5)
    c.set_presence("a1", Presence.AVAILABLE, day + 10)  # a1 is offered c3 (elderly go first)
    c.tick(day + 10)
    c.accept_offer("a1", c.agents["a1"].offer_id, day + 12)  # c3 waited 7 s
    c.tick(day + 12)
    c.end_session("a1", Role.AGENT, c.by_customer["c3"][1], day + 72)  # talk 60 s
    c.tick(day + 72)
    c.wrap_up("a1", next(iter(c.agents["a1"].wrap_ups)), "resolved", "", day + 82)  # wrap 10: handle 70
    c.tick(day + 82)  # a1 is offered c1 at once
    c.accept_offer("a1", c.agents["a1"].offer_id, day + 90)  # c1 waited 90 s: late
    c.tick(day + 90)
    c.end_session("a1", Role.AGENT, c.by_customer["c1"][1], day + 120)  # talk 30 s
    c.wrap_up("a1", next(iter(c.agents["a1"].wrap_ups)), "resolved", "", day + 140)  # handle 50
    c.tick(day + 140)
    c.set_presence("a1", Presence.AWAY, day + 150)
    c.tick(day + 150)

    wall = queries.wall(c, day + 200)
    agents = {a["id"]: a for a in wall["agents"]}
    assert agents["a1"]["state"] == "away" and agents["a1"]["since"] == day + 150
    assert agents["a1"]["handled_today"] == 2 and agents["a1"]["average_handle_today_s"] == (70 + 50) / 2
    assert agents["a2"]["state"] == "away" and agents["a2"]["handled_today"] == 0
    assert agents["a2"]["average_handle_today_s"] is None
    lines = {row["line"]: row for row in wall["lines"]}
    assert lines["english:en"]["waiting"] == 1 and lines["english:en"]["longest_wait_s"] == 200
    assert lines["english:en"]["alerts"] == ["longest_wait"] and lines["english:en"]["service_level"] is None
    assert lines["elderly:zh"]["service_level"] == 1.0 and lines["elderly:zh"]["alerts"] == []
    assert lines["standard:zh"]["service_level"] == 0.0 and lines["standard:zh"]["alerts"] == ["service_level"]
    assert wall["service_level"] == 0.5 and set(wall["alerts"]) == {"service_level", "longest_wait"}
    # A new day starts the counts afresh.
    c.tick(day + 86400 + 1)
    assert {a["id"]: a["handled_today"] for a in queries.wall(c, day + 86400 + 1)["agents"]} == {"a1": 0, "a2": 0}


def test_board_shows_every_phase_and_survives_the_snapshot():
    from signaling.domain import snapshot

    c = CallCenter(Policy(offer_timeout_s=600))
    c.user_connected("a1", Role.AGENT, 0, AGENT)
    c.request_help("c1", "张三", "transfer", Edition.STANDARD, "zh", "/", 1)
    phases = [[r["phase"] for r in queries.board(c, 1)]]
    c.set_presence("a1", Presence.AVAILABLE, 2)
    c.accept_offer("a1", c.agents["a1"].offer_id, 3, session_id="s1")
    sid = "s1"
    phases.append([(r["phase"], r["since"]) for r in queries.board(c, 3)])
    c.consent("c1", sid, True, 4)
    phases.append([(r["phase"], r["since"]) for r in queries.board(c, 4)])
    c.stop_sharing("c1", sid, 5)
    phases.append([(r["phase"], r["since"]) for r in queries.board(c, 5)])
    c.end_session("a1", Role.AGENT, sid, 6)
    c = snapshot.load(snapshot.dump(c), c.policy)  # another node reads the same
    phases.append([(r["phase"], r["since"]) for r in queries.board(c, 6)])
    c.wrap_up("a1", sid, "resolved", "", 7)
    phases.append(queries.board(c, 7))
    assert phases == [["requested"], [("call", 3)], [("sharing", 4)], [("paused", 5)], [("wrap_up", 6)], []]
