"""A stateful property test of the call center over random sequences of everything people do.

Invariants checked after every step: no customer in two places, no agent over capacity, no screen
relayed before consent (or after stop), FIFO within a class, refused commands change nothing, nobody
waits in a line no one on shift can serve, and at the end every request is served, cancelled,
abandoned or unstaffed (callbacks excepted: they wait for an agent).

Liveness, checked after every tick: whenever a request waits and a free agent could serve it
(speaks its language, not cooling down from declining it), an offer was made within that tick.
"""

from __future__ import annotations

import json

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from assist.storage import entities
from signaling.domain import snapshot as state_snapshot
from signaling.domain.errors import DomainError
from signaling.domain.model import AgentProfile, Edition, Policy, Presence, RequestStatus, Role, SessionState
from signaling.domain.routing import cooling_down, on_shift, speaks
from tests.signaling.test_bad_input import snapshot

CUSTOMERS = [f"c{i}" for i in range(6)]
AGENTS = {
    "a0": AgentProfile("a0", "A0", "B0", frozenset({"zh", "en"}), frozenset({"elderly_care"})),
    "a1": AgentProfile("a1", "A1", "B1", frozenset({"zh"}), frozenset()),
    "a2": AgentProfile("a2", "A2", "B2", frozenset({"en"}), frozenset()),
}
CAPACITY = 2
TERMINAL = {"served", "cancelled", "abandoned", "unstaffed"}


def by_id(document: dict) -> dict:
    """A state document with its lists keyed by id (another node may hold them in another order)."""
    keyed = {"requests": "request_id", "offers": "offer_id", "sessions": "session_id", "wrapping": "session_id"}
    out = dict(document)
    for name, key in keyed.items():
        out[name] = {item[key]: item for item in document[name]}
    out["agents"] = {item["profile"]["agent_id"]: item for item in document["agents"]}
    return out


class CallCenterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 1_000.0
        # Tracked, as the Redis store runs it: a second center (another node) is fed only the
        # entities each command touched, and must always agree with this one.
        self.touched: set[str] = set()
        policy = Policy(offer_timeout_s=15, grace_s=30, queue_cap=5, capacity=CAPACITY, reoffer_after_s=20, max_wait_s=60)
        self.center = entities.build({}, policy, None, self.touched)
        self.follower = entities.build({}, policy, None, set())
        # What the store holds of each entity, and the deadlines it keeps (entities.due): a
        # tick with none due must change nothing, or a clock that runs only then would miss it.
        self.stored: dict[str, object] = {}
        self.due: dict[str, float] = {}
        self.changed = False
        self.status: dict[str, str] = {}  # request id → last recorded status (the durable record)
        self.sharing: dict[str, bool] = {}  # session id → consented and not stopped, as seen from outside
        self.connected_customers: set[str] = set(CUSTOMERS)
        for agent, profile in AGENTS.items():  # start on shift, so interesting states come soon
            self.run(self.center.user_connected, agent, Role.AGENT, self.now, profile)
            if agent != "a2":
                self.run(self.center.set_presence, agent, Presence.AVAILABLE, self.now)

    # ---------------------------------------------------------------- helpers
    def run(self, command, *args, tick_at=None):
        """Run a command; a refusal must leave the state exactly as it was."""
        before = snapshot(self.center)
        self.touched.clear()
        try:
            result = command(*args)
        except DomainError as exc:
            self.follow(tick_at)
            if exc.effects is None:
                assert snapshot(self.center) == before, f"refused {command.__name__} changed state"
            else:
                self.absorb(exc.effects)
            return None
        self.follow(tick_at)
        effects = result[1] if isinstance(result, tuple) else result
        self.absorb(effects)
        return result

    def follow(self, tick_at: float | None = None) -> None:
        """What the Redis store commits: the entities the command touched (and `meta`) that
        changed, and their next deadlines; after a tick at `tick_at`, also those of every
        entity that was due by then, and none due by then any more (RedisLiveStore._dues).
        `self.changed` says whether any entity was written."""
        self.changed = False
        self.center.settle()  # as the stores do after every command
        recompute = {key for key, at in self.due.items() if at <= tick_at} if tick_at is not None else set()
        for key in {*self.touched, entities.META}:
            data = json.loads(json.dumps(entities.encode(self.center, key)))
            if data == self.stored.get(key):
                continue
            self.changed = True
            recompute.add(key)
            entities.apply(self.follower, key, data)
            if data is None:
                self.stored.pop(key, None)
            else:
                self.stored[key] = data
        for key in recompute:
            due = entities.due(self.center, key, tick_at)
            if due is None or (tick_at is not None and due <= tick_at):
                self.due.pop(key, None)
            else:
                self.due[key] = due
        self.follower.settle()
        self.touched.clear()

    def absorb(self, effects) -> None:
        for update in effects.records:
            if "status" in update.fields:
                self.status[update.request_id] = update.fields["status"]
        for notice in effects.notices:
            if notice.event == "offer" and notice.data["kind"] == "help":
                self.check_fifo(notice.to.removeprefix("user:"), notice.data["request"]["request_id"])
            if notice.event == "session_ended":
                self.sharing.pop(notice.data["session_id"], None)

    def check_fifo(self, agent_id: str, request_id: str) -> None:
        offered = self.center.requests[request_id]
        for waiting_id in self.center.queue:
            waiting = self.center.requests[waiting_id]
            if waiting.queue_class == offered.queue_class and waiting.sort_key < offered.sort_key:
                assert agent_id in waiting.declined_by, "skipped an earlier request of the same class"

    def session_of(self, customer: str):
        kind, ident = self.center.by_customer.get(customer, ("", ""))
        return self.center.sessions.get(ident) if kind == "session" else None

    # ---------------------------------------------------------------- rules
    @rule(agent=st.sampled_from(sorted(AGENTS)))
    def agent_connects(self, agent):
        self.run(self.center.user_connected, agent, Role.AGENT, self.now, AGENTS[agent])

    @rule(agent=st.sampled_from(sorted(AGENTS)))
    def agent_drops(self, agent):
        if agent in self.center.agents and self.center.agents[agent].connected:
            self.run(self.center.user_disconnected, agent, Role.AGENT, self.now)

    @rule(agent=st.sampled_from(sorted(AGENTS)), presence=st.sampled_from(list(Presence)))
    def set_presence(self, agent, presence):
        self.run(self.center.set_presence, agent, presence, self.now)

    @rule(customer=st.sampled_from(CUSTOMERS), edition=st.sampled_from(list(Edition)), language=st.sampled_from(["zh", "en"]))
    def request_help(self, customer, edition, language):
        if customer not in self.connected_customers:
            return  # requests arrive on a socket: a customer without one cannot send any
        self.run(self.center.request_help, customer, customer, "transfer", edition, language, "/", self.now)

    @rule(customer=st.sampled_from(CUSTOMERS), edition=st.sampled_from(list(Edition)), language=st.sampled_from(["zh", "en"]))
    def request_callback(self, customer, edition, language):
        if customer in self.connected_customers:
            self.run(self.center.request_callback, customer, customer, "transfer", edition, language, "/", self.now)

    @rule(customer=st.sampled_from(CUSTOMERS), foreign=st.booleans())
    def cancel(self, customer, foreign):
        mine = [r for r in self.center.requests.values() if r.customer_id == customer]
        others = [r for r in self.center.requests.values() if r.customer_id != customer]
        target = (others if foreign else mine) or [None]
        request_id = target[0].request_id if target[0] else "r-unknown"
        self.run(self.center.cancel_request, customer, request_id, self.now)

    @rule(customer=st.sampled_from(CUSTOMERS))
    def customer_drops(self, customer):
        if customer in self.connected_customers:
            self.connected_customers.discard(customer)
            self.run(self.center.user_disconnected, customer, Role.CUSTOMER, self.now)

    @rule(customer=st.sampled_from(CUSTOMERS))
    def customer_returns(self, customer):
        if customer not in self.connected_customers:
            self.connected_customers.add(customer)
            self.run(self.center.user_connected, customer, Role.CUSTOMER, self.now)

    def pick_offer(self, index: int, by_owner: bool) -> tuple[str, str]:
        """An existing offer (most of the time by its own agent, sometimes by an intruder)."""
        offers = sorted(self.center.offers)
        if not offers:
            return "a0", "o-unknown"
        offer = self.center.offers[offers[index % len(offers)]]
        agent = offer.agent_id if by_owner else next(a for a in sorted(AGENTS) if a != offer.agent_id)
        return agent, offer.offer_id

    @rule(index=st.integers(0, 3), by_owner=st.booleans() | st.just(True))
    def accept(self, index, by_owner):
        self.run(self.center.accept_offer, *self.pick_offer(index, by_owner), self.now)

    @rule(index=st.integers(0, 3), by_owner=st.booleans() | st.just(True))
    def decline(self, index, by_owner):
        self.run(self.center.decline_offer, *self.pick_offer(index, by_owner), self.now)

    @rule(index=st.integers(0, 3), consent=st.booleans())
    def serve_next(self, index, consent):
        """The common path in one step: an agent takes an offer and the customer agrees."""
        agent, offer_id = self.pick_offer(index, True)
        offer = self.center.offers.get(offer_id)
        customer = self.center.requests[offer.request_id].customer_id if offer and offer.request_id else None
        self.run(self.center.accept_offer, agent, offer_id, self.now)
        if customer and consent and self.session_of(customer):
            self.consent(customer, True)

    @rule(index=st.integers(0, 5), accept=st.booleans() | st.just(True))
    def consent_in_session(self, index, accept):
        in_session = sorted(s.customer_id for s in self.center.sessions.values())
        if in_session:
            self.consent(in_session[index % len(in_session)], accept)

    @rule(customer=st.sampled_from(CUSTOMERS), accept=st.booleans())
    def consent(self, customer, accept):
        session = self.session_of(customer)
        sid = session.session_id if session else "s-unknown"
        if self.run(self.center.consent, customer, sid, accept, self.now) is not None and accept:
            self.sharing[sid] = True

    @rule(index=st.integers(0, 5), by_owner=st.booleans() | st.just(True))
    def ask_to_share(self, index, by_owner):
        sessions = sorted(self.center.sessions.values(), key=lambda s: s.session_id)
        if sessions:
            session = sessions[index % len(sessions)]
            agent = session.agent_id if by_owner else next(a for a in sorted(AGENTS) if a != session.agent_id)
            self.run(self.center.ask_to_share, agent, session.session_id, self.now)

    @rule(customer=st.sampled_from(CUSTOMERS))
    def stop_sharing(self, customer):
        session = self.session_of(customer)
        sid = session.session_id if session else "s-unknown"
        if self.run(self.center.stop_sharing, customer, sid, self.now) is not None:
            self.sharing[sid] = False

    @rule(customer=st.sampled_from(CUSTOMERS), by_agent=st.booleans())
    def end(self, customer, by_agent):
        session = self.session_of(customer)
        if session is None:
            self.run(self.center.end_session, customer, Role.CUSTOMER, "s-unknown", self.now)
            return
        who, role = (session.agent_id, Role.AGENT) if by_agent else (customer, Role.CUSTOMER)
        self.run(self.center.end_session, who, role, session.session_id, self.now)

    @rule(index=st.integers(0, 3), rating=st.sampled_from(["satisfied", "bogus"]), foreign=st.booleans())
    def rate(self, index, rating, foreign):
        ended = sorted(self.center.rateable.items())
        sid, (customer, _, _) = ended[index % len(ended)] if ended else ("s-unknown", ("c0", "", 0.0))
        who = next(c for c in CUSTOMERS if c != customer) if foreign else customer
        self.run(self.center.rate_session, who, sid, rating, "", self.now)

    @rule(index=st.integers(0, 3), outcome=st.sampled_from(["resolved", "needs_follow_up", "bogus"]))
    def wrap_up(self, index, outcome):
        pending = sorted((a.agent_id, sid) for a in self.center.agents.values() for sid in a.wrap_ups)
        agent, sid = pending[index % len(pending)] if pending else ("a0", "s-unknown")
        self.run(self.center.wrap_up, agent, sid, outcome, "", self.now)

    @rule(
        index=st.integers(0, 5),
        stream=st.sampled_from(["mirror", "annotation", "rtc"]),
        from_agent=st.booleans(),
        seq=st.integers(min_value=1, max_value=6),
    )
    def relay_in_session(self, index, stream, from_agent, seq):
        in_session = sorted(s.customer_id for s in self.center.sessions.values())
        if in_session:
            self.relay(in_session[index % len(in_session)], stream, from_agent, seq)

    @rule(
        customer=st.sampled_from(CUSTOMERS),
        stream=st.sampled_from(["mirror", "annotation", "rtc"]),
        from_agent=st.booleans(),
        seq=st.integers(min_value=1, max_value=6),
    )
    def relay(self, customer, stream, from_agent, seq):
        session = self.session_of(customer)
        if session is None:
            return
        sender, role = (session.agent_id, Role.AGENT) if from_agent else (customer, Role.CUSTOMER)
        before = snapshot(self.center)
        try:
            self.center.relay(sender, role, session.session_id, stream, seq)
        except DomainError:
            assert snapshot(self.center) == before
            return
        if stream == "rtc":  # the call flows for the whole session, consent or not
            return
        assert self.sharing.get(session.session_id), "relayed the screen without consent or after stop"
        assert session.state is SessionState.SHARING and session.consent_at is not None

    @rule(index=st.integers(0, 5), to=st.sampled_from(sorted(AGENTS)), by_owner=st.booleans() | st.just(True))
    def transfer(self, index, to, by_owner):
        sessions = sorted(self.center.sessions.values(), key=lambda s: s.session_id)
        if not sessions:
            return
        session = sessions[index % len(sessions)]
        agent = session.agent_id if by_owner else next(a for a in sorted(AGENTS) if a != session.agent_id)
        self.run(self.center.transfer, agent, session.session_id, to, self.now)

    @rule(seconds=st.sampled_from([1, 1, 5, 16, 21, 31]))
    def time_passes(self, seconds):
        self.now += seconds
        quiet = all(at > self.now for at in self.due.values())
        result = self.run(self.center.tick, self.now, tick_at=self.now)
        if quiet:
            assert not self.changed, "the tick changed the state with no deadline due"
            assert not result.notices and not result.records, "the tick had effects with no deadline due"
        self.check_liveness()

    def check_liveness(self) -> None:
        """After a tick no request waits while a free agent could take it, and nobody is still
        reconnecting whose grace window ran out."""
        c = self.center
        late = [u for u, since in c.dropped_at.items() if self.now - since >= c.policy.grace_s]
        assert not late, f"{late} are past their grace window and still reconnecting"
        rung_out = [o.offer_id for o in c.offers.values() if self.now >= o.expires_at]
        assert not rung_out, f"{rung_out} rang out and still ring"
        free = [a for a in c.agents.values() if a.can_take_offer(c.policy.capacity)]
        for request_id in c.queue:
            request = c.requests[request_id]
            idle = [
                a.agent_id
                for a in free
                if speaks(a, request) and not cooling_down(a, request, self.now, c.policy.reoffer_after_s)
            ]
            assert not idle, f"{request_id} waits while {idle} could take it"

    # ---------------------------------------------------------------- invariants
    @invariant()
    def nobody_in_two_places(self):
        c = self.center
        places = [r.customer_id for r in c.requests.values()] + [s.customer_id for s in c.sessions.values()]
        assert len(places) == len(set(places))
        for customer, (kind, ident) in c.by_customer.items():
            owner = c.requests[ident] if kind == "request" else c.sessions[ident]
            assert owner.customer_id == customer
        assert len(c.by_customer) == len(places)

    @invariant()
    def agents_within_capacity(self):
        c = self.center
        for agent in c.agents.values():
            assert len(agent.sessions) <= CAPACITY
            if agent.offer_id:
                assert c.offers[agent.offer_id].agent_id == agent.agent_id
        for session in c.sessions.values():
            assert session.session_id in c.agents[session.agent_id].sessions
        assert sum(1 for a in c.agents.values() if a.offer_id) == len(c.offers)

    @invariant()
    def queue_matches_requests(self):
        c = self.center
        waiting = {r.request_id for r in c.requests.values() if r.status is RequestStatus.WAITING}
        assert set(c.queue) == waiting and len(c.queue) == len(waiting)
        for request in c.requests.values():
            if request.status is RequestStatus.OFFERED:
                assert c.offers[request.offer_id].request_id == request.request_id

    @invariant()
    def indexes_agree_with_a_full_scan(self):
        """What the line keeps so that no command walks it (ranks, per-line counts and oldest,
        the long-wait order, sockets per node) says what a walk over everything would."""
        c = self.center
        for request_id in c.queue:
            request = c.requests[request_id]
            same = sorted(
                r.sort_key for r in c.requests.values() if r.language == request.language and r.status is RequestStatus.WAITING
            )
            assert c.queue.position(request) == same.index(request.sort_key) + 1
        lines: dict[str, list[float]] = {}
        for request in c.requests.values():
            lines.setdefault(request.line, []).append(request.created_at)
        assert {line: len(at) for line, at in lines.items()} == {line: len(v) for line, v in c.requests.by_line.items()}
        assert all(c.requests.oldest(line) == min(at) for line, at in lines.items())
        assert sum(c.requests.by_class.values()) == len(c.requests)
        pending = {request_id for _, request_id in c.arrival_order}
        assert all(r.long_wait or r.request_id in pending for r in c.requests.values())
        drops, ringing = set(c.drop_order), set(c.offer_order)  # what the clock will pop
        assert all((since, u) in drops for u, since in c.dropped_at.items())
        assert all((o.expires_at, o.offer_id) in ringing for o in c.offers.values())
        nodes: dict[str, int] = {}
        for online in c.online.values():
            for node, count in online.sockets.items():
                nodes[node] = nodes.get(node, 0) + (count > 0)
        assert c.node_users == {node: n for node, n in nodes.items() if n}
        # The agents' index (who is free, staffed, on shift), in this center and in the one
        # fed only the changes: as a scan of every agent says.
        for center in (c, self.follower):
            center.agents.check()
        for language in {lang for a in c.agents.values() for lang in a.profile.languages} | {"xx"}:
            scan = any(language in a.profile.languages and on_shift(a, a.agent_id in c.dropped_at) for a in c.agents.values())
            assert c.on_shift_for(language) == scan, language
        self.touched.clear()  # what the check itself read

    @invariant()
    def nobody_waits_for_no_one(self):
        """A request (not a callback) waits only while someone who speaks its language is on shift."""
        c = self.center
        for request in c.requests.values():
            assert request.callback or c.on_shift_for(request.language), request.request_id

    @invariant()
    def a_node_fed_only_the_changes_agrees(self):
        """Every change a command made is in an entity it touched (else another node would miss it)."""
        assert by_id(state_snapshot.dump(self.follower)) == by_id(state_snapshot.dump(self.center))
        assert list(self.follower.queue) == list(self.center.queue)
        self.touched.clear()  # what the check itself read

    @invariant()
    def state_survives_the_shared_store(self):
        """What Redis keeps (JSON) is the whole state: a round trip changes nothing."""
        document = json.loads(json.dumps(state_snapshot.dump(self.center)))
        assert state_snapshot.dump(state_snapshot.load(document, self.center.policy)) == document

    @rule()
    def another_node_takes_over(self):
        """The next commands run on a copy decoded from the shared document, as on another node
        (relay counters live beside the document there, so they carry over)."""
        seqs = {sid: s.last_seq for sid, s in self.center.sessions.items()}
        items = json.loads(json.dumps({key: entities.encode(self.center, key) for key in entities.all_keys(self.center)}))
        self.center = entities.build(items, self.center.policy, self.center.new_id, self.touched)
        for sid, last_seq in seqs.items():
            self.center.sessions[sid].last_seq = last_seq

    @invariant()
    def every_request_is_live_or_finished(self):
        for request_id, status in self.status.items():
            assert request_id in self.center.requests or status in TERMINAL | {"rejected"}, (request_id, status)

    def teardown(self):
        # Everyone leaves; after the grace window nothing may be left open.
        for customer in CUSTOMERS:
            self.customer_drops(customer)
        for agent in sorted(AGENTS):
            self.agent_drops(agent)
        self.now += 3600
        self.run(self.center.tick, self.now, tick_at=self.now)
        left = self.center.requests
        assert all(r.callback and r.status is RequestStatus.WAITING for r in left.values()), left
        assert not self.center.sessions and not self.center.offers
        assert all(status in TERMINAL | {"rejected"} or request_id in left for request_id, status in self.status.items()), (
            self.status
        )


CallCenterMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_call_center = CallCenterMachine.TestCase
