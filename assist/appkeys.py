"""The application's parts, by key: the composition root (assist.server) stores them, the HTTP
routes (http_api, recordings_api, guest, and the demo bank's) read them.

A leaf: it imports no part of Assist at run time (the types are for the type checker only), so
any module may import it at the top without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from demo_bank.store import BankStore
    from signaling.service import Principal, SignalingService
    from signaling.sio import SignalingAdapter
    from voice.gateway import VoiceGateway

    from .accounts import AccountStore
    from .auth import Authenticator, PasswordPool, Revocations, Tokens
    from .config import Config
    from .metrics import Metrics
    from .storage.call_audio import CallAudio
    from .storage.recordings import RecordingStore
    from .storage.sql import SqlRecords
    from .throttle import SignInThrottle

CONFIG: web.AppKey[Config] = web.AppKey("config")
TOKENS: web.AppKey[Tokens] = web.AppKey("tokens")
AUTH: web.AppKey[Authenticator[Principal]] = web.AppKey("auth")
ACCOUNTS: web.AppKey[AccountStore] = web.AppKey("accounts")
PASSWORDS: web.AppKey[PasswordPool] = web.AppKey("passwords")
REVOCATIONS: web.AppKey[Revocations] = web.AppKey("revocations")
THROTTLE: web.AppKey[SignInThrottle] = web.AppKey("throttle")
RECORDS: web.AppKey[SqlRecords] = web.AppKey("records")
RECORDINGS: web.AppKey[RecordingStore] = web.AppKey("recordings")
SERVICE: web.AppKey[SignalingService] = web.AppKey("service")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
ADAPTER: web.AppKey[SignalingAdapter] = web.AppKey("adapter")
VOICE: web.AppKey[VoiceGateway | None] = web.AppKey("voice")  # None: the voice assistant is off
CALL_AUDIO: web.AppKey[CallAudio | None] = web.AppKey("call_audio")  # None: call audio is not recorded
BANK: web.AppKey[BankStore] = web.AppKey("bank")
