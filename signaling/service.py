"""Use cases: load the live state → run the domain command → deliver notices, write records.

Transport-free: the socket.io adapter (sio.py) calls these with an authenticated principal,
tests can call them directly. Effects are applied after the store's command has returned, so
a slow socket never holds the state lock.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import structlog

from .domain import queries
from .domain.center import CallCenter, Route, relay_key
from .domain.errors import DomainError
from .domain.model import AgentProfile, CustomerStep, Edition, Presence, Role, SupervisorMode
from .domain.notices import AGENTS, SUPERVISORS, Effects, Notice, user
from .outbound import Board, QueueRinging, QueueWaiting, WaitingLine, Wall
from .ports import Cluster, Delivery, LiveStore, RecordSink
from .tasks import cancel_and_wait

log = structlog.get_logger("signaling")
T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    """An authenticated user, as the token says."""

    user_id: str
    role: Role
    display_name: str
    badge: str = ""
    languages: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    expires_at: float = 0.0  # when the token that says so expires (0: unknown)
    generation: int = 0  # the account's token generation the token was issued under

    def agent_profile(self) -> AgentProfile:
        return AgentProfile(self.user_id, self.display_name, self.badge, frozenset(self.languages), frozenset(self.skills))


QUEUE_VIEW_LIMIT = 100
POSITION_EVERY_S = 3.0  # a waiting customer hears their new place at most this often …
POSITION_HEADS = 3  # … except the first few of each line, who hear at once
# At most this many refreshed per tick (1,000 a second per node): past POSITION_EVERY_S × that
# many waiting on one node, each hears a little less often, and the cost per tick stays flat.
POSITION_BATCH = 200
RINGING = {"status": "offered"}
# Commands that read nothing but the entities they name (a session, offer, request, agent) and
# the lines they walk (a shared store notes those per language), and only add to the wall's
# counters: a node sharing the store may commit them over other nodes' changes to other
# entities (ports.LiveStore.run's `commutes`), so the steps of one visit (accept, consent,
# end, wrap-up…) do not lose races to other visits'. A wrap-up offers its agent the head of the
# lines they speak; who else is free it need not know (an offer to an agent another node has
# changed meanwhile is a conflict on that agent). A help request, a cancel, a presence change
# and the clock also read the staffing or the arrival counter, and do not commute.
COMMUTES = True


class Observer(Protocol):
    """Metrics hooks (Prometheus in production; anything with these methods)."""

    def pairing(self, seconds: float) -> None: ...
    def answered(self, seconds: float) -> None: ...


class SignalingService:
    def __init__(
        self,
        store: LiveStore,
        records: RecordSink,
        delivery: Delivery,
        cluster: Cluster,
        observer: Observer | None = None,
        clock: Callable[[], float] = time.time,
        tick_s: float = 0.2,
        staff_view_s: float = 1.0,
    ) -> None:
        self.store = store
        self.cluster = cluster
        self.records = records
        self.delivery = delivery
        # What to drop when a session ends (catch-up buffer, replay counters, half-sent chunks,
        # recording and call-audio state): run once per ended session, after its notices.
        self.on_session_ended: list[Callable[[str], Awaitable[object]]] = []
        self.observer = observer
        self.clock = clock
        self.tick_s = tick_s
        self.staff_view_s = staff_view_s
        self._staff_dirty = False
        self._staff_pushed_at = 0.0
        self._wall_sent: dict = {}
        self._board_sent: list | None = None
        # Positions (see _publish_positions): what each waiting customer of this node was last
        # told, and the ring of them refreshed a slice per tick.
        self._sent_positions: dict[str, Mapping[str, Any]] = {}
        self._ring: deque[str] = deque()
        self._ring_left = 0  # entries of the ring still to refresh in the current round
        self._ring_version: tuple = ()  # the line's version the current round refreshes to
        self._heads_version: tuple = ()
        self._line_version = 0  # bumped whenever this node changed the line
        self._queue_dirty = False
        self._state_dirty = True  # something changed: the supervisors' board may have
        self._seen_version = -1  # the shared store's version the last views were made from
        self._ticker: asyncio.Task | None = None
        # Gauges for /metrics, refreshed every tick so a scrape never touches the live store.
        self.live_stats: dict = {"waiting_by_class": {}, "agents_by_state": {}, "sessions_active": 0}

    # ------------------------------------------------------------------ plumbing
    async def _run(self, command: Callable[[CallCenter, float], Any], commutes: bool = False) -> Any:
        """Run one domain command atomically; apply its effects; return its reply."""
        try:
            outcome = await self.store.run(lambda center: command(center, self.clock()), commutes=commutes)
        except DomainError as exc:
            if exc.effects is not None:
                await self._apply(exc.effects)
            raise
        reply, effects = outcome if isinstance(outcome, tuple) else (None, outcome)
        await self._apply(effects)
        return reply

    async def _read(self, view: Callable[[CallCenter, float], T]) -> T:
        """A view of the live state: a read, never a command (nothing to commit or apply)."""
        return await self.store.read(lambda center: view(center, self.clock()))

    async def _apply(self, effects: Effects) -> None:
        # People first: the notices go out before the record is queued, so the record
        # writer's thread never competes with the sockets on the hot path.
        if effects.notices:
            for notice in effects.notices:  # "your request rings": what they last heard of their wait
                message = notice.message
                if isinstance(message, QueueRinging) and message.request_id in self._sent_positions:
                    self._sent_positions[message.request_id] = RINGING
            await self._deliver(effects.notices)
        if effects.ended:
            await self._clean_up(effects.ended)
        if effects.records:
            if not self.store.records_in_commit:
                self.records.submit(effects.records)
            for update in effects.records:
                if update.timeline:  # ids and the step only: no names, notes or transcripts
                    log.info(update.timeline, request_id=update.request_id, session_id=update.fields.get("session_id"))
        if self.observer:
            for seconds in effects.pairings:
                self.observer.pairing(seconds)
            for seconds in effects.answered:
                self.observer.answered(seconds)
        if effects.queue_changed:
            self._queue_dirty = True
            self._line_version += 1
        if effects.notices or effects.records:
            self._state_dirty = True

    async def _deliver(self, notices: Iterable[Notice]) -> None:
        for notice in notices:
            await self.delivery.send(notice.to, notice.message)

    async def _clean_up(self, ended: Iterable[str]) -> None:
        """After the notices, each ended session's cleanup, once. The decision is made already:
        a cleanup that fails is logged and cannot skip a notice or turn the command into an
        error (issue 16: a Redis hiccup in keyframes.forget did both)."""
        for session_id in dict.fromkeys(ended):
            for forget in self.on_session_ended:
                try:
                    await forget(session_id)
                except Exception:
                    log.exception(
                        "session_cleanup_failed", session_id=session_id, step=getattr(forget, "__qualname__", repr(forget))
                    )

    # ------------------------------------------------------------------ presence
    async def connected(self, p: Principal) -> None:
        """A socket of this user opened on this node (the first one anywhere is a reconnect)."""
        profile = p.agent_profile() if p.role is Role.AGENT else None
        node = self.cluster.instance
        # A customer's or supervisor's socket touches only their own entities (and a session
        # they are in); an agent's may offer them the line, which is read, not an entity.
        commutes = p.role is not Role.AGENT
        await self._run(lambda c, now: c.socket_opened(p.user_id, p.role, node, now, profile), commutes)

    async def disconnected(self, p: Principal) -> None:
        node = self.cluster.instance
        await self._run(lambda c, now: c.socket_closed(p.user_id, node, now), p.role is not Role.AGENT)

    async def view(self, p: Principal) -> dict:
        """Everything the user's client needs to (re)draw itself: used on connect and resume."""

        def look(c: CallCenter, now: float) -> dict:
            if p.role is Role.CUSTOMER:
                return queries.customer_view(c, p.user_id, now)
            if p.role is Role.AGENT:
                return queries.agent_view(c, p.user_id, now) | {
                    "queue": queries.waiting_list(c, now, QUEUE_VIEW_LIMIT),
                    "queue_total": len(c.queue),
                }
            return {
                "queue": queries.waiting_list(c, now, QUEUE_VIEW_LIMIT),
                "queue_total": len(c.queue),
                "wall": queries.wall(c, now),
                "board": queries.board(c, now, QUEUE_VIEW_LIMIT),
                "now": now,
                "sessions": [queries.session_view(c, s, Role.SUPERVISOR) for s in c.sessions.values()],
            }

        seen = await self._read(look)
        return self._follow(seen) if p.role is Role.CUSTOMER else seen

    # ------------------------------------------------------------------ customer
    async def request_help(
        self, p: Principal, topic: str, edition: Edition, language: str, page: str, transcript: tuple[str, ...] = ()
    ) -> dict:
        return self._follow(
            await self._run(
                lambda c, now: c.request_help(p.user_id, p.display_name, topic, edition, language, page, now, transcript)
            )
        )

    async def request_callback(
        self, p: Principal, topic: str, edition: Edition, language: str, page: str, transcript: tuple[str, ...] = ()
    ) -> dict:
        return self._follow(
            await self._run(
                lambda c, now: c.request_callback(p.user_id, p.display_name, topic, edition, language, page, now, transcript)
            )
        )

    def _follow(self, view: dict) -> dict:
        """A customer of this node is waiting: keep their place and estimate up to date (the
        view they were just given is what they were last told)."""
        request = view.get("request") if isinstance(view, dict) else None
        if request and "position" in request and request["request_id"] not in self._sent_positions:
            self._ring.append(request["request_id"])
        if request and "position" in request:
            self._sent_positions[request["request_id"]] = {k: request[k] for k in ("position", "eta_s", "callback", "long_wait")}
        return view

    async def cancel(self, p: Principal, request_id: str) -> None:
        await self._run(lambda c, now: c.cancel_request(p.user_id, request_id, now))

    async def consent(self, p: Principal, session_id: str, accept: bool) -> None:
        await self._run(lambda c, now: c.consent(p.user_id, session_id, accept, now), COMMUTES)

    async def stop_sharing(self, p: Principal, session_id: str) -> None:
        await self._run(lambda c, now: c.stop_sharing(p.user_id, session_id, now), COMMUTES)

    async def customer_step(self, p: Principal, session_id: str, step: CustomerStep) -> None:
        await self._run(lambda c, now: c.customer_step(p.user_id, session_id, step, now), COMMUTES)

    async def rate_session(self, p: Principal, session_id: str, rating: str, comment: str) -> None:
        await self._run(lambda c, now: c.rate_session(p.user_id, session_id, rating, comment, now), COMMUTES)

    async def end_session(self, p: Principal, session_id: str) -> None:
        await self._run(lambda c, now: c.end_session(p.user_id, p.role, session_id, now), COMMUTES)

    # ------------------------------------------------------------------ agent
    async def set_presence(self, p: Principal, presence: Presence) -> None:
        await self._run(lambda c, now: c.set_presence(p.user_id, presence, now))

    async def accept(self, p: Principal, offer_id: str, session_id: str) -> None:
        await self._run(lambda c, now: c.accept_offer(p.user_id, offer_id, now, session_id), COMMUTES)

    async def decline(self, p: Principal, offer_id: str) -> None:
        await self._run(lambda c, now: c.decline_offer(p.user_id, offer_id, now))

    async def wrap_up(self, p: Principal, session_id: str, outcome: str, notes: str) -> None:
        await self._run(lambda c, now: c.wrap_up(p.user_id, session_id, outcome, notes, now), COMMUTES)

    async def transfer_targets(self, p: Principal, session_id: str) -> list[dict]:
        return await self._read(lambda c, now: c.transfer_targets(p.user_id, session_id))

    async def transfer(self, p: Principal, session_id: str, to_agent: str) -> None:
        await self._run(lambda c, now: c.transfer(p.user_id, session_id, to_agent, now))

    async def ask_to_share(self, p: Principal, session_id: str) -> None:
        await self._run(lambda c, now: c.ask_to_share(p.user_id, session_id, now), COMMUTES)

    async def invite_supervisor(self, p: Principal, session_id: str, note: str) -> None:
        await self._run(lambda c, now: c.invite_supervisor(p.user_id, session_id, note, now))

    # ------------------------------------------------------------------ supervisor
    async def supervisor_join(self, p: Principal, session_id: str, mode: SupervisorMode) -> dict:
        return await self._run(lambda c, now: c.supervisor_join(p.user_id, p.display_name, session_id, mode, now))

    async def supervisor_leave(self, p: Principal, session_id: str) -> None:
        await self._run(lambda c, now: c.supervisor_leave(p.user_id, session_id, now))

    async def reassign(self, p: Principal, request_id: str, to_agent: str) -> None:
        await self._run(lambda c, now: c.reassign(p.user_id, request_id, to_agent, now))

    async def may_record_audio(self, p: Principal, session_id: str) -> None:
        await self._run(lambda c, now: c.may_record_audio(p.user_id, session_id, now))

    # ------------------------------------------------------------------ relays
    async def relay(self, p: Principal, session_id: str, stream: str, seq: int, target: str | None = None) -> Route:
        """Recipients of one relayed message; raises DomainError when it must not flow."""
        return await self.store.relay(
            lambda c: c.route(p.user_id, p.role, session_id, stream, target),
            session_id,
            relay_key(stream, p.role, p.user_id),
            seq,
        )

    async def watchers(self, session_id: str) -> list[str]:
        """The supervisors in the session now (none once it ended): a read, for the relay's
        second look after it buffered a mirror batch."""
        return await self._read(lambda c, now: list(s.supervisors) if (s := c.sessions.get(session_id)) else [])

    async def whisper(self, p: Principal, session_id: str, text: str) -> None:
        await self._run(lambda c, now: c.whisper(p.user_id, p.display_name, session_id, text, now))

    # ------------------------------------------------------------------ the clock
    def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick_forever(), name="signaling-ticker")

    async def stop(self) -> None:
        if self._ticker:
            await cancel_and_wait(self._ticker)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self.tick()
            except Exception:  # the clock must keep running whatever one tick met
                log.exception("tick_failed")

    async def tick(self) -> None:
        staff_due = time.monotonic() - self._staff_pushed_at >= self.staff_view_s
        if staff_due:
            self._staff_pushed_at = time.monotonic()
        leader = self.cluster.is_leader
        if leader:  # once per deployment, and no matter of correctness (the clock is every node's)
            await self._write_off_lost_nodes()
        await self._clock()
        # Views are redrawn when this node changed the state, or any node did; nothing is
        # computed when nothing happened but the wall's clock (the board's times are absolute).
        changed = self.store.version != self._seen_version
        self._seen_version = self.store.version
        state_changed = self._state_dirty or changed
        self._state_dirty = False
        if state_changed or staff_due:  # the gauges: the wall's figures without its rows per agent
            self.live_stats = dict(await self._read(lambda c, now: queries.wall(c, now, agents=False)))
        if leader and state_changed:
            board, now = await self._read(lambda c, now: (queries.board(c, now, QUEUE_VIEW_LIMIT), now))
            if board != self._board_sent:  # every phase change reaches the supervisors within a tick
                self._board_sent = board
                await self.delivery.send(SUPERVISORS, Board(rows=board, now=now))
        if self._queue_dirty or changed:
            self._queue_dirty = False
            self._staff_dirty = True
        await self._publish_positions()
        if leader and staff_due:
            if self._staff_dirty:
                self._staff_dirty = False
                await self._publish_waiting_line()
            # The supervisor wall, within a second: its rows per agent cost O(agents), so they
            # are made once a second by one node, not on every tick by every node.
            wall = await self._read(queries.wall)
            if wall != self._wall_sent:
                self._wall_sent = dict(wall)
                await self.delivery.send(SUPERVISORS, Wall(**wall))

    async def _clock(self) -> None:
        """Deadlines (offers that rang too long, grace windows, long waits): on every node, so
        none waits for a leader. Scaled out, the store runs the tick only when one is due, and
        racing nodes decide once (ports.LiveStore.tick); embedded it runs on every tick."""
        now = self.clock()
        effects = await self.store.tick(lambda center: center.tick(now), now)
        if effects is not None:
            await self._apply(effects)

    @property
    def positions_pending(self) -> int:
        """Waiting customers still to be refreshed in the current round (0: all told)."""
        return self._ring_left

    async def _write_off_lost_nodes(self) -> None:
        """Sockets held by node instances whose heartbeat expired are gone: their users get
        the grace window (and come back through another node within it)."""
        if not self.cluster.settled:
            return
        nodes = await self._read(lambda c, now: c.nodes_in_use())
        lost = nodes - await self.cluster.alive(nodes) - {self.cluster.instance}
        if lost:
            log.warning("nodes_lost", nodes=sorted(lost))
            await self._run(lambda c, now: c.nodes_lost(lost, now))

    async def _publish_positions(self) -> None:
        """Tell this node's waiting customers their place and estimate when it changed.

        Without a storm: a pairing moves everyone behind it, so the few at the head of each
        line hear at once, and the rest are refreshed a slice per tick, each customer at most
        once per POSITION_EVERY_S. The work per pairing is then the same at 10,000 waiting as at
        100, and nothing at all is done while the line stands still (issue 16)."""
        version = (self._line_version, self.store.version)
        heads: list[str] = []
        if version != self._heads_version:
            self._heads_version = version
            heads = await self._read(lambda c, now: queries.line_heads(c, POSITION_HEADS))
        if not self._ring_left and version != self._ring_version and self._ring:
            self._ring_version, self._ring_left = version, len(self._ring)  # a new round
        take = min(self._ring_left, POSITION_BATCH, max(1, math.ceil(len(self._ring) * self.tick_s / POSITION_EVERY_S)))
        batch = [self._ring.popleft() for _ in range(take)]
        self._ring_left -= take
        if not heads and not batch:
            return
        positions = await self._read(lambda c, now: queries.positions_of(c, [*heads, *batch]))
        self._ring.extend(rid for rid in batch if rid in positions)  # the rest were served or left
        for rid in batch:
            if rid not in positions:
                self._sent_positions.pop(rid, None)
        notices = []
        for request_id, (customer_id, seen) in positions.items():
            if seen is None:  # ringing: told so by the offer itself; a decline brings it back
                self._sent_positions[request_id] = RINGING
            elif request_id in self._sent_positions and self._sent_positions[request_id] != seen:
                self._sent_positions[request_id] = seen
                notices.append(Notice(user(customer_id), QueueWaiting(request_id=request_id, **seen)))
        await self._deliver(notices)

    async def _publish_waiting_line(self) -> None:
        """The line as agents and supervisors see it: at most once per staff_view_s, since
        every console receives all of it (the head of the line, and how long it is)."""
        waiting, total = await self._read(lambda c, now: (queries.waiting_list(c, now, QUEUE_VIEW_LIMIT), len(c.queue)))
        line = WaitingLine(waiting=waiting, total=total)
        await self.delivery.send(AGENTS, line)
        await self.delivery.send(SUPERVISORS, line)
