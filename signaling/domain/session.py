"""The session state machine as a transition table: (state, action) → next state."""
from __future__ import annotations

from .errors import invalid_state
from .model import SessionState as S

TRANSITIONS: dict[tuple[S, str], S] = {
    (S.AWAITING_CONSENT, "consent"): S.SHARING,
    (S.AWAITING_CONSENT, "decline"): S.ENDED,
    (S.SHARING, "stop_sharing"): S.STOPPED,
    # Sharing may start again, but only by a fresh consent from the customer.
    (S.STOPPED, "consent"): S.SHARING,
    (S.AWAITING_CONSENT, "end"): S.ENDED,
    (S.SHARING, "end"): S.ENDED,
    (S.STOPPED, "end"): S.ENDED,
}

# Mirror, annotations and WebRTC signaling flow only while the customer is sharing.
RELAY_STATES = frozenset({S.SHARING})


def next_state(state: S, action: str) -> S:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise invalid_state(f"Cannot {action.replace('_', ' ')} while the session is {state.value}.") from None
