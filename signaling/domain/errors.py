"""Domain errors: a stable code for machines and a plain message for people.

Messages never name another customer's or session's data: an unknown id and somebody else's
id get the same answer, so probing reveals nothing.
"""

from __future__ import annotations

from .notices import Effects


class DomainError(Exception):
    """A refused command. `effects`, when given, must still be applied (a lapsed offer, a
    rejected request that goes on record) even though the command itself failed."""

    def __init__(self, code: str, message: str, effects: Effects | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.effects = effects

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def not_found(what: str) -> DomainError:
    return DomainError("not_found", f"No such {what} for you.")


def forbidden(action: str) -> DomainError:
    return DomainError("forbidden", f"Your role may not {action}.")


def invalid_state(message: str) -> DomainError:
    return DomainError("invalid_state", message)
