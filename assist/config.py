"""Settings: defaults for embedded mode, overridden by ASSIST_* environment variables.

Embedded (the default) needs nothing outside this process: live state in memory, records in
SQLite under var/. `Config` is what the code uses; every field is also a constructor argument,
so tests build configs directly. `Settings` is the one place the environment is read: the
composition root (the CLI) turns it into a `Config` with `Config.from_env()`, and an invalid
value stops the start with an error naming its variable. The tables of settings in README.md
and docs/deploy.md are generated from `Settings` (`python -m assist.settings_doc --write`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as _SourceError

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
    redis_cluster: bool = False  # redis_url is a node of a Redis Cluster: the cluster client (assist.redis_client)
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
    # Where the speech models come from (voice/models.py): an unpacked Vosk model per language
    # (None: the cache, then ../shared/models, then the download), and the cache itself.
    vosk_model_zh: Path | None = None
    vosk_model_en: Path | None = None
    cache_dir: Path = REPO_ROOT / "var" / "models"

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        """The settings in the environment (`Settings`), then `overrides` (None: not given).

        Raises SettingsError, naming each variable whose value cannot be used."""
        config = Settings.from_environment().config()
        return replace(config, **{k: v for k, v in overrides.items() if v is not None})

    def vosk_models(self) -> dict[str, Path | None]:
        """The explicit Vosk model directory per language (voice.models.ModelSources)."""
        return {"zh": self.vosk_model_zh, "en": self.vosk_model_en}

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


ENV_PREFIX = "ASSIST_"
# Settings whose value is never repeated in an error message (passwords live in the URLs).
SECRET_SETTINGS = frozenset({"jwt_secret", "metrics_token", "turn_secret", "database_url", "redis_url"})
# Settings that go to Policy (the field's name there, when it differs) and to IceConfig.
_POLICY_FIELDS = {
    "offer_timeout_s": "offer_timeout_s",
    "grace_s": "grace_s",
    "queue_cap": "queue_cap",
    "agent_capacity": "capacity",
    "reoffer_after_s": "reoffer_after_s",
    "max_wait_s": "max_wait_s",
    "alert_service_level": "alert_service_level",
    "alert_longest_wait_s": "alert_longest_wait_s",
}
_ICE_FIELDS = ("stun_urls", "turn_urls", "turn_secret", "turn_ttl_s")
_C, _P, _I = Config(), Policy(), IceConfig()  # the defaults are the dataclasses' own

CommaList = Annotated[tuple[str, ...], NoDecode]  # `a,b,c`: never parsed as JSON


class SettingsError(ValueError):
    """A setting in the environment cannot be used; the message names each such variable."""


class Settings(BaseSettings):
    """Every setting read from the environment: `ASSIST_` + the field's name in capitals.

    Booleans take 1/0, true/false, yes/no, on/off. An empty variable counts as unset (the
    default), except for text and lists, where empty is the value itself. Each description
    is the settings table's text (README.md, docs/deploy.md), so it is written for operators.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

    host: str = Field(default=_C.host, description="bind address (`assist serve --host` overrides)")
    port: int = Field(default=_C.port, ge=0, le=65535, description="HTTP port (`assist serve --port` overrides)")
    var_dir: Path = Field(
        default=_C.var_dir,
        description="local state: the SQLite file, the generated JWT secret and "
        "metrics token, and the recordings unless `ASSIST_RECORDINGS_DIR` is set",
    )
    database_url: str = Field(
        default=_C.database_url,
        description="records database; empty: SQLite `assist.db` in "
        "`ASSIST_VAR_DIR`; scaled out `postgresql+psycopg://assist:PASSWORD@postgres:5432/assist`",
    )
    migrate_on_start: bool = Field(
        default=_C.migrate_on_start,
        description="bring the database schema up to date at start; `0`: start only checks it, and `assist migrate` upgrades it",
    )
    redis_url: str = Field(
        default=_C.redis_url,
        description="empty: embedded, live state in this process; scaled out `redis://redis:6379/0`, the same on every node",
    )
    # Before the prefix: the prefix's check (_hash_tag) reads it.
    redis_cluster: bool = Field(
        default=_C.redis_cluster,
        description="`1`: `ASSIST_REDIS_URL` is a node of a Redis Cluster (any one; the others are found from it), "
        "and `ASSIST_REDIS_PREFIX` must have a hash tag",
    )
    redis_prefix: str = Field(
        default=_C.redis_prefix,
        description="prefix of every Redis key and channel (several deployments on one Redis); "
        "Redis Cluster: with a hash tag, `assist:{prod}:`",
    )
    node_id: str = Field(
        default=_C.node_id,
        description="this node's name, unique per node, and the sticky-session cookie's value; empty: host name and process id",
    )
    recordings_dir: Path | None = Field(
        default=_C.recordings_dir,
        description="recording blobs; unset: `recordings/` in `ASSIST_VAR_DIR`; scaled out, one directory shared by every node",
    )
    recording_retention_days: float = Field(
        default=_C.recording_retention_days, gt=0, description="recordings past this age in days are deleted (checked hourly)"
    )
    recording_max_bytes: int = Field(
        default=_C.recording_max_bytes,
        gt=0,
        description="a session's recording (per node) stops with a `capped` mark past this many bytes",
    )
    record_audio: bool = Field(
        default=_C.record_audio,
        description="record the call's audio with the session's mirror (`docs/recordings.md`); `0`: mirror and annotations only",
    )
    jwt_secret: str = Field(
        default=_C.jwt_secret,
        description="token signing key; empty: generated once into "
        "`jwt-secret` in `ASSIST_VAR_DIR`; scaled out it must be set, and equal, on every node",
    )
    token_ttl_s: int = Field(default=_C.token_ttl_s, gt=0, description="access token lifetime in seconds (the app refreshes it)")
    demo: bool = Field(
        default=_C.demo,
        description="seed the demo accounts; `0` in production: the demo accounts are "
        "disabled at start, demo tokens and the demo password refused (`docs/security.md`)",
    )
    metrics_token: str = Field(
        default=_C.metrics_token,
        description="`/metrics` answers only `Authorization: Bearer "
        "<token>`; empty: generated once into `metrics-token` in `ASSIST_VAR_DIR`; "
        "scaled out, set it (Prometheus presents it)",
    )
    trusted_proxies: CommaList = Field(
        default=_C.trusted_proxies,
        description="comma-separated addresses or networks "
        "of the proxies whose `X-Forwarded-For` names the client (sign-in "
        "throttling counts per client address); empty: none",
    )
    hash_workers: int = Field(
        default=_C.hash_workers, ge=1, description="threads verifying passwords (argon2 itself uses several cores per hash)"
    )
    hash_queue: int = Field(
        default=_C.hash_queue,
        ge=0,
        description="sign-ins waiting for a hash thread (a few "
        "seconds of hashing at most); beyond it `503 busy` with `Retry-After: 1`",
    )
    offer_timeout_s: float = Field(
        default=_P.offer_timeout_s, gt=0, description="seconds an agent has to accept an offered request"
    )
    grace_s: float = Field(
        default=_P.grace_s,
        ge=0,
        description="seconds a disconnected user's queue place or session is kept (the reconnect window)",
    )
    queue_cap: int = Field(default=_P.queue_cap, ge=0, description="live requests beyond which new ones get `queue_full`")
    agent_capacity: int = Field(default=_P.capacity, ge=1, description="sessions per agent at once")
    reoffer_after_s: float = Field(
        default=_P.reoffer_after_s,
        ge=0,
        description="seconds before a request an agent "
        "declined or let ring may be offered to them again (when nobody else can "
        "take it)",
    )
    max_wait_s: float = Field(
        default=_P.max_wait_s,
        gt=0,
        description="seconds of waiting after which the customer is offered a callback or the hotline",
    )
    alert_service_level: float = Field(
        default=_P.alert_service_level,
        ge=0,
        le=1,
        description="the wall turns the service level red and raises an alert below this share (`docker/alerts.yml` must agree)",
    )
    alert_longest_wait_s: float = Field(
        default=_P.alert_longest_wait_s,
        gt=0,
        description="the wall alerts when a customer has waited longer than this many seconds (also in `docker/alerts.yml`)",
    )
    stun_urls: CommaList = Field(default=_I.stun_urls, description="comma-separated `stun:` URLs for `ice_servers`")
    turn_urls: CommaList = Field(
        default=_I.turn_urls,
        description="comma-separated `turn:`/`turns:` URLs; given to clients only together with `ASSIST_TURN_SECRET`",
    )
    turn_secret: str = Field(default=_I.turn_secret, description="coturn's `static-auth-secret`; never sent to clients")
    turn_ttl_s: int = Field(
        default=_I.turn_ttl_s, gt=0, description="lifetime in seconds of a minted TURN credential (never past the caller's token)"
    )
    log_level: str = Field(
        default=_C.log_level,
        description="structured JSON logs on stderr from this level: `debug`, `info`, `warning`, `error`, `critical`",
    )
    voice: bool = Field(default=_C.voice, description="the offline voice assistant (loads the speech models at start)")
    voice_loopback: bool = Field(
        default=_C.voice_loopback, description="tests only: offer only 127.0.0.1 ICE candidates for voice and call audio"
    )
    vosk_model_zh: Path | None = Field(
        default=_C.vosk_model_zh,
        description="an unpacked Mandarin Vosk model directory; unset: the cache, then `../shared/models`, then the download",
    )
    vosk_model_en: Path | None = Field(
        default=_C.vosk_model_en,
        description="an unpacked English Vosk model directory; unset: the cache, then `../shared/models`, else PocketSphinx",
    )
    cache_dir: Path = Field(default=_C.cache_dir, description="where speech models are unpacked or downloaded")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings  # the process's environment only: no .env or secrets files

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        spec = cls.model_fields[info.field_name or ""]
        if value == "" and (spec.annotation not in (str, tuple[str, ...]) or info.field_name == "log_level"):
            return spec.default
        return value

    @field_validator("trusted_proxies", "stun_urls", "turn_urls", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, entries: tuple[str, ...]) -> tuple[str, ...]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an address or a network") from None
        return entries

    @field_validator("redis_prefix")
    @classmethod
    def _hash_tag(cls, prefix: str, info: ValidationInfo) -> str:
        """Braces in the prefix are Redis Cluster's hash tag (every key of the deployment in one
        slot): a `{` must open a non-empty tag, or the keys would scatter over the shards. On a
        cluster the tag is required: without it every script touching several keys is refused
        (CROSSSLOT) once the node runs, so the start is refused instead."""
        opened = prefix.find("{")
        if opened >= 0 and prefix.find("}", opened + 1) <= opened + 1:
            raise ValueError(f"{prefix!r}: a hash tag is `{{name}}`, closed and not empty (e.g. `assist:{{prod}}:`)")
        if opened < 0 and info.data.get("redis_cluster"):
            raise ValueError(
                f"{prefix!r}: with ASSIST_REDIS_CLUSTER every key must be in one slot, so the prefix "
                f"needs a hash tag `{{name}}` (e.g. `assist:{{prod}}:`)"
            )
        return prefix

    @field_validator("log_level")
    @classmethod
    def _level(cls, level: str) -> str:
        if level.upper() not in logging.getLevelNamesMapping():
            raise ValueError(f"{level!r} is not a log level (debug, info, warning, error, critical)")
        return level

    @classmethod
    def env_name(cls, field_name: str) -> str:
        return ENV_PREFIX + field_name.upper()

    @classmethod
    def from_environment(cls) -> Settings:
        """The settings in this process's environment; SettingsError names every unusable one."""
        try:
            return cls()
        except ValidationError as exc:
            raise SettingsError("\n".join(_explain(error) for error in exc.errors())) from None
        except _SourceError as exc:
            raise SettingsError(str(exc)) from None

    def config(self) -> Config:
        values = self.model_dump()
        policy = replace(_P, **{attr: values.pop(name) for name, attr in _POLICY_FIELDS.items()})
        ice = IceConfig(**{name: values.pop(name) for name in _ICE_FIELDS})
        return Config(**values, policy=policy, ice=ice)


def _explain(error: Any) -> str:
    name = str(error["loc"][0]) if error["loc"] else ""
    message = error["msg"].removeprefix("Value error, ")
    value = "" if name in SECRET_SETTINGS else f"={error['input']!r}"
    return f"{Settings.env_name(name)}{value}: {message}"
