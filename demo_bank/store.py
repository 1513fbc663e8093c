"""The bank's books: accounts, payees, limits and transfers, kept in SQL.

Every method here is synchronous and runs on the store's own thread pool (never on the event
loop). A transfer is one database transaction that takes the accounts' write locks first
(SQLite: `BEGIN IMMEDIATE`, one writer at a time; PostgreSQL: `SELECT … FOR UPDATE` of the payer
and, for a transfer within the bank, the payee, always in username order so that two opposite
transfers cannot deadlock), so the idempotency check, the limit checks and the debit see one
consistent state, and two tabs (or two nodes) can never overdraw: the debit itself is also a
guarded `UPDATE … WHERE balance >= total`, and the table has a CHECK constraint.
The tables are created by the migrations (assist/migrations), never here.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from assist.auth import check_password
from assist.storage.upsert import insert_for

from .tables import accounts, payees, transactions, transfers

BANK_NAME = {"zh": "安心银行", "en": "Anxin Bank"}
CHINA = timezone(timedelta(hours=8))  # the bank's day (for the daily limit) is Beijing time

MAX_PER_TRANSACTION = 5_000_000  # ¥50,000.00: the bank's maximum; customers may set lower
MAX_DAILY = 10_000_000  # ¥100,000.00
MIN_LIMIT = 100  # ¥1.00
LARGE_AMOUNT = 500_000  # ¥5,000.00 to a new payee is what anomaly monitoring flags
PIN_TRIES = 5
PIN_LOCK_S = 30 * 60


class BankError(Exception):
    """A refusal: HTTP status, a stable code, and the parameters of its message."""

    def __init__(self, status: int, code: str, **params) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Payee:
    name: str
    account_number: str
    bank: str = ""
    nickname: str | None = None
    saved_id: int | None = None


def start_of_day(now: float) -> float:
    day = datetime.fromtimestamp(now, CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp()


def mask(account_number: str) -> str:
    return f"{account_number[:4]} **** **** {account_number[-4:]}"


def fee_for(amount: int, internal: bool) -> int:
    """Mobile-banking transfers are free (within the bank and to other banks alike)."""
    return 0


def _sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class BankStore:
    def __init__(self, url: str, workers: int = 4) -> None:
        self.url = url
        if _sqlite(url):
            args = {"connect_args": {"timeout": 30}}  # wait for the write lock, don't fail
            self.reader = sa.create_engine(url, **args)
            self.writer = sa.create_engine(url, **args)

            @sa.event.listens_for(self.writer, "connect")
            def _manual(dbapi_conn, _record) -> None:
                dbapi_conn.isolation_level = None  # we say BEGIN ourselves …
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")

            @sa.event.listens_for(self.writer, "begin")
            def _immediate(conn) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # … and take the write lock first
        else:
            # READ COMMITTED with row locks; pre_ping: pooled connections die with a restart.
            self.reader = self.writer = sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
        self.io = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bank")

    def close(self) -> None:
        self.io.shutdown(wait=True)
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()

    # ------------------------------------------------------------------ reading
    def account(self, owner: str, conn=None) -> dict:
        if conn is None:
            with self.reader.connect() as conn:
                return self.account(owner, conn)
        row = conn.execute(accounts.select().where(accounts.c.username == owner)).first()
        if row is None:
            raise BankError(404, "no_account")
        return dict(row._mapping)

    @staticmethod
    def _used_today(conn, owner: str, now: float) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(transfers.c.amount), 0)).where(
                    transfers.c.owner == owner, transfers.c.at >= start_of_day(now)
                )
            ).scalar_one()
        )

    @staticmethod
    def limits_view(acct: dict, used: int) -> dict:
        return {
            "per_transaction": acct["per_transaction_limit"],
            "daily": acct["daily_limit"],
            "used_today": used,
            "remaining_today": max(0, acct["daily_limit"] - used),
            "max_per_transaction": MAX_PER_TRANSACTION,
            "max_daily": MAX_DAILY,
        }

    @staticmethod
    def password_view(acct: dict, now: float) -> dict:
        locked = acct["pin_locked_until"] is not None and acct["pin_locked_until"] > now
        return {
            "tries_left": 0 if locked else max(0, PIN_TRIES - acct["pin_failures"]),
            "locked_until": acct["pin_locked_until"] if locked else None,
        }

    def overview(self, owner: str, display_name: str, now: float) -> dict:
        with self.reader.connect() as conn:
            acct = self.account(owner, conn)
            used = self._used_today(conn, owner, now)
        return {
            "customer": {"username": owner, "display_name": display_name or acct["holder_name"]},
            "account": {
                "number": acct["account_number"],
                "masked": mask(acct["account_number"]),
                "holder_name": acct["holder_name"],
                "balance": acct["balance"],
                "currency": "CNY",
                "bank": BANK_NAME,
            },
            "limits": self.limits_view(acct, used),
            "password": self.password_view(acct, now),
        }

    def list_transactions(self, owner: str, limit: int) -> list[dict]:
        with self.reader.connect() as conn:
            self.account(owner, conn)
            rows = conn.execute(
                transactions.select()
                .where(transactions.c.owner == owner)
                .order_by(transactions.c.at.desc(), transactions.c.id.desc())
                .limit(limit)
            )
            return [
                {
                    "id": r.id,
                    "at": r.at,
                    "direction": r.direction,
                    "kind": r.kind,
                    "amount": r.amount,
                    "counterparty": {
                        "name": r.counterparty_name,
                        "account_masked": mask(r.counterparty_account) if r.counterparty_account else "",
                    },
                    "purpose": r.purpose,
                    "balance_after": r.balance_after,
                    "transfer_id": r.transfer_id,
                }
                for r in rows
            ]

    @staticmethod
    def _payee_view(row, internal_numbers: set[str]) -> dict:
        return {
            "id": row.id,
            "name": row.name,
            "nickname": row.nickname,
            "account_number": row.account_number,
            "account_masked": mask(row.account_number),
            "bank": row.bank,
            "internal": row.account_number in internal_numbers,
        }

    def list_payees(self, owner: str) -> list[dict]:
        with self.reader.connect() as conn:
            self.account(owner, conn)
            rows = conn.execute(payees.select().where(payees.c.owner == owner).order_by(payees.c.id)).all()
            internal = {
                r.account_number
                for r in conn.execute(
                    sa.select(accounts.c.account_number).where(accounts.c.account_number.in_([r.account_number for r in rows]))
                )
            }
            return [self._payee_view(r, internal) for r in rows]

    def get_transfer(self, owner: str, transfer_id: str) -> dict:
        with self.reader.connect() as conn:
            row = conn.execute(
                transfers.select().where(transfers.c.transfer_id == transfer_id, transfers.c.owner == owner)
            ).first()
        if row is None:  # someone else's transfer answers exactly like a missing one
            raise BankError(404, "not_found")
        return row.result

    # ------------------------------------------------------------------ payees and limits
    def add_payee(self, owner: str, payee: Payee, now: float) -> dict:
        with self.writer.begin() as conn:
            acct = self.account(owner, conn)
            if payee.account_number == acct["account_number"]:
                raise BankError(422, "same_account")
            exists = conn.execute(
                sa.select(payees.c.id).where(payees.c.owner == owner, payees.c.account_number == payee.account_number)
            ).first()
            if exists:
                raise BankError(409, "payee_exists")
            key = conn.execute(
                payees.insert().values(
                    owner=owner,
                    name=payee.name,
                    nickname=payee.nickname,
                    account_number=payee.account_number,
                    bank=payee.bank,
                    created_at=now,
                )
            ).inserted_primary_key
            assert key is not None, "a single-row INSERT has its primary key"
            new_id = key[0]
            row = conn.execute(payees.select().where(payees.c.id == new_id)).one()
            internal = conn.execute(
                sa.select(accounts.c.username).where(accounts.c.account_number == payee.account_number)
            ).first()
            return self._payee_view(row, {payee.account_number} if internal else set())

    def delete_payee(self, owner: str, payee_id: int) -> None:
        with self.writer.begin() as conn:
            self.account(owner, conn)
            if not conn.execute(payees.delete().where(payees.c.id == payee_id, payees.c.owner == owner)).rowcount:
                raise BankError(404, "payee_not_found")

    def set_limits(self, owner: str, per_transaction: int | None, daily: int | None, now: float) -> dict:
        with self.writer.begin() as conn:
            acct = self.account(owner, conn)
            per = acct["per_transaction_limit"] if per_transaction is None else per_transaction
            day = acct["daily_limit"] if daily is None else daily
            for which, value, maximum in (("per_transaction", per, MAX_PER_TRANSACTION), ("daily", day, MAX_DAILY)):
                if value > maximum:
                    raise BankError(422, "limit_above_maximum", which=which, maximum=maximum)
                if value < MIN_LIMIT:
                    raise BankError(422, "limit_too_low", which=which, minimum=MIN_LIMIT)
            if per > day:
                raise BankError(422, "limit_order")
            conn.execute(accounts.update().where(accounts.c.username == owner).values(per_transaction_limit=per, daily_limit=day))
            acct |= {"per_transaction_limit": per, "daily_limit": day}
            return self.limits_view(acct, self._used_today(conn, owner, now))

    # ------------------------------------------------------------------ the transaction password
    def verify_pin(self, owner: str, password: str, now: float) -> None:
        """Refuse a locked or wrong transaction password; a wrong one counts toward the lockout."""
        acct = self.account(owner)
        if acct["pin_locked_until"] is not None and acct["pin_locked_until"] > now:
            raise BankError(423, "password_locked", max=PIN_TRIES, minutes=self._minutes_left(acct, now))
        if check_password(acct["pin_hash"], password):
            return
        with self.writer.begin() as conn:
            acct = self.account(owner, conn)
            failures = acct["pin_failures"]
            if acct["pin_locked_until"] is not None and acct["pin_locked_until"] <= now:
                failures = 0  # the previous lock has run out: a fresh count
            failures += 1
            locked_until = now + PIN_LOCK_S if failures >= PIN_TRIES else None
            conn.execute(
                accounts.update().where(accounts.c.username == owner).values(pin_failures=failures, pin_locked_until=locked_until)
            )
        if locked_until is not None:
            raise BankError(423, "password_locked", max=PIN_TRIES, minutes=PIN_LOCK_S // 60)
        raise BankError(403, "wrong_password", left=PIN_TRIES - failures)

    @staticmethod
    def _minutes_left(acct: dict, now: float) -> int:
        return max(1, int((acct["pin_locked_until"] - now + 59) // 60))

    # ------------------------------------------------------------------ transfers
    def _resolve_payee(self, conn, owner: str, payee_id: int | None, payee: Payee | None) -> Payee:
        if payee_id is not None:
            row = conn.execute(payees.select().where(payees.c.id == payee_id, payees.c.owner == owner)).first()
            if row is None:
                raise BankError(404, "payee_not_found")
            return Payee(row.name, row.account_number, row.bank, row.nickname, row.id)
        if payee is None:
            raise BankError(400, "payee_required")
        row = conn.execute(
            payees.select().where(payees.c.owner == owner, payees.c.account_number == payee.account_number)
        ).first()
        if row is not None and row.name == payee.name:  # typed in, but it is a saved payee after all
            return Payee(row.name, row.account_number, row.bank, row.nickname, row.id)
        return payee

    def _evaluate(self, conn, acct: dict, payee: Payee, amount: int, now: float) -> dict:
        """Everything the confirm page shows, and the first reason to refuse (or None)."""
        owner = acct["username"]
        target = conn.execute(accounts.select().where(accounts.c.account_number == payee.account_number)).first()
        internal = target is not None
        fee = fee_for(amount, internal)
        total = amount + fee
        used = self._used_today(conn, owner, now)
        paid_before = conn.execute(
            sa.select(transfers.c.transfer_id)
            .where(transfers.c.owner == owner, transfers.c.payee_account == payee.account_number)
            .limit(1)
        ).first()
        new_payee = payee.saved_id is None and paid_before is None
        unusual = new_payee and amount >= LARGE_AMOUNT
        problem: BankError | None = None
        if payee.account_number == acct["account_number"]:
            problem = BankError(422, "same_account")
        elif internal and target.holder_name != payee.name:
            problem = BankError(422, "payee_name_mismatch")
        elif amount > acct["per_transaction_limit"]:
            problem = BankError(422, "over_transaction_limit", limit=acct["per_transaction_limit"])
        elif used + amount > acct["daily_limit"]:
            problem = BankError(
                422, "over_daily_limit", limit=acct["daily_limit"], used=used, remaining=max(0, acct["daily_limit"] - used)
            )
        elif total > acct["balance"]:
            problem = BankError(422, "insufficient_balance", balance=acct["balance"], total=total)
        return {
            "amount": amount,
            "fee": fee,
            "total": total,
            "balance": acct["balance"],
            "balance_after": acct["balance"] - total,
            "payee": {
                "name": payee.name,
                "nickname": payee.nickname,
                "account_masked": mask(payee.account_number),
                "bank": payee.bank,
                "internal": internal,
                "saved": payee.saved_id is not None,
                "new": new_payee,
            },
            "limits": self.limits_view(acct, used),
            "unusual": unusual,
            "warning": "new_payee_large_amount" if unusual else None,
            "_problem": problem,
            "_target": target,
        }

    def quote(self, owner: str, payee_id: int | None, payee: Payee | None, amount: int, now: float) -> dict:
        with self.reader.connect() as conn:
            acct = self.account(owner, conn)
            return self._evaluate(conn, acct, self._resolve_payee(conn, owner, payee_id, payee), amount, now)

    @staticmethod
    def _digest(payee: Payee, amount: int, purpose: str) -> str:
        blob = json.dumps([payee.account_number, payee.name, amount, purpose], ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def transfer(
        self,
        owner: str,
        key: str,
        payee_id: int | None,
        payee: Payee | None,
        amount: int,
        purpose: str,
        acknowledge_risk: bool,
        save_payee: bool,
        now: float,
    ) -> tuple[bool, dict]:
        """Move the money once. Returns (replayed, result); a retry with the same key replays."""
        try:
            return self._transfer(owner, key, payee_id, payee, amount, purpose, acknowledge_risk, save_payee, now)
        except IntegrityError:
            # Two requests with one key raced past each other (only possible without BEGIN
            # IMMEDIATE, e.g. PostgreSQL): the unique key kept the second out; replay the first.
            with self.reader.connect() as conn:
                row = conn.execute(
                    transfers.select().where(transfers.c.owner == owner, transfers.c.idempotency_key == key)
                ).first()
            if row is None:
                raise
            return True, row.result

    @staticmethod
    def _lock_accounts(conn, owner: str, payee_account: str) -> dict:
        """Lock the payer's row and, within the bank, the payee's (in username order: two opposite
        transfers take them in the same order, so neither waits for the other for ever)."""
        target = conn.execute(sa.select(accounts.c.username).where(accounts.c.account_number == payee_account)).scalar()
        rows = conn.execute(
            accounts.select()
            .where(accounts.c.username.in_({owner, target} - {None}))
            .order_by(accounts.c.username)
            .with_for_update()
        ).all()
        return next(dict(r._mapping) for r in rows if r.username == owner)

    def _transfer(self, owner, key, payee_id, payee, amount, purpose, acknowledge_risk, save_payee, now):
        with self.writer.begin() as conn:
            self.account(owner, conn)  # 404 before anything else
            resolved = self._resolve_payee(conn, owner, payee_id, payee)
            acct = self._lock_accounts(conn, owner, resolved.account_number)
            digest = self._digest(resolved, amount, purpose)
            done = conn.execute(transfers.select().where(transfers.c.owner == owner, transfers.c.idempotency_key == key)).first()
            if done is not None:
                if done.request_digest != digest:
                    raise BankError(409, "idempotency_conflict")
                return True, done.result
            check = self._evaluate(conn, acct, resolved, amount, now)
            if check["_problem"] is not None:
                raise check["_problem"]
            if check["unusual"] and not acknowledge_risk:
                raise BankError(409, "risk_ack_required")
            total = check["total"]
            debited = conn.execute(
                accounts.update()
                .where(accounts.c.username == owner, accounts.c.balance >= total)
                .values(balance=accounts.c.balance - total, pin_failures=0, pin_locked_until=None)
            ).rowcount
            if debited != 1:
                raise BankError(422, "insufficient_balance", balance=acct["balance"], total=total)
            balance_after = conn.execute(sa.select(accounts.c.balance).where(accounts.c.username == owner)).scalar_one()
            transfer_id = "T" + uuid.uuid4().hex[:20].upper()
            target = check["_target"]
            if target is not None:
                conn.execute(
                    accounts.update().where(accounts.c.username == target.username).values(balance=accounts.c.balance + amount)
                )
                credited_balance = conn.execute(
                    sa.select(accounts.c.balance).where(accounts.c.username == target.username)
                ).scalar_one()
                conn.execute(
                    transactions.insert().values(
                        owner=target.username,
                        at=now,
                        direction="in",
                        kind="transfer",
                        amount=amount,
                        counterparty_name=acct["holder_name"],
                        counterparty_account=acct["account_number"],
                        purpose=purpose,
                        balance_after=credited_balance,
                        transfer_id=transfer_id,
                    )
                )
            conn.execute(
                transactions.insert().values(
                    owner=owner,
                    at=now,
                    direction="out",
                    kind="transfer",
                    amount=amount,
                    counterparty_name=resolved.name,
                    counterparty_account=resolved.account_number,
                    purpose=purpose,
                    balance_after=balance_after + check["fee"],
                    transfer_id=transfer_id,
                )
            )
            if check["fee"]:
                conn.execute(
                    transactions.insert().values(
                        owner=owner,
                        at=now,
                        direction="out",
                        kind="fee",
                        amount=check["fee"],
                        counterparty_name=BANK_NAME["zh"],
                        counterparty_account="",
                        purpose="",
                        balance_after=balance_after,
                        transfer_id=transfer_id,
                    )
                )
            saved = resolved.saved_id is not None
            if save_payee and not saved:
                conn.execute(
                    payees.insert().values(
                        owner=owner,
                        name=resolved.name,
                        nickname=resolved.nickname,
                        account_number=resolved.account_number,
                        bank=check["payee"]["bank"],
                        created_at=now,
                    )
                )
                saved = True
            result = {
                "transfer": {
                    "id": transfer_id,
                    "at": now,
                    "status": "completed",
                    "amount": amount,
                    "fee": check["fee"],
                    "total": total,
                    "purpose": purpose,
                    "payee": check["payee"] | {"saved": saved},
                    "balance_after": balance_after,
                }
            }
            conn.execute(
                transfers.insert().values(
                    transfer_id=transfer_id,
                    owner=owner,
                    idempotency_key=key,
                    request_digest=digest,
                    at=now,
                    amount=amount,
                    fee=check["fee"],
                    payee_name=resolved.name,
                    payee_account=resolved.account_number,
                    credited_to=target.username if target is not None else None,
                    result=result,
                )
            )
            return False, result

    # ------------------------------------------------------------------ demo data
    def seed(self, customers: list[dict], pin_hash: str, now: float | None = None) -> int:
        """Open the demo accounts that are missing, with their payees and some history."""
        now = time.time() if now is None else now
        opened = 0
        with self.writer.begin() as conn:
            for customer in customers:
                # Several nodes may seed one database at once: whoever inserts the account adds
                # its payees and history; the others find it there and skip it.
                if not conn.execute(
                    insert_for(conn.dialect.name)(accounts)
                    .values(
                        username=customer["username"],
                        account_number=customer["account_number"],
                        holder_name=customer["holder_name"],
                        balance=customer["balance"],
                        per_transaction_limit=MAX_PER_TRANSACTION,
                        daily_limit=MAX_DAILY,
                        pin_hash=pin_hash,
                        pin_failures=0,
                        pin_locked_until=None,
                    )
                    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT inserts.
                    .on_conflict_do_nothing()
                    .returning(accounts.c.username)
                ).first():
                    continue
                opened += 1
                for i, payee in enumerate(customer["payees"]):
                    conn.execute(
                        payees.insert().values(
                            owner=customer["username"],
                            name=payee["name"],
                            nickname=payee.get("nickname"),
                            account_number=payee["account"],
                            bank=payee.get("bank", ""),
                            created_at=now - 86400 * 60 + i,
                        )
                    )
                # History, newest last; balances are worked back from today's balance.
                balance = customer["balance"]
                rows = []
                for line in reversed(customer["history"]):
                    rows.append((line, balance))
                    balance += -line["amount"] if line["direction"] == "in" else line["amount"]
                for line, after in reversed(rows):
                    conn.execute(
                        transactions.insert().values(
                            owner=customer["username"],
                            at=now - line["days_ago"] * 86400,
                            direction=line["direction"],
                            kind=line["kind"],
                            amount=line["amount"],
                            counterparty_name=line["counterparty"],
                            counterparty_account=line.get("account", ""),
                            purpose=line.get("purpose", ""),
                            balance_after=after,
                            transfer_id=None,
                        )
                    )
        return opened
