"""Records on a real PostgreSQL: migrations, a recorded help flow, two nodes writing one request,
and an outage in the middle of a session. (The bank on PostgreSQL: tests/bank/test_api.py.)"""

from __future__ import annotations

import asyncio
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from assist import migrations
from assist.storage.sql import SqlRecords, help_requests
from signaling.domain.notices import RecordUpdate
from tests.servers.common import free_port
from tests.servers.fixtures import running_postgres
from tests.signaling.test_flow import HELP

ASSIST = Path(sys.executable).with_name("assist")
TABLES = {
    "alembic_version",
    "users",
    "help_requests",
    "request_events",
    "recordings",
    "recording_views",
    "bank_accounts",
    "bank_payees",
    "bank_transfers",
    "bank_transactions",
}


def assist_migrate(url: str, tmp_path: Path) -> subprocess.Popen:
    env = os.environ | {"ASSIST_DATABASE_URL": url, "ASSIST_VAR_DIR": str(tmp_path)}
    return subprocess.Popen([str(ASSIST), "migrate"], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finished(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


# ---------------------------------------------------------------------------- migrations
def test_assist_migrate_creates_the_schema_once_even_from_three_nodes_at_once(postgres, tmp_path):
    url = postgres.url()
    # Three nodes upgrading one empty database at the same moment: the advisory lock lets one
    # create the schema; the others wait for it and find nothing left to do.
    outputs = [finished(p) for p in [assist_migrate(url, tmp_path) for _ in range(3)]]
    upgraded = [o for o in outputs if "upgraded empty -> " in o]
    assert len(upgraded) == 1, outputs
    assert f"applied {migrations.head()} " in upgraded[0]
    assert sum("nothing to do" in o for o in outputs) == 2, outputs
    assert "nothing to do" in finished(assist_migrate(url, tmp_path))

    engine = sa.create_engine(url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == TABLES
        assert migrations.current(engine) == migrations.head()
        with engine.connect() as conn:  # exactly what the code's metadata describes
            assert compare_metadata(MigrationContext.configure(conn), migrations.target_metadata()) == []
    finally:
        engine.dispose()


def test_with_migrations_off_at_start_an_old_schema_is_refused(postgres):
    url = postgres.url()
    records = SqlRecords(url)
    try:
        with pytest.raises(RuntimeError, match="assist migrate"):
            records.create_schema(migrate=False)  # ASSIST_MIGRATE_ON_START=0 on an empty database
        assert records.create_schema().after == migrations.head()
        assert records.create_schema(migrate=False) is None  # now it starts
    finally:
        records.engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_database_made_before_migrations_is_adopted(database, postgres, tmp_path):
    url = postgres.url() if database == "postgresql" else f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    try:
        # What create_all() made before migrations existed: revision 0001's tables, unversioned.
        with engine.begin() as conn:
            command.upgrade(migrations.alembic_config(conn), migrations.BASELINE)
            conn.execute(sa.text("DROP TABLE alembic_version"))
            conn.execute(sa.text("INSERT INTO help_requests (request_id, status) VALUES ('r-old', 'served')"))
        outcome = migrations.upgrade(engine)
        assert outcome.adopted and outcome.before == migrations.BASELINE and outcome.after == migrations.head()
        assert "adopted" in outcome.describe()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT status FROM help_requests")).scalar_one() == "served"
            assert compare_metadata(MigrationContext.configure(conn), migrations.target_metadata()) == []
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- a recorded flow
async def help_flow_until_consent(harness):
    agent = await harness.agent("agent01")
    customer = await harness.client("zhangsan")
    reply = await customer.call("help_request", HELP)
    assert reply["ok"], reply
    offer = await agent.expect("offer")
    assert (await agent.call("offer_accept", {"offer_id": offer["offer_id"]}))["ok"]
    sid = (await customer.expect("session_started"))["session_id"]
    assert (await customer.call("consent", {"session_id": sid, "accept": True}))["ok"]
    await agent.expect("session_state", state="sharing")
    return customer, agent, reply["request"]["request_id"], sid


async def end_and_wrap_up(customer, agent, sid):
    assert (await agent.call("end_session", {"session_id": sid}))["ok"]
    assert (await customer.expect("session_ended"))["reason"] == "agent_ended"
    assert (await agent.call("wrap_up", {"session_id": sid, "outcome": "resolved", "notes": "转账完成"}))["ok"]
    await agent.expect("agent_state", state="available")


async def test_a_help_flow_is_recorded_in_postgres(start_server, postgres):
    url = postgres.url()
    harness = await start_server(database_url=url)
    customer, agent, request_id, sid = await help_flow_until_consent(harness)
    await end_and_wrap_up(customer, agent, sid)

    status, row = await harness.http("GET", f"/api/requests/{request_id}", await harness.login("super01"))
    assert status == 200, row
    assert [e["event"] for e in row["timeline"]] == ["requested", "offered", "accepted", "consent", "ended", "wrap_up"]
    assert (row["status"], row["agent_id"], row["session_id"], row["outcome"]) == ("served", "agent01", sid, "resolved")
    assert "field_at" not in row and "updated_at" not in row  # bookkeeping stays inside
    # And it is really in PostgreSQL, with the bank's books next to it.
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.select(help_requests).where(help_requests.c.request_id == request_id)).one()
            assert stored.wrapped_at and stored.notes == "转账完成" and stored.field_at["outcome"] == stored.wrapped_at
            assert conn.execute(sa.text("SELECT count(*) FROM bank_accounts")).scalar_one() >= 2
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- two nodes, one request
def one_request_lifecycle(request_id: str) -> list[RecordUpdate]:
    """A request's updates in time order; some fields change more than once (status, agent)."""
    fields = [
        {"status": "waiting", "customer_id": "c", "topic": "transfer", "requested_at": 1.0},
        {"offered_at": 2.0},
        {"status": "served", "agent_id": "agent01", "session_id": "s", "accepted_at": 3.0, "wait_s": 2.0},
        {"agent_id": "agent02"},  # a transfer to another agent
        {"ended_at": 5.0, "end_reason": "agent_ended", "handle_s": 2.0},
        {"outcome": "resolved", "notes": "ok", "wrapped_at": 6.0},
        {"notes": None},  # cleared later on purpose: a newer blank is not "a blank to fill"
    ]
    return [RecordUpdate(request_id, f, timeline=f"step{t}", at=float(t)) for t, f in enumerate(fields, start=1)]


def newest(updates: list[RecordUpdate]) -> dict:
    row: dict = {}
    for update in sorted(updates, key=lambda u: u.at):
        row |= update.fields
    return row


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
async def test_two_writers_racing_on_one_request_converge_on_the_newest_values(database, postgres, tmp_path):
    url = postgres.url() if database == "postgresql" else f"sqlite:///{tmp_path / 'records.db'}"
    engine = sa.create_engine(url)
    migrations.upgrade(engine)
    # Two nodes: two writers, two engines, one database.
    node_a, node_b = SqlRecords(url), SqlRecords(url)
    node_a.start()
    node_b.start()
    rng = random.Random(7)
    expected: dict[str, dict] = {}
    rounds: list[tuple[list, list]] = [([], []) for _ in range(3)]
    for i in range(60):
        updates = one_request_lifecycle(f"r{i}")
        expected[f"r{i}"] = newest(updates)
        order = updates[::-1] if i == 0 else rng.sample(updates, len(updates))  # r0: newest first
        for n, update in enumerate(order):
            # Alternate nodes, spread over rounds: both nodes write the same rows concurrently.
            rounds[n * 3 // len(order)][n % 2].append(update)
    for to_a, to_b in rounds:  # and in no particular order of requests within a batch
        rng.shuffle(to_a)
        rng.shuffle(to_b)
    try:
        for to_a, to_b in rounds:
            node_a.submit(to_a)
            node_b.submit(to_b)
            await asyncio.wait_for(asyncio.gather(node_a.flush(), node_b.flush()), 30)
        assert node_a.writer_status().write_failures == node_b.writer_status().write_failures == 0
        with engine.connect() as conn:
            rows = {r.request_id: r._mapping for r in conn.execute(sa.select(help_requests))}
            events = conn.execute(sa.text("SELECT count(*) FROM request_events")).scalar_one()
        wrong = {rid: {k: (rows[rid][k], v) for k, v in want.items() if rows[rid][k] != v} for rid, want in expected.items()}
        assert not any(wrong.values()), {rid: diff for rid, diff in wrong.items() if diff}
        assert all(rows[rid]["updated_at"] == 7.0 for rid in expected)
        assert events == 7 * len(expected)  # the timeline is append-only: every step, once
    finally:
        await node_a.stop()
        await node_b.stop()
        engine.dispose()


# ---------------------------------------------------------------------------- an outage
async def test_an_unreachable_database_keeps_a_bounded_queue_and_says_so():
    # Nothing listens on this port: the database is "down" from the start.
    records = SqlRecords(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none", max_pending=5, retry_max_s=0.2)
    records.start()
    try:
        records.submit(RecordUpdate(f"r{i}", {"status": "waiting"}, timeline="requested", at=float(i)) for i in range(8))
        await asyncio.sleep(0.5)
        status = records.writer_status()
        assert not status.database_up and status.write_failures >= 1
        assert (status.pending, status.dropped) == (5, 3)  # the oldest kept, in order; the rest counted
        assert [u.request_id for u in records._pending] == [f"r{i}" for i in range(5)]
    finally:
        records._io.shutdown(wait=False, cancel_futures=True)
        records._writer.cancel()
        records.engine.dispose()


@pytest.fixture
def own_postgres():
    """A PostgreSQL of its own: this test stops it, and the others must not notice."""
    yield from running_postgres()


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


async def until_metrics(harness, check, timeout: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        _, text = await harness.http("GET", "/metrics", harness.config.metrics_token)
        if check(text):
            return text
        assert asyncio.get_running_loop().time() < deadline, text[-1500:]
        await asyncio.sleep(0.1)


async def test_a_database_outage_mid_session_loses_no_record(start_server, own_postgres):
    harness = await start_server(database_url=own_postgres.url("assist"))
    supervisor = await harness.login("super01")  # signing in reads the database: done beforehand
    customer, agent, request_id, sid = await help_flow_until_consent(harness)
    text = await until_metrics(harness, lambda t: metric(t, "assist_records_pending") == 0)
    assert metric(text, "assist_database_up") == 1

    own_postgres.stop()
    # The session goes on: relaying, guiding, ending and wrapping up need no database.
    for seq in (1, 2, 3):
        assert (await customer.call("mirror", {"session_id": sid, "seq": seq, "events": [{"type": 3}]}))["ok"]
        await agent.expect("mirror", seq=seq)
    assert (await agent.call("annotation", {"session_id": sid, "seq": 1, "kind": "highlight", "selector": "#next"}))["ok"]
    await customer.expect("annotation", seq=1)
    assert (await customer.call("stop_sharing", {"session_id": sid}))["ok"]
    await end_and_wrap_up(customer, agent, sid)
    down = await until_metrics(harness, lambda t: metric(t, "assist_database_up") == 0)
    assert metric(down, "assist_records_pending") >= 3  # sharing_stopped, ended, wrap_up
    assert metric(down, "assist_records_write_failures_total") >= 1
    status, _ = await harness.http("GET", "/healthz")
    assert status == 200  # the node itself is fine: it keeps serving and keeps the records
    await asyncio.sleep(2.0)  # a few seconds down in all, with retries failing meanwhile

    own_postgres.start()
    up = await until_metrics(harness, lambda t: metric(t, "assist_database_up") == 1 and metric(t, "assist_records_pending") == 0)
    assert metric(up, "assist_records_dropped_total") == 0
    status, row = await harness.http("GET", f"/api/requests/{request_id}", supervisor)
    assert status == 200, row
    assert [e["event"] for e in row["timeline"]] == [
        "requested",
        "offered",
        "accepted",
        "consent",
        "sharing_stopped",
        "ended",
        "wrap_up",
    ]
    assert (row["status"], row["end_reason"], row["outcome"], row["notes"]) == ("served", "agent_ended", "resolved", "转账完成")
    # The recording's index caught up too: three mirror batches and one annotation.
    status, recording = await harness.http("GET", f"/api/recordings/{sid}", supervisor)
    assert status == 200 and recording["events"] == 4, recording
