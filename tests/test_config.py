"""Settings from the environment: every ASSIST_* variable, its default, and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assist import cli
from assist.config import Config, IceConfig, Settings, SettingsError
from signaling.domain.model import Policy


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No ASSIST_* setting from the machine running the tests."""
    for name in list(os.environ):
        if name.upper().startswith("ASSIST_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_no_variable_is_the_dataclass_defaults():
    assert Config.from_env() == Config()


def test_every_variable_reaches_the_config(clean_env, tmp_path):
    env = {
        "ASSIST_HOST": "0.0.0.0",
        "ASSIST_PORT": "9001",
        "ASSIST_VAR_DIR": str(tmp_path),
        "ASSIST_DATABASE_URL": "postgresql+psycopg://a:b@db/assist",
        "ASSIST_MIGRATE_ON_START": "0",
        "ASSIST_REDIS_URL": "redis://r:6379/0",
        "ASSIST_REDIS_CLUSTER": "yes",
        "ASSIST_REDIS_PREFIX": "x:{t}:",
        "ASSIST_NODE_ID": "n1",
        "ASSIST_RECORDINGS_DIR": "/rec",
        "ASSIST_RECORDING_RETENTION_DAYS": "7",
        "ASSIST_RECORDING_MAX_BYTES": "1000",
        "ASSIST_RECORD_AUDIO": "false",
        "ASSIST_JWT_SECRET": "s" * 40,
        "ASSIST_TOKEN_TTL_S": "60",
        "ASSIST_DEMO": "no",
        "ASSIST_METRICS_TOKEN": "m",
        "ASSIST_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
        "ASSIST_HASH_WORKERS": "2",
        "ASSIST_HASH_QUEUE": "3",
        "ASSIST_OFFER_TIMEOUT_S": "5",
        "ASSIST_GRACE_S": "1.5",
        "ASSIST_QUEUE_CAP": "9",
        "ASSIST_AGENT_CAPACITY": "2",
        "ASSIST_REOFFER_AFTER_S": "4",
        "ASSIST_MAX_WAIT_S": "99",
        "ASSIST_ALERT_SERVICE_LEVEL": "0.9",
        "ASSIST_ALERT_LONGEST_WAIT_S": "30",
        "ASSIST_STUN_URLS": "stun:a:3478",
        "ASSIST_TURN_URLS": "turn:a:3478?transport=udp,turn:a:3478?transport=tcp",
        "ASSIST_TURN_SECRET": "t",
        "ASSIST_TURN_TTL_S": "600",
        "ASSIST_LOG_LEVEL": "warning",
        "ASSIST_VOICE": "off",
        "ASSIST_VOICE_LOOPBACK": "on",
        "ASSIST_VOSK_MODEL_ZH": "/m/zh",
        "ASSIST_VOSK_MODEL_EN": "/m/en",
        "ASSIST_CACHE_DIR": "/cache",
    }
    assert set(env) == {Settings.env_name(name) for name in Settings.model_fields}  # none left out
    for name, value in env.items():
        clean_env.setenv(name, value)
    expected = Config(
        host="0.0.0.0",
        port=9001,
        var_dir=tmp_path,
        database_url="postgresql+psycopg://a:b@db/assist",
        migrate_on_start=False,
        redis_url="redis://r:6379/0",
        redis_cluster=True,
        redis_prefix="x:{t}:",
        node_id="n1",
        recordings_dir=Path("/rec"),
        recording_retention_days=7.0,
        recording_max_bytes=1000,
        record_audio=False,
        jwt_secret="s" * 40,
        token_ttl_s=60,
        demo=False,
        metrics_token="m",
        trusted_proxies=("10.0.0.0/8", "192.168.1.1"),
        hash_workers=2,
        hash_queue=3,
        policy=Policy(
            offer_timeout_s=5.0,
            grace_s=1.5,
            queue_cap=9,
            capacity=2,
            reoffer_after_s=4.0,
            max_wait_s=99.0,
            alert_service_level=0.9,
            alert_longest_wait_s=30.0,
        ),
        ice=IceConfig(
            stun_urls=("stun:a:3478",),
            turn_urls=("turn:a:3478?transport=udp", "turn:a:3478?transport=tcp"),
            turn_secret="t",
            turn_ttl_s=600,
        ),
        log_level="warning",
        voice=False,
        voice_loopback=True,
        vosk_model_zh=Path("/m/zh"),
        vosk_model_en=Path("/m/en"),
        cache_dir=Path("/cache"),
    )
    assert Config.from_env() == expected


@pytest.mark.parametrize(
    "value,expected",
    [("0", False), ("false", False), ("NO", False), ("off", False), ("1", True), ("true", True), ("Yes", True), ("on", True)],
)
def test_booleans(clean_env, value, expected):
    clean_env.setenv("ASSIST_DEMO", value)
    clean_env.setenv("ASSIST_VOICE_LOOPBACK", value)
    config = Config.from_env()
    assert config.demo is expected and config.voice_loopback is expected


def test_an_empty_variable_is_the_default_except_for_text_and_lists(clean_env):
    for name in (
        "ASSIST_PORT",
        "ASSIST_DEMO",
        "ASSIST_VOICE_LOOPBACK",
        "ASSIST_RECORDINGS_DIR",
        "ASSIST_GRACE_S",
        "ASSIST_LOG_LEVEL",
        "ASSIST_TRUSTED_PROXIES",
        "ASSIST_REDIS_PREFIX",
    ):
        clean_env.setenv(name, "")
    config = Config.from_env()
    assert (config.port, config.demo, config.voice_loopback, config.recordings_dir, config.policy.grace_s, config.log_level) == (
        8080,
        True,
        False,
        None,
        30.0,
        "info",
    )
    assert config.trusted_proxies == () and config.redis_prefix == ""  # empty: trust no proxy, no prefix


def test_overrides_from_the_command_line_win(clean_env):
    clean_env.setenv("ASSIST_PORT", "9001")
    assert Config.from_env(port=9002, host=None).port == 9002
    assert Config.from_env(port=None).port == 9001


def test_invalid_values_are_named_together(clean_env):
    clean_env.setenv("ASSIST_PORT", "eighty")
    clean_env.setenv("ASSIST_DEMO", "maybe")
    clean_env.setenv("ASSIST_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
    clean_env.setenv("ASSIST_ALERT_SERVICE_LEVEL", "80")
    clean_env.setenv("ASSIST_LOG_LEVEL", "verbose")
    with pytest.raises(SettingsError) as caught:
        Config.from_env()
    lines = str(caught.value).splitlines()
    assert [line.split("=")[0] for line in lines] == [
        "ASSIST_PORT",
        "ASSIST_DEMO",
        "ASSIST_TRUSTED_PROXIES",
        "ASSIST_ALERT_SERVICE_LEVEL",
        "ASSIST_LOG_LEVEL",
    ]
    assert "'eighty'" in lines[0] and "'proxy.internal' is not an address or a network" in lines[2]


@pytest.mark.parametrize("prefix", ["assist:{}:", "assist:{prod:", "assist:{}prod}:"])
def test_a_redis_prefix_with_braces_must_hold_a_hash_tag(clean_env, prefix):
    clean_env.setenv("ASSIST_REDIS_PREFIX", prefix)
    error = str(pytest.raises(SettingsError, Config.from_env).value)
    assert error.startswith("ASSIST_REDIS_PREFIX=") and "hash tag" in error


def test_a_redis_prefix_with_a_hash_tag_is_taken(clean_env):
    clean_env.setenv("ASSIST_REDIS_PREFIX", "assist:{prod}:")
    assert Config.from_env().redis_prefix == "assist:{prod}:"


@pytest.mark.parametrize("prefix", ["assist:", "assist:prod}:"])
def test_on_a_redis_cluster_the_prefix_must_have_a_hash_tag(clean_env, prefix):
    """Untagged, the keys scatter over the shards and every multi-key script fails (CROSSSLOT)
    once the node runs: the start is refused instead, naming the prefix and why."""
    clean_env.setenv("ASSIST_REDIS_CLUSTER", "true")
    clean_env.setenv("ASSIST_REDIS_PREFIX", prefix)
    error = str(pytest.raises(SettingsError, Config.from_env).value)
    assert error.startswith(f"ASSIST_REDIS_PREFIX={prefix!r}: ") and "ASSIST_REDIS_CLUSTER" in error, error
    assert "hash tag" in error
    clean_env.setenv("ASSIST_REDIS_CLUSTER", "false")  # the same prefix on one Redis is fine
    assert Config.from_env().redis_prefix == prefix


def test_on_a_redis_cluster_a_tagged_prefix_is_taken(clean_env):
    clean_env.setenv("ASSIST_REDIS_CLUSTER", "1")
    clean_env.setenv("ASSIST_REDIS_PREFIX", "assist:{prod}:")
    config = Config.from_env()
    assert config.redis_cluster and config.redis_prefix == "assist:{prod}:"


def test_a_secret_is_never_repeated_in_an_error(clean_env):
    clean_env.setenv("ASSIST_DATABASE_URL", "postgresql+psycopg://assist:hunter2@db/assist")
    clean_env.setenv("ASSIST_PORT", "x")
    error = str(pytest.raises(SettingsError, Config.from_env).value)
    assert "hunter2" not in error and "ASSIST_PORT='x'" in error


def test_the_command_stops_at_an_invalid_setting_with_its_name(clean_env, capsys, tmp_path):
    clean_env.setenv("ASSIST_VAR_DIR", str(tmp_path))
    clean_env.setenv("ASSIST_MIGRATE_ON_START", "sometimes")
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "ASSIST_MIGRATE_ON_START='sometimes'" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # stopped before touching anything
