"""initial schema: records, recordings index, bank

The tables exactly as `metadata.create_all()` made them before migrations existed, so a
database from then is adopted by stamping this revision (see assist.migrations.upgrade).
Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ---- records (assist/storage/sql.py)
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("badge", sa.String(32), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "help_requests",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("topic", sa.String(32), nullable=True),
        sa.Column("edition", sa.String(16), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("page", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("requested_at", sa.Float(), nullable=True),
        sa.Column("offered_at", sa.Float(), nullable=True),
        sa.Column("accepted_at", sa.Float(), nullable=True),
        sa.Column("consent_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("wrapped_at", sa.Float(), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("handle_s", sa.Float(), nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    for column in ("agent_id", "customer_id", "requested_at", "session_id", "status"):
        op.create_index(f"ix_help_requests_{column}", "help_requests", [column])
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_request_events_request_id", "request_events", ["request_id"])

    # ---- recordings index (assist/storage/recordings.py)
    op.create_table(
        "recordings",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=True),
        sa.Column("agent_ids", sa.String(400), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("last_at", sa.Float(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
    )
    for column in ("customer_id", "expires_at", "request_id", "started_at"):
        op.create_index(f"ix_recordings_{column}", "recordings", [column])
    op.create_table(
        "recording_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("viewer", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("what", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recording_views_session_id", "recording_views", ["session_id"])

    # ---- the demo bank (demo_bank/tables.py)
    op.create_table(
        "bank_accounts",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("account_number", sa.String(32), nullable=False),
        sa.Column("holder_name", sa.String(100), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("per_transaction_limit", sa.BigInteger(), nullable=False),
        sa.Column("daily_limit", sa.BigInteger(), nullable=False),
        sa.Column("pin_hash", sa.String(200), nullable=False),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("pin_locked_until", sa.Float(), nullable=True),
        sa.CheckConstraint("balance >= 0", name="bank_accounts_balance_not_negative"),
        sa.PrimaryKeyConstraint("username"),
        sa.UniqueConstraint("account_number"),
    )
    op.create_table(
        "bank_payees",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("nickname", sa.String(40), nullable=True),
        sa.Column("account_number", sa.String(32), nullable=False),
        sa.Column("bank", sa.String(60), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner", "account_number", name="bank_payees_owner_account"),
    )
    op.create_index("ix_bank_payees_owner", "bank_payees", ["owner"])
    op.create_table(
        "bank_transfers",
        sa.Column("transfer_id", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("payee_name", sa.String(100), nullable=False),
        sa.Column("payee_account", sa.String(32), nullable=False),
        sa.Column("credited_to", sa.String(64), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("transfer_id"),
        sa.UniqueConstraint("owner", "idempotency_key", name="bank_transfers_owner_key"),
    )
    op.create_index("bank_transfers_owner_at", "bank_transfers", ["owner", "at"])
    op.create_table(
        "bank_transactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("counterparty_name", sa.String(100), nullable=False),
        sa.Column("counterparty_account", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(60), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("transfer_id", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("bank_transactions_owner_at", "bank_transactions", ["owner", "at"])


def downgrade() -> None:
    for table in (
        "bank_transactions",
        "bank_transfers",
        "bank_payees",
        "bank_accounts",
        "recording_views",
        "recordings",
        "request_events",
        "help_requests",
        "users",
    ):
        op.drop_table(table)  # their indexes go with them
