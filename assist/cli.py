"""The `assist` command: serve, voice and the other operator commands."""
from __future__ import annotations

import argparse
import sys


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assist", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service (embedded mode by default)")
    serve.add_argument("--port", type=int, default=None, help="TCP port (default 8080)")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="bring the database schema to the newest revision "
                             "(ASSIST_DATABASE_URL; safe to run again, and from several nodes at once)")
    migrate.set_defaults(func=_migrate)

    # Voice commands live with the voice package; imported lazily so `serve` does not load models.
    voice = sub.add_parser("voice", help="offline speech recognition and intents")
    voice.set_defaults(func=_voice_help(voice))
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
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
