"""What the signaling service needs from the outside world: live state, records, delivery."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from .domain.center import CallCenter, Route
from .domain.notices import RecordUpdate

T = TypeVar("T")


class LiveStore(Protocol):
    """Where the live call-center state lives (process memory, or Redis when scaled out).

    `run(command)` applies one command to the state atomically with respect to every other
    command, on this node and on any other sharing the store. A store with optimistic
    concurrency may call `command` more than once (on a fresh copy each time), so commands are
    pure functions of the state: they return their effects instead of performing them."""

    async def run(self, command: Callable[[CallCenter], T], commutes: bool = False) -> T:
        """`commutes`: the command reads nothing but the entities it reaches through the
        center's dictionaries and the waiting lines it walks (not the staffing, nor the arrival
        counter; the wall's counters it only adds to), so a store shared by several nodes may
        commit it over another node's changes to other entities instead of running it again (a
        customer's socket opening or closing, a session's steps, a wrap-up)."""
        ...

    async def tick(self, command: Callable[[CallCenter], T], now: float) -> T | None:
        """The clock's command (CallCenter.tick at `now`), run like `run` but only when some
        deadline is due by `now`; None when none was (then nothing is run or written). Any
        node may call it: a shared store lets one of them claim what is due, and the others
        pass it by."""
        ...

    async def read(self, view: Callable[[CallCenter], T]) -> T:
        """A view of the latest state (as of some moment after the call began); `view` must not
        change the state, and nothing it does is written."""
        ...

    async def relay(self, route: Callable[[CallCenter], Route], session_id: str, key: str, seq: int) -> Route:
        """A relay's check (`route` only reads the state) plus its replay counter: `seq` must
        be above the last one taken for `key` in this session, else out_of_sequence."""
        ...

    async def forget_session(self, session_id: str) -> None:
        """Drop what the store keeps beside the state for an ended session."""
        ...

    # A shared store's commit counter: it changes whenever any node changed the state (0 for a
    # store only this process changes; the service then relies on the effects it applied).
    version: int
    # True when the store writes a command's record updates itself, atomically with the state
    # change (Redis: a stream pumped into the database); the service then leaves them alone.
    records_in_commit: bool


class Cluster(Protocol):
    """The nodes sharing the live state: this node's instance id, who leads the clock, who is
    alive. Embedded, the one process is all three."""

    instance: str

    @property
    def is_leader(self) -> bool: ...

    @property
    def settled(self) -> bool:
        """Whether a missing heartbeat now means a dead node (not just a Redis that came back)."""
        ...

    async def alive(self, instances: set[str]) -> set[str]: ...


class RecordSink(Protocol):
    """The durable record of requests and sessions (SQLite embedded, PostgreSQL scaled out)."""

    def submit(self, updates: Iterable[RecordUpdate]) -> None: ...


class Message(Protocol):
    """One event as it goes on a socket: a model of signaling/outbound.py, or a relay."""

    @property
    def event(self) -> str: ...
    def wire(self) -> dict[str, Any]: ...


class Delivery(Protocol):
    """The one way anything reaches users' sockets (on this node or, through the manager, any
    node): the domain's notices, the relays and their catch-up, the voice assistant's replies.
    `to` is a room: `user:<id>`, `agents`, `supervisors`."""

    async def send(self, to: str, message: Message) -> None: ...
