"""The database schema, owned by Alembic: every table is created and changed by a revision in
versions/, on SQLite (embedded) and PostgreSQL (scaled out) alike.

`upgrade(engine)` brings a database to the newest revision. It runs at start (unless the
`migrate_on_start` setting is off) and as `assist migrate`. Several nodes may start at once
against one PostgreSQL: the upgrade runs in one transaction that first takes an advisory lock,
so one node migrates and the others wait, then find nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

HERE = Path(__file__).resolve().parent
BASELINE = "0001"  # the schema that create_all() made before migrations existed
# Any constant bigint shared by every node: pg_advisory_xact_lock(LOCK_KEY) serializes migrations.
LOCK_KEY = int.from_bytes(b"assistdb", "big") & 0x7FFF_FFFF_FFFF_FFFF


def target_metadata() -> sa.MetaData:
    """Every table the code knows, for autogenerate and schema comparisons."""
    from assist.storage import recordings as _recordings  # noqa: F401
    from assist.storage.sql import metadata
    from demo_bank import tables as _bank  # noqa: F401  (registers on the shared metadata)

    return metadata


def alembic_config(connection: sa.Connection | None = None) -> AlembicConfig:
    """Configured in code, so it works from an installed package without an alembic.ini."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "the package ships its migrations"
    return revision


def current(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass(frozen=True)
class Outcome:
    database: str  # the URL without its password
    before: str | None
    after: str
    applied: tuple[str, ...]  # "0002 (record upserts)", oldest first
    adopted: bool  # tables made by create_all() before migrations existed, stamped BASELINE

    def describe(self) -> str:
        lines = []
        if self.adopted:
            lines.append(f"{self.database}: existing tables adopted as revision {BASELINE}")
        if self.applied:
            lines.append(f"{self.database}: upgraded {self.before or 'empty'} -> {self.after}")
            lines += [f"  applied {rev}" for rev in self.applied]
        else:
            lines.append(f"{self.database}: already at {self.after} (head), nothing to do")
        return "\n".join(lines)


def upgrade(engine: sa.Engine) -> Outcome:
    """Bring the database to the newest revision (safe to run from several nodes at once)."""
    script = ScriptDirectory.from_config(alembic_config())
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held until this transaction ends, i.e. until the new schema is committed.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        config = alembic_config(conn)
        before = MigrationContext.configure(conn).get_current_revision()
        adopted = before is None and sa.inspect(conn).has_table("help_requests")
        if adopted:
            command.stamp(config, BASELINE)
            before = BASELINE
        command.upgrade(config, "head")
        after = MigrationContext.configure(conn).get_current_revision()
        assert after is not None, "upgraded to the head revision"
    applied = [] if after == before else list(script.iterate_revisions(after, before))
    return Outcome(
        database=engine.url.render_as_string(hide_password=True),
        before=before,
        after=after,
        adopted=adopted,
        applied=tuple(f"{rev.revision} ({rev.doc})" for rev in reversed(applied)),
    )


def check(engine: sa.Engine) -> None:
    """With migrations off at start: refuse to run on a schema that is not the newest."""
    found, wanted = current(engine), head()
    if found != wanted:
        raise RuntimeError(f"database schema is at {found or 'nothing'}, this version needs {wanted}: run `assist migrate` first")
