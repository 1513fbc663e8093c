"""Settings: defaults for embedded mode, overridden by ASSIST_* environment variables.

Embedded (the default) needs nothing outside this process: live state in memory, records in
SQLite under var/. Every setting is also a constructor argument, so tests build configs directly.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from signaling.domain.model import Policy

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Limits:
    control_bytes: int = 16_384  # one control event's JSON
    relay_bytes: int = 600_000  # one mirror batch (a full rrweb snapshot is sent in chunks)
    control_rate: float = 20.0  # events per second per socket, sustained …
    control_burst: float = 40.0  # … and in a burst
    relay_rate: float = 200.0
    relay_burst: float = 400.0
    # Relays in bytes per socket: a phone's page changes need far less; a flood of allowed-size
    # batches is refused instead of filling every agent's and supervisor's memory.
    relay_bytes_rate: float = 1_000_000.0
    relay_bytes_burst: float = 8_000_000.0
    http_buffer_bytes: int = 1_000_000  # engine.io drops a socket sending more in one packet


@dataclass(frozen=True)
class IceConfig:
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""  # coturn `static-auth-secret` (use-auth-secret / TURN REST API)
    turn_ttl_s: int = 3600  # capped by what is left of the caller's access token


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    var_dir: Path = REPO_ROOT / "var"
    database_url: str = ""  # empty: SQLite in var_dir; postgresql+psycopg://… when scaled out
    migrate_on_start: bool = True  # off: `assist migrate` upgrades the schema, and start only checks it
    # Scale-out: live state (queue, presence, sessions) in this Redis, shared by every node.
    redis_url: str = ""  # empty: embedded, in this process's memory
    redis_prefix: str = "assist:"  # every key and channel name starts with it (one Redis, many deployments)
    node_id: str = ""  # empty: host name and process id (unique per running node)
    recordings_dir: Path | None = None  # None: var_dir/recordings (a shared volume when scaled out)
    jwt_secret: str = ""  # empty: generated once and kept in var_dir
    token_ttl_s: int = 900
    demo: bool = True  # seed the demo accounts; a production config turns this off (and disables them)
    # /metrics answers only `Authorization: Bearer <this>`; empty: generated once and kept in var_dir.
    metrics_token: str = ""
    # Addresses of the reverse proxies (nginx) whose X-Forwarded-For names the real client;
    # sign-in throttling counts per client address.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    hash_workers: int = 1  # threads verifying passwords (argon2 uses several cores per hash)
    hash_queue: int = 16  # sign-ins waiting for a hash thread (~0.2 s each); beyond it: 503, try again
    policy: Policy = field(default_factory=Policy)
    limits: Limits = field(default_factory=Limits)
    ice: IceConfig = field(default_factory=IceConfig)
    tick_s: float = 0.2
    log_level: str = "info"
    recording_retention_days: float = 90.0
    recording_max_bytes: int = 50_000_000  # per session and node; past it the recording stops with a mark
    record_audio: bool = True  # the call's audio in the recording (the consent text says so)
    voice: bool = True  # the offline voice assistant (loads the speech models at start)
    voice_loopback: bool = False  # offer only 127.0.0.1 ICE candidates (tests on loopback-only hosts)
    voice_max_utterance_ms: int = 15_000  # the hard cap on one utterance

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Config:
        env = dict(os.environ if env is None else env)
        base = cls()
        policy = replace(
            base.policy,
            offer_timeout_s=float(env.get("ASSIST_OFFER_TIMEOUT_S", base.policy.offer_timeout_s)),
            grace_s=float(env.get("ASSIST_GRACE_S", base.policy.grace_s)),
            queue_cap=int(env.get("ASSIST_QUEUE_CAP", base.policy.queue_cap)),
            capacity=int(env.get("ASSIST_AGENT_CAPACITY", base.policy.capacity)),
            reoffer_after_s=float(env.get("ASSIST_REOFFER_AFTER_S", base.policy.reoffer_after_s)),
            max_wait_s=float(env.get("ASSIST_MAX_WAIT_S", base.policy.max_wait_s)),
            # The wall's alert bounds (docker/alerts.yml holds the same for Prometheus).
            alert_service_level=float(env.get("ASSIST_ALERT_SERVICE_LEVEL", base.policy.alert_service_level)),
            alert_longest_wait_s=float(env.get("ASSIST_ALERT_LONGEST_WAIT_S", base.policy.alert_longest_wait_s)),
        )
        ice = IceConfig(
            stun_urls=_split(env.get("ASSIST_STUN_URLS", "")),
            turn_urls=_split(env.get("ASSIST_TURN_URLS", "")),
            turn_secret=env.get("ASSIST_TURN_SECRET", ""),
            turn_ttl_s=int(env.get("ASSIST_TURN_TTL_S", base.ice.turn_ttl_s)),
        )
        values: dict[str, Any] = dict(
            host=env.get("ASSIST_HOST", base.host),
            port=int(env.get("ASSIST_PORT", base.port)),
            var_dir=Path(env.get("ASSIST_VAR_DIR", base.var_dir)),
            database_url=env.get("ASSIST_DATABASE_URL", ""),
            migrate_on_start=env.get("ASSIST_MIGRATE_ON_START", "1").lower() not in ("0", "false", "no", "off"),
            redis_url=env.get("ASSIST_REDIS_URL", ""),
            redis_prefix=env.get("ASSIST_REDIS_PREFIX", base.redis_prefix),
            node_id=env.get("ASSIST_NODE_ID", ""),
            recordings_dir=Path(env["ASSIST_RECORDINGS_DIR"]) if env.get("ASSIST_RECORDINGS_DIR") else None,
            jwt_secret=env.get("ASSIST_JWT_SECRET", ""),
            token_ttl_s=int(env.get("ASSIST_TOKEN_TTL_S", base.token_ttl_s)),
            demo=env.get("ASSIST_DEMO", "1").lower() not in ("0", "false", "no", "off"),
            metrics_token=env.get("ASSIST_METRICS_TOKEN", ""),
            trusted_proxies=_networks(env["ASSIST_TRUSTED_PROXIES"]) if "ASSIST_TRUSTED_PROXIES" in env
            else base.trusted_proxies,
            hash_workers=int(env.get("ASSIST_HASH_WORKERS", base.hash_workers)),
            hash_queue=int(env.get("ASSIST_HASH_QUEUE", base.hash_queue)),
            policy=policy,
            ice=ice,
            log_level=env.get("ASSIST_LOG_LEVEL", base.log_level),
            recording_retention_days=float(env.get("ASSIST_RECORDING_RETENTION_DAYS",
                                                   base.recording_retention_days)),
            recording_max_bytes=int(env.get("ASSIST_RECORDING_MAX_BYTES", base.recording_max_bytes)),
            record_audio=env.get("ASSIST_RECORD_AUDIO", "1").lower() not in ("0", "false", "no", "off"),
            voice=env.get("ASSIST_VOICE", "1").lower() not in ("0", "false", "no", "off"),
            voice_loopback=env.get("ASSIST_VOICE_LOOPBACK", "0").lower() in ("1", "true", "yes", "on"),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'assist.db'}"

    def resolved_recordings_dir(self) -> Path:
        return self.recordings_dir or self.var_dir / "recordings"

    def resolved_node_id(self) -> str:
        return self.node_id or f"{socket.gethostname()}-{os.getpid()}"

    def resolved_jwt_secret(self) -> str:
        """The configured secret, or one generated on first start and kept (0600) in var/."""
        return self.jwt_secret or self._kept_secret("jwt-secret")

    def resolved_metrics_token(self) -> str:
        return self.metrics_token or self._kept_secret("metrics-token")

    def _kept_secret(self, name: str) -> str:
        path = self.var_dir / name
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _networks(value: str) -> tuple[str, ...]:
    """ASSIST_TRUSTED_PROXIES: addresses or networks; anything else stops the start, named."""
    entries = _split(value)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"ASSIST_TRUSTED_PROXIES: {entry!r} is not an address or a network") from None
    return entries
