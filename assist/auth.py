"""Passwords (argon2) and access tokens (short-lived HS256 JWTs carrying the role)."""
from __future__ import annotations

import time
import uuid
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from signaling.domain.model import Role
from signaling.service import Principal

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of nothing anybody knows, verified when the user does not exist, so a wrong
    username costs the same time as a wrong password (no account enumeration by timing)."""
    return _hasher.hash(uuid.uuid4().hex)


class AuthError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class Tokens:
    ALGORITHM = "HS256"

    def __init__(self, secret: str, ttl_s: int, issuer: str = "assist") -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self.secret = secret
        self.ttl_s = ttl_s
        self.issuer = issuer

    def issue(self, account: dict, now: float | None = None) -> str:
        now = time.time() if now is None else now
        claims = {
            "iss": self.issuer, "sub": account["username"], "role": account["role"],
            "name": account["display_name"], "badge": account.get("badge") or "",
            "langs": list(account.get("languages") or []), "skills": list(account.get("skills") or []),
            "iat": int(now), "exp": int(now + self.ttl_s), "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm=self.ALGORITHM)

    def verify(self, token: object) -> Principal:
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise AuthError("unauthorized", "A valid access token is required.")
        try:
            claims = jwt.decode(token, self.secret, algorithms=[self.ALGORITHM], issuer=self.issuer,
                                options={"require": ["exp", "iat", "sub", "role"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("token_expired", "Your sign-in has expired; please sign in again.") from None
        except jwt.PyJWTError:
            raise AuthError("token_invalid", "The access token is not valid.") from None
        try:
            role = Role(claims["role"])
        except ValueError:
            raise AuthError("token_invalid", "The access token is not valid.") from None
        return Principal(str(claims["sub"]), role, str(claims.get("name", "")), str(claims.get("badge", "")),
                         tuple(claims.get("langs") or ()), tuple(claims.get("skills") or ()))
