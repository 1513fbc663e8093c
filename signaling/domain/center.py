"""The call center: every command a customer, agent, supervisor or the clock can give.

Pure and synchronous: a command takes the current time (and nothing else from the outside
world), changes this state and returns Effects (messages to send, record lines to write).
Errors raise DomainError and leave the state as it was: every check comes before any change.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from ..outbound import (
    AgentChanged,
    AgentStateChanged,
    CustomerStepReached,
    HelpOffer,
    OfferRevoked,
    PeerStatus,
    QueueRinging,
    RequestEnded,
    SessionEnded,
    SessionStarted,
    SessionStateChanged,
    SessionTransferred,
    ShareDeclined,
    ShareRequested,
    SupervisorInvited,
    SupervisorJoined,
    SupervisorLeft,
    TransferFailed,
    TransferOffer,
    Whispered,
)
from . import queries
from . import session as session_machine
from .errors import DomainError, forbidden, invalid_state, not_found
from .model import (
    OUTCOMES,
    RATINGS,
    Agent,
    AgentProfile,
    CustomerStep,
    Edition,
    EndReason,
    HelpRequest,
    Offer,
    Online,
    PartyStatus,
    Policy,
    Presence,
    ReleaseReason,
    RequestEndReason,
    RequestStatus,
    Role,
    Session,
    SessionState,
    SupervisorMode,
    is_guest,
)
from .notices import SUPERVISORS, Effects, RecordUpdate, user
from .queue import LiveRequests, WaitingQueue
from .roster import Roster
from .stats import ContactStats
from .views import (
    RequestContext,
    SessionView,
)

STREAMS = {
    # stream → (roles that may send it, who receives it)
    "mirror": ({Role.CUSTOMER}, "agent+supervisors"),
    "annotation": ({Role.AGENT}, "customer+supervisors"),
    "rtc": ({Role.CUSTOMER, Role.AGENT}, "other_party"),
    # The agent's console forwards the call's audio to a monitoring supervisor (WebRTC).
    "monitor": ({Role.AGENT, Role.SUPERVISOR}, "agent<->supervisor"),
}


class Route(NamedTuple):
    """Where a relayed message goes, and whose session it belongs to (for the recording)."""

    recipients: list[str]
    request_id: str
    customer_id: str
    agent_id: str


def _hearing(session: Session, mode: str | None) -> set[str]:
    """Who is told of (and hears) a supervisor in this mode: the agent hears a coach (their
    console plays the supervisor's voice); a barge is heard and announced to both parties."""
    if mode == "barge":
        return {session.customer_id, session.agent_id}
    return {session.agent_id} if mode == "whisper" else set()


def _counter_ids() -> Callable[[str], str]:
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}{next(counter)}"


def relay_key(stream: str, role: Role, sender: str) -> str:
    return f"{stream}:{role.value}:{sender}"


def seq_is_new(last: int, seq: int) -> bool:
    return seq > last


def out_of_sequence() -> DomainError:
    return DomainError("out_of_sequence", "That message was already received (sequence too low).")


def unique_ids(prefix: str) -> str:
    """Ids that stay unique across restarts and across nodes (records are keyed by them)."""
    return f"{prefix}{secrets.token_hex(8)}"


def _random_code() -> str:
    return f"{secrets.randbelow(10_000):04d}"


class CallCenter:
    def __init__(
        self,
        policy: Policy | None = None,
        new_id: Callable[[str], str] | None = None,
        new_code: Callable[[], str] | None = None,
    ) -> None:
        self.policy = policy or Policy()
        self.new_id = new_id or _counter_ids()
        self.new_code = new_code or _random_code
        self.requests = LiveRequests()  # live requests: waiting or offered
        self.queue = WaitingQueue()  # the waiting ones, in service order
        self.agents = Roster(self.policy.capacity)  # with who is free, staffed, on shift at hand
        self.offers: dict[str, Offer] = {}
        # (expires at, offer) for every offer, earliest first: the clock pops the offers that
        # rang out instead of walking every ringing one. Answered offers are skipped when reached.
        self.offer_order: list[tuple[float, str]] = []
        self.sessions: dict[str, Session] = {}  # live sessions only
        self.wrapping: dict[str, Session] = {}  # ended sessions whose agent is still wrapping up
        self.by_customer: dict[str, tuple[str, str]] = {}  # customer → ("request"|"session", id)
        self.dropped_at: dict[str, float] = {}  # user → when their last socket went away
        # (since, user) for every drop, earliest first: the clock pops only the grace windows
        # that ran out, instead of walking everyone reconnecting (10,000 after a node loss).
        # An entry whose user came back, or dropped again later, is skipped when reached.
        self.drop_order: list[tuple[float, str]] = []
        self.stats = ContactStats(self.policy.stats_window_s, self.policy.service_level_s)
        self.talk_times: dict[str, tuple[float, float]] = {}  # ended session → (talk s, ended at)
        self.online: dict[str, Online] = {}  # signed-in users' sockets, by node instance
        self.node_users: dict[str, int] = {}  # node → users with a socket on it (kept with `online`)
        self.arrivals = 0  # the last arrival number given (ties in the waiting line go by it)
        self.rateable: dict[str, tuple[str, str, float]] = {}  # ended session → (customer, request, ended at)
        self.guests_asked: dict[str, float] = {}  # guest → when they made their one request
        # Requests in order of arrival, for the long-wait deadline (the same for all, so the
        # first due is always the oldest): popped as they fall due, so a tick does no work for
        # the others. Entries of requests already gone are skipped when reached.
        self.arrival_order: deque[tuple[float, str]] = deque()

    # ------------------------------------------------------------------ sockets
    def socket_opened(self, user_id: str, role: Role, node: str, now: float, profile: AgentProfile | None = None) -> Effects:
        """One more socket of this user on `node`; the first one anywhere is a (re)connect."""
        online = self.online.setdefault(user_id, Online(role))
        first = online.total == 0
        if not online.sockets.get(node):
            self.node_users[node] = self.node_users.get(node, 0) + 1
        online.sockets[node] = online.sockets.get(node, 0) + 1
        if first:
            return self.user_connected(user_id, role, now, profile)
        if role is Role.AGENT and user_id in self.agents:  # a second tab may carry a fresher profile
            self.agents[user_id].profile = profile or self.agents[user_id].profile
        return Effects()

    def socket_closed(self, user_id: str, node: str, now: float) -> Effects:
        """One socket fewer; the last one anywhere starts the user's grace window."""
        online = self.online.get(user_id)
        if online is None or online.sockets.get(node, 0) <= 0:
            return Effects()
        online.sockets[node] -= 1
        if online.sockets[node] == 0:
            del online.sockets[node]
            self._node_user_gone(node)
        if online.total:
            return Effects()
        del self.online[user_id]
        return self.user_disconnected(user_id, online.role, now)

    def nodes_in_use(self) -> set[str]:
        """The nodes holding someone's socket: O(nodes), read by the clock every tick."""
        return set(self.node_users)

    def _node_user_gone(self, node: str) -> None:
        self.node_users[node] -= 1
        if self.node_users[node] <= 0:
            del self.node_users[node]

    def nodes_lost(self, nodes: set[str], now: float) -> Effects:
        """Nodes that stopped answering (killed, cut off): their sockets are gone. Users with no
        socket left elsewhere get their grace window, as if each had disconnected; those who
        already reconnected through another node carry on untouched."""
        eff = Effects()
        for user_id, online in list(self.online.items()):
            if not nodes & online.sockets.keys():
                continue
            for node in nodes:
                if online.sockets.pop(node, None):
                    self._node_user_gone(node)
            if not online.total:
                del self.online[user_id]
                more = self.user_disconnected(user_id, online.role, now)
                eff.notices += more.notices
                eff.records += more.records
                eff.queue_changed |= more.queue_changed
        return eff

    # ------------------------------------------------------------------ presence
    def user_connected(self, user_id: str, role: Role, now: float, profile: AgentProfile | None = None) -> Effects:
        eff = Effects()
        was_dropped = self.dropped_at.pop(user_id, None) is not None
        if role is Role.AGENT:
            assert profile is not None, "agents connect with their profile"
            agent = self.agents.get(user_id)
            if agent is None:
                agent = self.agents[user_id] = Agent(profile, idle_since=now)
            agent.profile = profile
            agent.connected = True
            for sid in agent.sessions:
                self._tell_party_status(self.sessions[sid], Role.AGENT, "back", eff)
            eff.notify(user(user_id), AgentStateChanged(state=agent.state()))
            eff.queue_changed = True
            self._dispatch(now, eff)
        elif role is Role.CUSTOMER and was_dropped:
            kind, ident = self.by_customer.get(user_id, ("", ""))
            if kind == "session":
                self._tell_party_status(self.sessions[ident], Role.CUSTOMER, "back", eff)
        return eff

    def user_disconnected(self, user_id: str, role: Role, now: float) -> Effects:
        """The user's last socket closed: start the grace window, tell the other party."""
        eff = Effects()
        if role is Role.AGENT:
            agent = self.agents.get(user_id)
            if agent is None:
                return eff
            agent.connected = False
            if agent.offer_id:  # nobody is there to answer it: pass it on at once
                self._release_offer(self.offers[agent.offer_id], now, eff, reason="agent_left")
            self._note_drop(user_id, now)
            for sid in agent.sessions:
                self._tell_party_status(self.sessions[sid], Role.AGENT, "reconnecting", eff)
            eff.queue_changed = True
            self._dispatch(now, eff)
        elif role is Role.CUSTOMER and user_id in self.by_customer:
            self._note_drop(user_id, now)
            kind, ident = self.by_customer[user_id]
            if kind == "session":
                self._tell_party_status(self.sessions[ident], Role.CUSTOMER, "reconnecting", eff)
        return eff

    def _note_drop(self, user_id: str, since: float) -> None:
        """The user's grace window runs from `since` (entities.apply keeps a copy's order too)."""
        self.dropped_at[user_id] = since
        heapq.heappush(self.drop_order, (since, user_id))

    def _tell_party_status(self, session: Session, who: Role, status: PartyStatus, eff: Effects) -> None:
        other = session.agent_id if who is Role.CUSTOMER else session.customer_id
        for to in [other, *session.supervisors]:
            eff.notify(user(to), PeerStatus(session_id=session.session_id, role=who, status=status))
        eff.record(session.request_id, timeline=f"{who.value}_{status}")

    # ------------------------------------------------------------------ customers
    def request_help(
        self,
        customer_id: str,
        customer_name: str,
        topic: str,
        edition: Edition,
        language: str,
        page: str,
        now: float,
        transcript: tuple[str, ...] = (),
    ) -> tuple[dict, Effects]:
        eff = Effects()
        held = self.by_customer.get(customer_id)
        if held and held[0] == "session":
            raise DomainError("already_in_session", "You are already talking with an agent.")
        if held:  # a second tap on one-tap help: the same request, not a second place in line
            return queries.customer_view(self, customer_id, now), eff
        if not self.on_shift_for(language):
            # Nobody could serve it: say so now (hotline, callback) rather than keep a place in a
            # line that does not move.
            eff.record(
                self.new_id("r"),
                timeline="unstaffed",
                at=now,
                customer_id=customer_id,
                topic=topic,
                edition=edition.value,
                language=language,
                page=page,
                requested_at=now,
                ended_at=now,
                status=RequestStatus.UNSTAFFED.value,
                end_reason="unstaffed",
            )
            return {"unstaffed": {"language": language}}, eff
        return self._new_request(
            customer_id, customer_name, topic, edition, language, page, now, transcript, callback=False, eff=eff
        )

    def request_callback(
        self,
        customer_id: str,
        customer_name: str,
        topic: str,
        edition: Edition,
        language: str,
        page: str,
        now: float,
        transcript: tuple[str, ...] = (),
    ) -> tuple[dict, Effects]:
        """Ask to be phoned back: the waiting request becomes a callback (keeping its place), or
        a new callback request joins the line. Callbacks wait whoever is on shift and outlive
        the customer's connection; an agent takes one like any other request."""
        eff = Effects()
        held = self.by_customer.get(customer_id)
        if held and held[0] == "session":
            raise DomainError("already_in_session", "You are already talking with an agent.")
        if is_guest(customer_id):
            raise DomainError("guest_limit", "We cannot call back without an account: please call the hotline.")
        if held:
            request = self.requests[held[1]]
            if not request.callback:
                request.callback = True
                eff.record(request.request_id, timeline="callback_requested", at=now, callback=True)
                eff.queue_changed = True
            return queries.customer_view(self, customer_id, now), eff
        return self._new_request(
            customer_id, customer_name, topic, edition, language, page, now, transcript, callback=True, eff=eff
        )

    def _new_request(
        self,
        customer_id: str,
        customer_name: str,
        topic: str,
        edition: Edition,
        language: str,
        page: str,
        now: float,
        transcript: tuple[str, ...],
        callback: bool,
        eff: Effects,
    ) -> tuple[dict, Effects]:
        if is_guest(customer_id) and customer_id in self.guests_asked:
            raise DomainError("guest_limit", "Without signing in you can ask for help once; please sign in or call the hotline.")
        if len(self.requests) >= self.policy.queue_cap:
            rejected = self.new_id("r")
            eff.record(
                rejected,
                timeline="rejected_queue_full",
                at=now,
                customer_id=customer_id,
                topic=topic,
                edition=edition.value,
                language=language,
                page=page,
                requested_at=now,
                ended_at=now,
                status="rejected",
                end_reason="queue_full",
            )
            raise DomainError("queue_full", "All agents are busy right now. Please try again later.", eff)
        boost = self.policy.elderly_boost_s if edition is Edition.ELDERLY else 0.0
        self.arrivals += 1
        request = HelpRequest(
            self.new_id("r"),
            customer_id,
            customer_name,
            topic,
            edition,
            language,
            page,
            now,
            self.arrivals,
            boost,
            transcript,
            callback=callback,
        )
        self.requests[request.request_id] = request
        self.queue.add(request)
        self.arrival_order.append((now, request.request_id))
        self.by_customer[customer_id] = ("request", request.request_id)
        if is_guest(customer_id):
            self.guests_asked[customer_id] = now
        eff.record(
            request.request_id,
            timeline="callback_requested" if callback else "requested",
            at=now,
            customer_id=customer_id,
            topic=topic,
            edition=edition.value,
            language=language,
            page=page,
            requested_at=now,
            status=RequestStatus.WAITING.value,
            transcript="\n".join(transcript) or None,
            callback=callback,
        )
        eff.queue_changed = True
        self._dispatch(now, eff)
        return queries.customer_view(self, customer_id, now), eff

    def cancel_request(self, customer_id: str, request_id: str, now: float) -> Effects:
        request = self.requests.get(request_id)
        if request is None or request.customer_id != customer_id:
            raise not_found("help request")
        eff = Effects()
        self._close_request(request, RequestStatus.CANCELLED, "cancelled", now, eff)
        self._dispatch(now, eff)
        return eff

    def _close_request(
        self, request: HelpRequest, status: RequestStatus, reason: RequestEndReason, now: float, eff: Effects
    ) -> None:
        if request.offer_id:
            offer = self.offers.pop(request.offer_id)
            agent = self.agents[offer.agent_id]
            agent.offer_id = None
            eff.notify(user(agent.agent_id), OfferRevoked(offer_id=offer.offer_id, reason=reason))
            eff.notify(user(agent.agent_id), AgentStateChanged(state=agent.state()))
        else:
            self.queue.remove(request)
        request.status = status
        self.stats.record_abandoned(now, now - request.created_at, request.line)
        del self.requests[request.request_id]
        self.by_customer.pop(request.customer_id, None)
        self.dropped_at.pop(request.customer_id, None)
        eff.notify(user(request.customer_id), RequestEnded(request_id=request.request_id, reason=reason))
        eff.record(
            request.request_id,
            timeline=status.value,
            at=now,
            status=status.value,
            ended_at=now,
            end_reason=reason,
            wait_s=round(now - request.created_at, 3),
        )
        eff.queue_changed = True

    def consent(self, customer_id: str, session_id: str, accept: bool, now: float) -> Effects:
        session = self._session_of(customer_id, Role.CUSTOMER, session_id)
        eff = Effects()
        if not accept:  # not now: the call goes on, and the agent may ask again
            session.state = session_machine.next_state(session.state, "decline")
            for to in [session.agent_id, *session.supervisors]:
                eff.notify(user(to), ShareDeclined(session_id=session.session_id))
            eff.record(session.request_id, timeline="consent_declined", at=now)
            return eff
        session.state = session_machine.next_state(session.state, "consent")
        session.state_since = now
        first = session.consent_at is None
        session.consent_at = session.consent_at or now
        if first:
            eff.record(session.request_id, consent_at=now)
        eff.record(session.request_id, timeline="consent", at=now)
        self._tell_session_state(session, eff)
        return eff

    def customer_step(self, customer_id: str, session_id: str, step: CustomerStep, now: float) -> Effects:
        """The customer reached a step the agent must know of (never its details): today the
        scam warning on a transfer to a new payee during the session. It goes on the record."""
        session = self._session_of(customer_id, Role.CUSTOMER, session_id)
        eff = Effects()
        for to in [session.agent_id, *session.supervisors]:
            eff.notify(user(to), CustomerStepReached(session_id=session_id, step=step))
        eff.records.append(RecordUpdate(session.request_id, {f"{step}_at": now}, step, now, None))
        return eff

    def ask_to_share(self, agent_id: str, session_id: str, now: float) -> Effects:
        """The agent, on the call, asks the customer to share the screen (the consent dialog)."""
        session = self._session_of(agent_id, Role.AGENT, session_id)
        session.state = session_machine.next_state(session.state, "ask_to_share")
        eff = Effects()
        eff.notify(user(session.customer_id), ShareRequested(session_id=session_id))
        eff.record(session.request_id, timeline="share_requested", at=now)
        return eff

    def stop_sharing(self, customer_id: str, session_id: str, now: float) -> Effects:
        session = self._session_of(customer_id, Role.CUSTOMER, session_id)
        session.state = session_machine.next_state(session.state, "stop_sharing")
        session.state_since = now
        eff = Effects()
        eff.record(session.request_id, timeline="sharing_stopped", at=now)
        self._tell_session_state(session, eff)
        return eff

    def rate_session(self, customer_id: str, session_id: str, rating: str, comment: str, now: float) -> Effects:
        """The customer's word on a session that ended (once, within the rating window)."""
        customer, request_id, _ = self.rateable.get(session_id, ("", "", 0.0))
        if customer != customer_id:
            raise not_found("session to rate")
        if rating not in RATINGS:
            raise DomainError("bad_rating", f"Rating must be one of: {', '.join(RATINGS)}.")
        del self.rateable[session_id]
        eff = Effects()
        eff.record(request_id, timeline="rated", at=now, rating=rating, rating_comment=comment or None, detail={"rating": rating})
        return eff

    def _tell_session_state(self, session: Session, eff: Effects) -> None:
        for to in [session.customer_id, session.agent_id, *session.supervisors]:
            eff.notify(user(to), SessionStateChanged(session_id=session.session_id, state=session.state))

    # ------------------------------------------------------------------ agents
    def set_presence(self, agent_id: str, presence: Presence, now: float) -> Effects:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise not_found("agent")
        eff = Effects()
        if presence is not Presence.AVAILABLE and agent.offer_id:
            self._release_offer(self.offers[agent.offer_id], now, eff, reason="agent_away")
        if presence is Presence.AVAILABLE and agent.presence is not Presence.AVAILABLE:
            agent.idle_since = now
        agent.presence = presence
        eff.notify(user(agent_id), AgentStateChanged(state=agent.state()))
        eff.queue_changed = True
        self._dispatch(now, eff)
        self._close_unstaffed(now, eff)
        return eff

    def accept_offer(self, agent_id: str, offer_id: str, now: float, session_id: str | None = None) -> Effects:
        offer = self.offers.get(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise not_found("offer")
        if now >= offer.expires_at:
            eff = Effects()
            self._lapse(offer, now, eff)
            raise DomainError("offer_expired", "The offer expired before you accepted it.", eff)
        eff = Effects()
        del self.offers[offer_id]
        agent = self.agents[agent_id]
        agent.offer_id = None
        if offer.session_id:
            self._complete_transfer(offer, agent, now, eff)
        else:
            assert offer.request_id is not None  # an offer is of a request or of a session
            self._start_session(self.requests[offer.request_id], agent, session_id or self.new_id("s"), now, eff)
        eff.notify(user(agent_id), AgentStateChanged(state=agent.state()))
        eff.queue_changed = True
        return eff

    def decline_offer(self, agent_id: str, offer_id: str, now: float) -> Effects:
        offer = self.offers.get(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise not_found("offer")
        eff = Effects()
        self._release_offer(offer, now, eff, reason="declined")
        self._dispatch(now, eff)
        return eff

    def wrap_up(self, agent_id: str, session_id: str, outcome: str, notes: str, now: float) -> Effects:
        agent = self.agents.get(agent_id)
        if agent is None or session_id not in agent.wrap_ups:
            raise not_found("session awaiting wrap-up")
        if outcome not in OUTCOMES:
            raise DomainError("bad_outcome", f"Outcome must be one of: {', '.join(OUTCOMES)}.")
        eff = Effects()
        self._finish_wrap_up(agent, session_id, outcome, notes, now, eff)
        self._dispatch(now, eff)
        return eff

    def _finish_wrap_up(self, agent: Agent, session_id: str, outcome: str, notes: str, now: float, eff: Effects) -> None:
        request_id = agent.wrap_ups.pop(session_id)
        if session_id in self.wrapping and self.wrapping[session_id].agent_id == agent.agent_id:
            del self.wrapping[session_id]  # (a hand-over's first agent wraps up a session still live)
        talk = self.talk_times.pop(session_id, None)
        if talk is not None:  # the agent who ended it; a hand-over's first part is not a handle
            self.stats.record_handled(now, talk[0], now - talk[1])
            self._count_handled(agent, now, talk[0] + now - talk[1])
        agent.idle_since = now
        eff.record(request_id, timeline="wrap_up", at=now, outcome=outcome, notes=notes or None, wrapped_at=now)
        eff.notify(user(agent.agent_id), AgentStateChanged(state=agent.state()))
        eff.queue_changed = True

    def transfer_targets(self, agent_id: str, session_id: str) -> list[dict]:
        """The agents who could take this session now, for the agent to choose from."""
        session = self._session_of(agent_id, Role.AGENT, session_id)
        return [
            {"agent_id": a.agent_id, "name": a.profile.display_name, "badge": a.profile.badge}
            for a in sorted(self.agents.values(), key=lambda a: a.profile.display_name)
            if self._can_take_transfer(a, session)
        ]

    def _can_take_transfer(self, target: Agent, session: Session) -> bool:
        return (
            target.agent_id != session.agent_id
            and target.can_take_offer(self.policy.capacity)
            and session.language in target.profile.languages
        )

    def transfer(self, agent_id: str, session_id: str, to_agent: str, now: float) -> Effects:
        session = self._session_of(agent_id, Role.AGENT, session_id)
        if session.transfer_offer:
            raise invalid_state("A transfer of this session is already waiting for an answer.")
        target = self.agents.get(to_agent)
        if target is None or not self._can_take_transfer(target, session):
            raise DomainError("agent_unavailable", "That agent cannot take a transfer now.")
        eff = Effects()
        offer = Offer(self.new_id("o"), to_agent, now + self.policy.offer_timeout_s, session_id=session_id, from_agent=agent_id)
        self._add_offer(offer)
        target.offer_id = offer.offer_id
        session.transfer_offer = offer.offer_id
        eff.notify(user(to_agent), self.offer_message(offer, now))
        eff.notify(user(to_agent), AgentStateChanged(state=target.state()))
        eff.record(session.request_id, timeline="transfer_offered", at=now, detail={"from": agent_id, "to": to_agent})
        return eff

    def invite_supervisor(self, agent_id: str, session_id: str, note: str, now: float) -> Effects:
        session = self._session_of(agent_id, Role.AGENT, session_id)
        eff = Effects()
        eff.notify(
            SUPERVISORS,
            SupervisorInvited(
                session_id=session_id, agent=self.agents[agent_id].profile.display_name, note=note, request=session.context
            ),
        )
        eff.record(session.request_id, timeline="supervisor_invited", at=now)
        return eff

    # ------------------------------------------------------------------ supervisors
    def supervisor_join(
        self, supervisor_id: str, supervisor_name: str, session_id: str, mode: SupervisorMode, now: float
    ) -> tuple[SessionView, Effects]:
        session = self.sessions.get(session_id)
        if session is None:
            raise not_found("session")
        eff = Effects()
        before = session.supervisors.get(supervisor_id)
        session.supervisors[supervisor_id] = mode
        for to in _hearing(session, mode):
            eff.notify(
                user(to), SupervisorJoined(session_id=session_id, name=supervisor_name, supervisor=supervisor_id, mode=mode)
            )
        for to in _hearing(session, before) - _hearing(session, mode):  # a step back down
            eff.notify(user(to), SupervisorLeft(session_id=session_id, supervisor=supervisor_id))
        eff.record(session.request_id, timeline=f"supervisor_{mode}", at=now, detail={"supervisor": supervisor_id})
        return queries.session_view(self, session, Role.SUPERVISOR), eff

    def supervisor_leave(self, supervisor_id: str, session_id: str, now: float) -> Effects:
        session = self.sessions.get(session_id)
        if session is None or supervisor_id not in session.supervisors:
            raise not_found("session")
        eff = Effects()
        mode = session.supervisors.pop(supervisor_id)
        for to in _hearing(session, mode):
            eff.notify(user(to), SupervisorLeft(session_id=session_id, supervisor=supervisor_id))
        eff.record(session.request_id, timeline="supervisor_left", at=now)
        return eff

    def may_record_audio(self, agent_id: str, session_id: str, now: float) -> Effects:
        """The session's agent may send its call audio to the recorder once the customer has
        agreed (the consent text names the recording), while the session lasts."""
        session = self._session_of(agent_id, Role.AGENT, session_id)
        if session.consent_at is None:
            raise DomainError("not_consented", "The call is recorded only after the customer agrees.")
        eff = Effects()
        eff.record(session.request_id, timeline="audio_recording", at=now)
        return eff

    def reassign(self, supervisor_id: str, request_id: str, to_agent: str, now: float) -> Effects:
        """A supervisor hands a waiting (or ringing) customer to a named agent who is free and
        speaks the customer's language; a ringing offer elsewhere is withdrawn first."""
        request = self.requests.get(request_id)
        if request is None:
            raise not_found("waiting request")
        target = self.agents.get(to_agent)
        if target is None or not target.can_take_offer(self.policy.capacity) or request.language not in target.profile.languages:
            raise DomainError("agent_unavailable", "That agent cannot take this customer now.")
        eff = Effects()
        if request.offer_id:
            self._release_offer(self.offers[request.offer_id], now, eff, reason="reassigned")
        self._offer(request, target, now, eff)
        eff.record(request_id, timeline="reassigned", at=now, detail={"supervisor": supervisor_id, "to": to_agent})
        self._dispatch(now, eff)
        return eff

    # ------------------------------------------------------------------ both parties
    def end_session(self, user_id: str, role: Role, session_id: str, now: float) -> Effects:
        if role is Role.SUPERVISOR:
            session = self.sessions.get(session_id)
            if session is None or session.supervisors.get(user_id) != "barge":
                raise not_found("session")
            reason = EndReason.SUPERVISOR_ENDED
        else:
            session = self._session_of(user_id, role, session_id)
            reason = EndReason.CUSTOMER_ENDED if role is Role.CUSTOMER else EndReason.AGENT_ENDED
        eff = Effects()
        self._end_session(session, reason, now, eff)
        return eff

    def relay(self, sender: str, role: Role, session_id: str, stream: str, seq: int, target: str | None = None) -> Route:
        """Who receives this mirror / annotation / WebRTC message; raises if it must not flow."""
        route = self.route(sender, role, session_id, stream, target)
        self.take_seq(session_id, relay_key(stream, role, sender), seq)
        return route

    def take_seq(self, session_id: str, key: str, seq: int) -> None:
        """Replay protection: each sender's stream numbers its messages upwards."""
        session = self.sessions[session_id]
        if not seq_is_new(session.last_seq.get(key, 0), seq):
            raise out_of_sequence()
        session.last_seq[key] = seq

    def route(self, sender: str, role: Role, session_id: str, stream: str, target: str | None = None) -> Route:
        """The relay's checks and recipients, without its sequence number (a shared store keeps
        sequence numbers apart from the state, so a relay never rewrites the whole state)."""
        if stream not in STREAMS:
            raise DomainError("bad_payload", "Unknown relay stream.")
        session = self.sessions.get(session_id)
        parties = (session.customer_id, session.agent_id) if session else ()
        if session is None or (sender not in parties and not (role is Role.SUPERVISOR and sender in session.supervisors)):
            raise not_found("session")
        senders, audience = STREAMS[stream]
        if role not in senders:
            raise forbidden(f"send {stream} messages")
        if audience == "agent<->supervisor" and role is Role.AGENT and target not in session.supervisors:
            raise not_found("supervisor in this session")
        if session.state not in session_machine.RELAY_STATES[stream]:
            raise DomainError("not_sharing", "The screen is relayed only while the customer shares it.")
        if audience == "agent+supervisors":
            recipients = [session.agent_id, *session.supervisors]
        elif audience == "customer+supervisors":
            recipients = [session.customer_id, *session.supervisors]
        elif audience == "agent<->supervisor":
            recipients = [target] if role is Role.AGENT and target else [session.agent_id]
        else:
            recipients = [session.agent_id if role is Role.CUSTOMER else session.customer_id]
        return Route(recipients, session.request_id, session.customer_id, session.agent_id)

    def whisper(self, supervisor_id: str, supervisor_name: str, session_id: str, text: str, now: float) -> Effects:
        """A private line from a supervisor in the session to its agent; the customer never sees it."""
        session = self.sessions.get(session_id)
        if session is None or supervisor_id not in session.supervisors:
            raise not_found("session")
        eff = Effects()
        eff.notify(user(session.agent_id), Whispered(session_id=session_id, name=supervisor_name, text=text))
        eff.record(session.request_id, timeline="whisper", at=now, detail={"supervisor": supervisor_id})
        return eff

    # ------------------------------------------------------------------ the clock
    def tick(self, now: float) -> Effects:
        """Expire offers that rang too long and parties gone longer than the grace window."""
        eff = Effects()
        self.observe_agents(now)
        self.stats.trim(now)
        while self.offer_order and now >= self.offer_order[0][0]:
            expires_at, offer_id = heapq.heappop(self.offer_order)
            offer = self.offers.get(offer_id)
            if offer is not None and offer.expires_at == expires_at:  # not answered meanwhile
                self._lapse(offer, now, eff)
        while self.drop_order and now - self.drop_order[0][0] >= self.policy.grace_s:
            since, user_id = heapq.heappop(self.drop_order)
            # Back since, dropped again later, or settled by an earlier expiry in this pass.
            if self.dropped_at.get(user_id) != since:
                continue
            del self.dropped_at[user_id]
            agent = self.agents.get(user_id)
            if agent is not None:
                for sid in list(agent.sessions):
                    self._end_session(self.sessions[sid], EndReason.DROPPED, now, eff)
                # Nobody will fill these in: closed as "other", so the wall stops showing a
                # wrap-up counting up for an agent who left, and the handling figures count it.
                for sid in list(agent.wrap_ups):
                    self._finish_wrap_up(agent, sid, "other", "", now, eff)
                agent.presence = Presence.AWAY  # back from a long absence: they choose again
                eff.queue_changed = True
                continue
            kind, ident = self.by_customer.get(user_id, ("", ""))
            if kind == "request" and not self.requests[ident].callback:  # a callback needs no app open
                self._close_request(self.requests[ident], RequestStatus.ABANDONED, "abandoned", now, eff)
            elif kind == "session":
                self._end_session(self.sessions[ident], EndReason.DROPPED, now, eff)
        # Both in the order they were written, so the first one not yet due ends each pass.
        while self.rateable and now - next(iter(self.rateable.values()))[2] >= self.policy.rating_window_s:
            del self.rateable[next(iter(self.rateable))]
        while self.guests_asked and now - next(iter(self.guests_asked.values())) >= self.policy.rating_window_s:
            del self.guests_asked[next(iter(self.guests_asked))]  # long after the guest token expired
        while self.arrival_order and now - self.arrival_order[0][0] >= self.policy.max_wait_s:
            _, request_id = self.arrival_order.popleft()
            request = self.requests.get(request_id)
            if request is not None and not request.long_wait:
                request.long_wait = True  # the customer is offered a callback or the hotline
                eff.record(request.request_id, timeline="long_wait", at=now)
                eff.queue_changed = True
        self._dispatch(now, eff)
        self._close_unstaffed(now, eff)
        self.observe_agents(now)
        return eff

    def observe_agents(self, now: float) -> None:
        """Note when each agent's shown state changed (the wall's time in state), and start a
        new day's counts at the center's midnight. Run on every tick, so within one tick."""
        # Only the agents whose state changed, or whose counts are of another day: the index
        # keeps both, so a tick does not walk every agent (bench.line_bench, by agents).
        for agent in self.agents.unobserved():
            agent.shown_state, agent.state_since = agent.state().value, now
        for agent in self.agents.counted_on_another_day(self.policy.day_of(now)):
            self._roll_day(agent, now)

    def _roll_day(self, agent: Agent, now: float) -> None:
        day = self.policy.day_of(now)
        if day != agent.day:
            agent.day, agent.handled_today, agent.handle_s_today = day, 0, 0.0

    def _count_handled(self, agent: Agent, now: float, handle_s: float) -> None:
        self._roll_day(agent, now)
        agent.handled_today += 1
        agent.handle_s_today += handle_s

    def on_shift_for(self, language: str) -> bool:
        """Someone who speaks the language is on shift (see routing.on_shift)."""
        return self.agents.on_shift(language, self.dropped_at.__contains__)

    def _close_unstaffed(self, now: float, eff: Effects) -> None:
        """A request waits only while someone who could serve it is on shift; callbacks wait."""
        for language in self.queue.languages():
            if self.on_shift_for(language):
                continue
            for request_id in self.queue.in_order([language]):
                request = self.requests[request_id]
                if not request.callback:
                    self._close_request(request, RequestStatus.UNSTAFFED, "unstaffed", now, eff)

    # ------------------------------------------------------------------ internals
    def _session_of(self, user_id: str, role: Role, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        party = session and (session.customer_id if role is Role.CUSTOMER else session.agent_id)
        if session is None or party != user_id:
            raise not_found("session")
        return session

    def _dispatch(self, now: float, eff: Effects) -> None:
        """Offer waiting requests, in service order, to the best free agent for each."""
        # Only the lines some free agent can serve, each walked from its head; the walk starts
        # over on fewer lines when a language's last free agent is taken, and stops when nobody
        # is free, so neither the length of the line nor the number of agents counts.
        languages = self.agents.free_languages()
        while languages:
            for request_id in self.queue.in_order(languages):
                request = self.requests[request_id]
                agent = self.agents.best_free(request, now, self.policy.reoffer_after_s)
                if agent is None:
                    continue
                self._offer(request, agent, now, eff)
                if self.agents.free_languages() != languages:
                    languages = self.agents.free_languages()
                    break
            else:
                return

    def settle(self) -> None:
        """The end of a command (the stores call it): the agents' index takes in what changed."""
        self.agents.settle()

    def _add_offer(self, offer: Offer) -> None:
        self.offers[offer.offer_id] = offer
        heapq.heappush(self.offer_order, (offer.expires_at, offer.offer_id))

    def _offer(self, request: HelpRequest, agent: Agent, now: float, eff: Effects) -> None:
        offer = Offer(self.new_id("o"), agent.agent_id, now + self.policy.offer_timeout_s, request_id=request.request_id)
        self._add_offer(offer)
        self.queue.remove(request)
        request.status = RequestStatus.OFFERED
        request.offer_id = offer.offer_id
        agent.offer_id = offer.offer_id
        eff.notify(user(agent.agent_id), self.offer_message(offer, now))
        eff.notify(user(agent.agent_id), AgentStateChanged(state=agent.state()))
        eff.notify(user(request.customer_id), QueueRinging(request_id=request.request_id))
        if request.offered_at is None:
            request.offered_at = now
            eff.record(request.request_id, offered_at=now)
            eff.pairings.append(now - request.created_at)
        eff.record(request.request_id, timeline="offered", at=now, detail={"agent": agent.agent_id})
        eff.queue_changed = True

    def offer_message(self, offer: Offer, now: float) -> HelpOffer | TransferOffer:
        expires_in = round(max(0.0, offer.expires_at - now), 3)
        if offer.session_id:
            session = self.sessions[offer.session_id]
            assert offer.from_agent is not None  # a transfer is always from someone
            return TransferOffer(
                offer_id=offer.offer_id,
                expires_in_s=expires_in,
                from_agent=self.agents[offer.from_agent].profile.display_name,
                request=session.context,
            )
        assert offer.request_id is not None
        request = self.requests[offer.request_id]
        return HelpOffer(
            offer_id=offer.offer_id, expires_in_s=expires_in, request=request.public(now), transcript=list(request.transcript)
        )

    def _lapse(self, offer: Offer, now: float, eff: Effects) -> None:
        """Ring-no-answer: pass the work on and set the agent away until they come back."""
        agent = self.agents[offer.agent_id]
        self._release_offer(offer, now, eff, reason="timeout")
        agent.presence = Presence.AWAY
        eff.notify(user(agent.agent_id), AgentStateChanged(state=agent.state()))

    def _release_offer(self, offer: Offer, now: float, eff: Effects, reason: ReleaseReason) -> None:
        """An offer ends unanswered (declined, timed out, agent left): the work goes back."""
        del self.offers[offer.offer_id]
        agent = self.agents[offer.agent_id]
        agent.offer_id = None
        eff.notify(user(agent.agent_id), OfferRevoked(offer_id=offer.offer_id, reason=reason))
        eff.notify(user(agent.agent_id), AgentStateChanged(state=agent.state()))
        if offer.session_id:
            session = self.sessions[offer.session_id]
            session.transfer_offer = None
            assert offer.from_agent is not None
            eff.notify(user(offer.from_agent), TransferFailed(session_id=session.session_id, reason=reason))
            eff.record(session.request_id, timeline="transfer_failed", at=now, detail={"reason": reason})
            return
        assert offer.request_id is not None
        request = self.requests[offer.request_id]
        request.status = RequestStatus.WAITING
        request.offer_id = None
        if reason in ("declined", "timeout"):
            request.declined_by[agent.agent_id] = now
        self.queue.add(request)  # back in its original place: its sort key never changed
        eff.record(request.request_id, timeline=f"offer_{reason}", at=now, detail={"agent": agent.agent_id})
        eff.queue_changed = True

    def _start_session(self, request: HelpRequest, agent: Agent, session_id: str, now: float, eff: Effects) -> None:
        del self.requests[request.request_id]
        request.status = RequestStatus.SERVED
        context: RequestContext = {**request.public(now), "transcript": list(request.transcript)}
        session = Session(
            session_id,
            request.request_id,
            request.customer_id,
            agent.agent_id,
            self.new_code(),
            now,
            context=context,
            language=request.language,
            state_since=now,
        )
        self.sessions[session_id] = session
        self.by_customer[request.customer_id] = ("session", session_id)
        agent.sessions.add(session_id)
        eff.notify(user(request.customer_id), SessionStarted(**queries.session_view(self, session, Role.CUSTOMER)))
        eff.notify(user(agent.agent_id), SessionStarted(**queries.session_view(self, session, Role.AGENT)))
        eff.answered.append(now - request.created_at)
        self.stats.record_answered(now, now - request.created_at, request.line)
        eff.record(
            request.request_id,
            timeline="accepted",
            at=now,
            status=RequestStatus.SERVED.value,
            accepted_at=now,
            session_id=session_id,
            agent_id=agent.agent_id,
            wait_s=round(now - request.created_at, 3),
            detail={"agent": agent.agent_id},
        )

    def _complete_transfer(self, offer: Offer, agent: Agent, now: float, eff: Effects) -> None:
        assert offer.session_id is not None
        session = self.sessions[offer.session_id]
        previous = self.agents[session.agent_id]
        previous.sessions.discard(session.session_id)
        # The agent who handed over still wraps up their part, with the outcome "transferred".
        previous.wrap_ups[session.session_id] = session.request_id
        session.agent_id = agent.agent_id
        session.transfer_offer = None
        session.code = self.new_code()  # the customer verifies the new agent afresh
        agent.sessions.add(session.session_id)
        seen = queries.session_view(self, session, Role.CUSTOMER)
        eff.notify(
            user(session.customer_id),
            AgentChanged(session_id=seen["session_id"], state=seen["state"], code=seen["code"], agent=seen["agent"]),
        )
        eff.notify(user(agent.agent_id), SessionStarted(**queries.session_view(self, session, Role.AGENT)))
        eff.notify(
            user(previous.agent_id), SessionTransferred(session_id=session.session_id, to_agent=agent.profile.display_name)
        )
        eff.notify(user(previous.agent_id), AgentStateChanged(state=previous.state()))
        eff.record(
            session.request_id,
            timeline="transferred",
            at=now,
            agent_id=agent.agent_id,
            detail={"from": previous.agent_id, "to": agent.agent_id},
        )

    def _end_session(self, session: Session, reason: EndReason, now: float, eff: Effects) -> None:
        if session.transfer_offer:
            self._release_offer(self.offers[session.transfer_offer], now, eff, reason="session_ended")
        session.state = SessionState.ENDED
        session.ended_at = now
        session.state_since = now
        session.end_reason = reason.value
        del self.sessions[session.session_id]
        self.wrapping[session.session_id] = session
        self.by_customer.pop(session.customer_id, None)
        self.dropped_at.pop(session.customer_id, None)
        agent = self.agents[session.agent_id]
        agent.sessions.discard(session.session_id)
        agent.wrap_ups[session.session_id] = session.request_id
        self.talk_times[session.session_id] = (now - session.accepted_at, now)
        self.rateable[session.session_id] = (session.customer_id, session.request_id, now)
        for to in [session.customer_id, session.agent_id, *session.supervisors]:
            eff.notify(user(to), SessionEnded(session_id=session.session_id, reason=reason))
        eff.ended.append(session.session_id)
        eff.notify(user(agent.agent_id), AgentStateChanged(state=agent.state()))
        eff.record(
            session.request_id,
            timeline="ended",
            at=now,
            ended_at=now,
            end_reason=reason.value,
            handle_s=round(now - session.accepted_at, 3),
        )
        eff.queue_changed = True
