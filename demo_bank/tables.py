"""The bank's tables, on the shared `metadata` (the migrations in assist/migrations create them).

Money is integer fen (1 yuan = 100 fen) everywhere; times are wall-clock seconds (UTC epoch).
"""

from __future__ import annotations

import sqlalchemy as sa

from assist.storage.sql import metadata

accounts = sa.Table(
    "bank_accounts",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),  # the customer who owns it
    sa.Column("account_number", sa.String(32), nullable=False, unique=True),
    sa.Column("holder_name", sa.String(100), nullable=False),
    sa.Column("balance", sa.BigInteger, nullable=False),
    sa.Column("per_transaction_limit", sa.BigInteger, nullable=False),
    sa.Column("daily_limit", sa.BigInteger, nullable=False),
    sa.Column("pin_hash", sa.String(200), nullable=False),  # transaction password (argon2)
    sa.Column("pin_failures", sa.Integer, nullable=False, default=0),
    sa.Column("pin_locked_until", sa.Float, nullable=True),
    # The last line of defence: the database itself refuses an overdraft.
    sa.CheckConstraint("balance >= 0", name="bank_accounts_balance_not_negative"),
)

payees = sa.Table(
    "bank_payees",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("nickname", sa.String(40), nullable=True),
    sa.Column("account_number", sa.String(32), nullable=False),
    sa.Column("bank", sa.String(60), nullable=False, default=""),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("owner", "account_number", name="bank_payees_owner_account"),
)

# One row per completed outgoing transfer; (owner, idempotency_key) makes a retry harmless.
transfers = sa.Table(
    "bank_transfers",
    metadata,
    sa.Column("transfer_id", sa.String(40), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(100), nullable=False),
    sa.Column("request_digest", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("fee", sa.BigInteger, nullable=False),
    sa.Column("payee_name", sa.String(100), nullable=False),
    sa.Column("payee_account", sa.String(32), nullable=False),
    sa.Column("credited_to", sa.String(64), nullable=True),  # a customer of this bank, if any
    sa.Column("result", sa.JSON, nullable=False),  # the response body, replayed verbatim
    sa.UniqueConstraint("owner", "idempotency_key", name="bank_transfers_owner_key"),
    sa.Index("bank_transfers_owner_at", "owner", "at"),
)

# The statement lines the customer sees (both sides of an internal transfer, seeded history).
transactions = sa.Table(
    "bank_transactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),  # "in" | "out"
    sa.Column("kind", sa.String(16), nullable=False),  # transfer | salary | pension | payment | fee
    sa.Column("amount", sa.BigInteger, nullable=False),  # always positive; direction gives the sign
    sa.Column("counterparty_name", sa.String(100), nullable=False),
    sa.Column("counterparty_account", sa.String(32), nullable=False, default=""),
    sa.Column("purpose", sa.String(60), nullable=False, default=""),
    sa.Column("balance_after", sa.BigInteger, nullable=False),
    sa.Column("transfer_id", sa.String(40), nullable=True),
    sa.Index("bank_transactions_owner_at", "owner", "at"),
)

TABLES = [accounts, payees, transfers, transactions]
