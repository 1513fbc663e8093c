"""The session state machine as a transition table: (state, action) → next state.

A session starts as a call (awaiting_consent: talking, nothing shared), so the agent can read
the verification code aloud before the customer decides. The agent asks to share; declining
keeps the call, and the agent may ask again."""

from __future__ import annotations

from .errors import invalid_state
from .model import SessionState as S

TRANSITIONS: dict[tuple[S, str], S] = {
    (S.AWAITING_CONSENT, "consent"): S.SHARING,
    (S.AWAITING_CONSENT, "decline"): S.AWAITING_CONSENT,
    (S.STOPPED, "decline"): S.STOPPED,
    (S.AWAITING_CONSENT, "ask_to_share"): S.AWAITING_CONSENT,
    (S.STOPPED, "ask_to_share"): S.STOPPED,
    (S.SHARING, "stop_sharing"): S.STOPPED,
    # Sharing may start again, but only by a fresh consent from the customer.
    (S.STOPPED, "consent"): S.SHARING,
    (S.AWAITING_CONSENT, "end"): S.ENDED,
    (S.SHARING, "end"): S.ENDED,
    (S.STOPPED, "end"): S.ENDED,
}

# The mirror and annotations flow only while the customer is sharing; the call (and a
# supervisor's monitoring of it) for as long as the session lives.
RELAY_STATES = {
    "mirror": frozenset({S.SHARING}),
    "annotation": frozenset({S.SHARING}),
    "rtc": frozenset({S.AWAITING_CONSENT, S.SHARING, S.STOPPED}),
    "monitor": frozenset({S.AWAITING_CONSENT, S.SHARING, S.STOPPED}),
}


def next_state(state: S, action: str) -> S:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise invalid_state(f"Cannot {action.replace('_', ' ')} while the session is {state.value}.") from None
