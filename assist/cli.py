"""The `assist` command: serve, voice and the other operator commands."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _serve(args: argparse.Namespace) -> int:
    from assist.config import Config
    from assist.server import serve

    config = Config.from_env(port=args.port, host=args.host)
    serve(config)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from assist import migrations
    from assist.config import Config

    config = Config.from_env()
    config.var_dir.mkdir(parents=True, exist_ok=True)  # the SQLite file lives there
    engine = sa.create_engine(config.resolved_database_url())
    try:
        print(migrations.upgrade(engine).describe(), flush=True)
    finally:
        engine.dispose()
    return 0


def _users(args: argparse.Namespace) -> int:
    """`assist users …`: real accounts from the command line (so production needs no demo)."""
    import getpass
    import time

    import sqlalchemy as sa

    from assist import migrations
    from assist.accounts import AccountError, AccountStore, check_new_password
    from assist.auth import hash_password
    from assist.config import Config
    from assist.demo import DEMO_PASSWORD

    def new_password() -> str:
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"New password for {args.username}: ")
            if getpass.getpass("Again: ") != password:
                raise AccountError("mismatch", "The two passwords differ.")
        check_new_password(args.username, password, forbidden=(DEMO_PASSWORD,))
        return hash_password(password)

    config = Config.from_env()
    config.var_dir.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(config.resolved_database_url())
    try:
        migrations.upgrade(engine) if config.migrate_on_start else migrations.check(engine)
        store = AccountStore(engine)
        if args.action == "list":
            for row in store.list():
                state = "active" if row["active"] else "disabled"
                print(f"{row['username']}\t{row['role']}\t{state}{' (demo)' if row['demo'] else ''}\t{row['display_name']}")
            return 0
        if args.action == "add":
            store.add(
                args.username,
                args.role,
                args.name or args.username,
                new_password(),
                badge=args.badge,
                languages=tuple(filter(None, args.languages.split(","))),
                skills=tuple(filter(None, args.skills.split(","))),
            )
            print(f"added {args.username} ({args.role})")
            return 0
        changes: dict[str, Any] = {"disable": {"active": False}, "enable": {"active": True}}.get(args.action, {})
        if args.action == "reset-password":
            changes = {"password_hash": new_password()}
        elif args.action == "set-role":
            changes = {"role": args.role}
        if args.action == "delete":
            changes = {"active": False}
        standing = store.bump(args.username, **changes)
        _announce(config, args.username, standing)
        if args.action == "delete":
            # Signed out everywhere first (the nodes poll for changes twice a second), then gone.
            time.sleep(1.5)
            store.delete(args.username)
        print(f"{args.action}: {args.username}; every token issued before is refused from now on")
        return 0
    except AccountError as exc:
        print(f"assist users {args.action}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _announce(config, username: str, standing) -> None:
    """Scaled out, tell the nodes now (they would otherwise notice within a second anyway)."""
    if not config.redis_url:
        return
    import redis

    from .redis_client import sync_client

    # On a cluster PUBLISH reaches the subscribers on every one of its nodes, whichever takes it.
    client = sync_client(config.redis_url, config.redis_cluster, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.publish(f"{config.redis_prefix}revoked", f"{standing.generation}:{int(standing.active)}:{username}")
    except redis.RedisError:
        pass  # the nodes' poll of the database carries it
    finally:
        client.close()


def build_parser(voice_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assist", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service (embedded mode by default)")
    serve.add_argument("--port", type=int, default=None, help="TCP port (default 8080)")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser(
        "migrate",
        help="bring the database schema to the newest revision "
        "(ASSIST_DATABASE_URL; safe to run again, and from several nodes at once)",
    )
    migrate.set_defaults(func=_migrate)

    users = sub.add_parser("users", help="manage accounts: add, disable, enable, reset-password, set-role, delete, list")
    actions = users.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every account, its role and whether it may sign in")
    roles = ("customer", "agent", "supervisor")
    for name, text in (
        ("add", "a new account (asks for its password)"),
        ("disable", "refuse sign-in and every token of the account, at once"),
        ("enable", "let a disabled account sign in again"),
        ("reset-password", "a new password (every token issued before is refused)"),
        ("set-role", "another role (every token issued before is refused)"),
        ("delete", "sign the account out everywhere, then remove it"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("username")
        if name in ("add", "set-role"):
            action.add_argument("--role", choices=roles, required=True)
        if name in ("add", "reset-password"):
            action.add_argument(
                "--password-stdin", action="store_true", help="read the password from the first line of standard input"
            )
        if name == "add":
            action.add_argument("--name", default="", help="display name (default: the username)")
            action.add_argument("--badge", default="", help="an agent's badge number")
            action.add_argument("--languages", default="zh", help="comma-separated, e.g. zh,en")
            action.add_argument("--skills", default="", help="comma-separated, e.g. elderly_care")
    users.set_defaults(func=_users)

    # Voice commands live with the voice package; imported lazily so `serve` does not load
    # models, and only for `assist voice …`: importing the speech stack took 1.3 s of every
    # `assist users …` an operator runs.
    voice = sub.add_parser("voice", help="offline speech recognition and intents")
    voice.set_defaults(func=_voice_help(voice))
    if not voice_commands:
        return parser
    try:
        from voice.cli import register
    except ImportError:  # the voice package is optional at this layer
        pass
    else:
        register(voice)
    return parser


def _voice_help(parser: argparse.ArgumentParser):
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def main(argv: list[str] | None = None) -> int:
    from assist.config import Config, SettingsError

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(voice_commands=argv[:1] == ["voice"]).parse_args(argv)
    try:
        if args.command == "voice":  # the speech models' settings, read here like every other
            from voice.models import ModelSources, SpeechModels

            config = Config.from_env()
            args.models = SpeechModels(ModelSources(config.cache_dir, config.vosk_models()))
        return int(args.func(args) or 0)
    except SettingsError as exc:  # named, without a traceback: the operator fixes the variable
        lines = str(exc).splitlines()
        print(f"assist: invalid setting{'s' if len(lines) > 1 else ''} in the environment:", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
