"""Alembic's environment. assist.migrations runs it with an open connection (holding the
PostgreSQL advisory lock, inside one transaction); `alembic -x url=…` from a shell also works
for authoring revisions (`alembic -c assist/migrations/alembic.ini -x url=sqlite:///x.db
revision --autogenerate -m "…"`)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from assist.migrations import target_metadata

config = context.config


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata(),
        # SQLite cannot ALTER most things in place: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Assist's migrations run against a database (assist migrate), not as SQL scripts.")

connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("Assist's migrations need a database: a connection, -x url=… or sqlalchemy.url.")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        run(conn)
    engine.dispose()
