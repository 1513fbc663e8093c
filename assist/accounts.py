"""Accounts: the operator's commands (`assist users`) and the token generation behind revocation.

Every access token carries the generation of its user at the time it was issued. Signing out,
disabling the account, resetting its password and changing its role bump the generation in the
database (and stamp `changed_at`), so every token issued before is refused from then on, by
every node: each node keeps the generations it has seen in memory and picks up changes made
elsewhere (another node, the `assist users` command) by polling `changed_at`; scaled out, a
node that makes a change also announces it over Redis so the others act at once.
"""

from __future__ import annotations

import builtins
import re
import time
from dataclasses import dataclass

import sqlalchemy as sa

from signaling.domain.model import Role

from .storage.sql import users

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_PASSWORD = 10
ROLES = tuple(r.value for r in Role)


class Refusal(Exception):
    """A refusal: `code` for programs, `message` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AccountError(Refusal):
    """A refused account command (bad input changes nothing)."""


@dataclass(frozen=True)
class Standing:
    """What a token is checked against: the user's current generation, and whether they may sign in."""

    generation: int
    active: bool


def check_new_password(username: str, password: str, forbidden: tuple[str, ...] = ()) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("weak_password", f"A password needs at least {MIN_PASSWORD} characters.")
    if password.lower() == username.lower() or password in forbidden:
        raise AccountError("weak_password", "That password is not allowed (the username, or a published one).")


class AccountStore:
    """Account rows in the records database (SQLite or PostgreSQL); every method is blocking."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ reading
    def standing(self, username: str) -> Standing | None:
        return self.standings([username]).get(username)

    def changed_since(self, since: float) -> dict[str, Standing]:
        return self._standings(users.c.changed_at >= since)

    def standings(self, usernames: list[str]) -> dict[str, Standing]:
        """Of these users, those that exist (a missing one was deleted)."""
        return self._standings(users.c.username.in_(usernames)) if usernames else {}

    def _standings(self, where) -> dict[str, Standing]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(users.c.username, users.c.token_generation, users.c.active).where(where)).all()
        return {r.username: Standing(r.token_generation, r.active) for r in rows}

    def list(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(users.c.username, users.c.role, users.c.display_name, users.c.active, users.c.demo).order_by(
                    users.c.username
                )
            ).all()
        return [dict(r._mapping) for r in rows]

    # ------------------------------------------------------------------ changing
    def add(
        self,
        username: str,
        role: str,
        display_name: str,
        password_hash: str,
        *,
        badge: str = "",
        languages: tuple[str, ...] = (),
        skills: tuple[str, ...] = (),
    ) -> None:
        if not USERNAME.match(username):
            raise AccountError("bad_username", "A username is 1–64 letters, digits, '.', '_' or '-'.")
        if role not in ROLES:
            raise AccountError("bad_role", f"The role is one of {', '.join(ROLES)}.")
        with self.engine.begin() as conn:
            if conn.execute(sa.select(users.c.username).where(users.c.username == username)).first():
                raise AccountError("exists", f"There is already an account {username}.")
            conn.execute(
                users.insert().values(
                    username=username,
                    role=role,
                    display_name=display_name or username,
                    password_hash=password_hash,
                    badge=badge,
                    languages=list(languages),
                    skills=list(skills),
                    active=True,
                    demo=False,
                    token_generation=0,
                    changed_at=time.time(),
                )
            )

    def bump(self, username: str, **values) -> Standing:
        """Refuse every token issued so far to `username` (and apply `values` in the same write)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                users.update()
                .where(users.c.username == username)
                .values(token_generation=users.c.token_generation + 1, changed_at=time.time(), **values)
                .returning(users.c.token_generation, users.c.active)
            ).first()
        if row is None:
            raise AccountError("no_such_user", f"There is no account {username}.")
        return Standing(row.token_generation, row.active)

    def delete(self, username: str) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(users.delete().where(users.c.username == username)).rowcount:
                raise AccountError("no_such_user", f"There is no account {username}.")

    def disable_demo(self) -> builtins.list[str]:  # `list` is a method here
        """Production start: the demo accounts (published password) can no longer sign in."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                users.update()
                .where(users.c.demo, users.c.active)
                .values(active=False, token_generation=users.c.token_generation + 1, changed_at=time.time())
                .returning(users.c.username)
            ).all()
        return sorted(r.username for r in rows)
