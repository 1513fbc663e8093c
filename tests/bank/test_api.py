"""The bank's JSON API on a real server: money moves once, limits hold, nobody overdraws."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from demo_bank.demo_data import TRANSACTION_PASSWORD

PIN = TRANSACTION_PASSWORD
YUAN = 100  # fen per yuan

# Every test here on the embedded SQLite and on PostgreSQL (row locks instead of BEGIN IMMEDIATE).
pytestmark = pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)


def key() -> str:
    return uuid.uuid4().hex


async def balance(harness, token) -> int:
    status, body = await harness.http("GET", "/api/bank/account", token)
    assert status == 200, body
    return body["account"]["balance"]


async def payee_id(harness, token, name: str) -> int:
    status, body = await harness.http("GET", "/api/bank/payees", token)
    assert status == 200, body
    return next(p["id"] for p in body["payees"] if p["name"] == name)


async def send(harness, token, amount: int, payee=None, password: str = PIN, idem: str | None = None, **extra):
    body = {"amount": amount, "purpose": "生活费", "password": password, "idempotency_key": idem or key(), **extra}
    body |= {"payee_id": payee} if isinstance(payee, int) else {"payee": payee}
    return await harness.http("POST", "/api/bank/transfers", token, json=body)


def refused(status: int, body, expected_status: int, code: str) -> None:
    assert status == expected_status, body
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and len(body["error"]["message"]) > 5, body


async def test_demo_data_is_seeded(harness):
    token = await harness.login("zhangsan")
    status, body = await harness.http("GET", "/api/bank/account", token)
    assert status == 200
    assert body["account"]["balance"] == 52_680 * YUAN
    assert body["limits"] | {"used_today": 0} == {
        "per_transaction": 50_000 * YUAN,
        "daily": 100_000 * YUAN,
        "used_today": 0,
        "remaining_today": 100_000 * YUAN,
        "max_per_transaction": 50_000 * YUAN,
        "max_daily": 100_000 * YUAN,
    }
    _, payees = await harness.http("GET", "/api/bank/payees", token)
    labels = [f"{p['nickname']} ({p['name']})" if p["nickname"] else p["name"] for p in payees["payees"]]
    assert labels == ["李四", "王五", "赵六", "刘芳", "儿子 (张伟)", "女儿 (张丽)"]
    _, history = await harness.http("GET", "/api/bank/transactions", token)
    lines = history["transactions"]
    assert len(lines) >= 5 and lines[0]["balance_after"] == 52_680 * YUAN
    # The statement adds up: each line's balance follows from the one before it.
    for newer, older in zip(lines, lines[1:], strict=False):
        sign = 1 if newer["direction"] == "in" else -1
        assert newer["balance_after"] == older["balance_after"] + sign * newer["amount"]
    assert await balance(harness, await harness.login("lisi")) == 8_000 * YUAN


async def test_transfer_moves_money_once_and_credits_the_other_customer(harness):
    zs, ls = await harness.login("zhangsan"), await harness.login("lisi")
    lisi = await payee_id(harness, zs, "李四")
    idem = key()
    # A double tap: the same submit twice at once, then a late retry.
    first, second = await asyncio.gather(
        send(harness, zs, 1_234_56, lisi, idem=idem), send(harness, zs, 1_234_56, lisi, idem=idem)
    )
    retry = await send(harness, zs, 1_234_56, lisi, idem=idem)
    assert first[0] == second[0] == retry[0] == 200, (first, second, retry)
    assert first[1] == second[1] == retry[1]
    transfer = first[1]["transfer"]
    assert transfer["status"] == "completed" and transfer["amount"] == 1_234_56
    assert transfer["balance_after"] == 52_680_00 - 1_234_56
    assert await balance(harness, zs) == 52_680_00 - 1_234_56
    assert await balance(harness, ls) == 8_000_00 + 1_234_56
    _, history = await harness.http("GET", "/api/bank/transactions", ls)
    credit = history["transactions"][0]
    assert (credit["direction"], credit["amount"], credit["counterparty"]["name"]) == ("in", 1_234_56, "张三")
    _, mine = await harness.http("GET", "/api/bank/transactions", zs)
    assert [t["transfer_id"] for t in mine["transactions"]].count(transfer["id"]) == 1
    status, body = await harness.http("GET", f"/api/bank/transfers/{transfer['id']}", zs)
    assert status == 200 and body == first[1]
    # The same key with different details is a mistake, not a second transfer.
    status, body = await send(harness, zs, 99_00, lisi, idem=idem)
    refused(status, body, 409, "idempotency_conflict")
    assert await balance(harness, zs) == 52_680_00 - 1_234_56


async def test_limits_and_balance_are_enforced(harness):
    zs, ls = await harness.login("zhangsan"), await harness.login("lisi")
    to_lisi, to_zhangsan = await payee_id(harness, zs, "李四"), await payee_id(harness, ls, "张三")
    status, body = await send(harness, zs, 50_000_00 + 1, to_lisi)
    refused(status, body, 422, "over_transaction_limit")
    assert "50,000.00" in body["error"]["message"]
    status, body = await send(harness, ls, 9_000_00, to_zhangsan)
    refused(status, body, 422, "insufficient_balance")
    # Fill zhangsan's daily maximum (¥100,000) by passing ¥50,000 back and forth.
    for _ in range(2):
        assert (await send(harness, zs, 50_000_00, to_lisi))[0] == 200
        assert (await send(harness, ls, 50_000_00, to_zhangsan))[0] == 200
    assert await balance(harness, zs) == 52_680_00
    status, body = await send(harness, zs, 1, to_lisi)
    refused(status, body, 422, "over_daily_limit")
    status, body = await harness.http("GET", "/api/bank/limits", zs)
    assert body["used_today"] == 100_000_00 and body["remaining_today"] == 0
    # The quote says so before the password page.
    status, quote = await harness.http("POST", "/api/bank/transfers/quote", zs, json={"payee_id": to_lisi, "amount": 1})
    assert status == 200 and quote["problem"]["code"] == "over_daily_limit"
    assert await balance(harness, zs) == 52_680_00 and await balance(harness, ls) == 8_000_00


async def test_lowered_limits_are_enforced_and_never_above_the_maximum(harness):
    zs = await harness.login("zhangsan")
    wang = await payee_id(harness, zs, "王五")
    status, body = await harness.http("PUT", "/api/bank/limits", zs, json={"per_transaction": 1_000_00, "daily": 2_000_00})
    assert status == 200 and (body["per_transaction"], body["daily"]) == (1_000_00, 2_000_00)
    status, body = await send(harness, zs, 1_000_01, wang)
    refused(status, body, 422, "over_transaction_limit")
    assert (await send(harness, zs, 1_000_00, wang))[0] == 200
    assert (await send(harness, zs, 1_000_00, wang))[0] == 200
    status, body = await send(harness, zs, 1, wang)
    refused(status, body, 422, "over_daily_limit")
    for change in ({"per_transaction": 50_000_01}, {"daily": 100_000_01}):
        status, body = await harness.http("PUT", "/api/bank/limits", zs, json=change)
        refused(status, body, 422, "limit_above_maximum")
    status, body = await harness.http("PUT", "/api/bank/limits", zs, json={"per_transaction": 3_000_00})
    refused(status, body, 422, "limit_order")
    status, body = await harness.http("PUT", "/api/bank/limits", zs, json={"per_transaction": 1.5})
    refused(status, body, 400, "invalid_amount")
    # Back up to (not above) the bank's maximum is allowed.
    status, body = await harness.http("PUT", "/api/bank/limits", zs, json={"per_transaction": 50_000_00, "daily": 100_000_00})
    assert status == 200 and body["remaining_today"] == 98_000_00
    assert await balance(harness, zs) == 50_680_00


async def test_wrong_transaction_password_is_refused_and_locks_after_five(harness):
    zs = await harness.login("zhangsan")
    wang = await payee_id(harness, zs, "王五")
    for left in (4, 3, 2, 1):
        status, body = await send(harness, zs, 100_00, wang, password="000000")
        refused(status, body, 403, "wrong_password")
        assert str(left) in body["error"]["message"]
    status, body = await send(harness, zs, 100_00, wang, password="000000")
    refused(status, body, 423, "password_locked")
    status, body = await send(harness, zs, 100_00, wang)  # even the right password, now
    refused(status, body, 423, "password_locked")
    _, account = await harness.http("GET", "/api/bank/account", zs)
    assert account["password"]["tries_left"] == 0 and account["password"]["locked_until"]
    assert account["account"]["balance"] == 52_680_00


async def test_a_right_password_resets_the_count(harness):
    zs = await harness.login("zhangsan")
    wang = await payee_id(harness, zs, "王五")
    for _ in range(4):
        assert (await send(harness, zs, 100_00, wang, password="999999"))[0] == 403
    assert (await send(harness, zs, 100_00, wang))[0] == 200
    status, body = await send(harness, zs, 100_00, wang, password="999999")
    assert status == 403 and "4" in body["error"]["message"]


async def test_concurrent_transfers_never_overdraw(harness):
    zs, ls = await harness.login("zhangsan"), await harness.login("lisi")
    to_lisi, to_wang = await payee_id(harness, zs, "李四"), await payee_id(harness, zs, "王五")
    before = await balance(harness, zs) + await balance(harness, ls)
    # Ten transfers of ¥6,000 at once from two "tabs": ¥60,000 > ¥52,680, so some must fail.
    results = await asyncio.gather(*(send(harness, zs, 6_000_00, to_lisi if i % 2 else to_wang) for i in range(10)))
    done = [body["transfer"] for status, body in results if status == 200]
    refusals = [body for status, body in results if status != 200]
    assert len(done) == 8, results
    assert all(r["error"]["code"] == "insufficient_balance" for r in refusals), refusals
    sent_outside = sum(t["amount"] for t in done if not t["payee"]["internal"])
    after_zs, after_ls = await balance(harness, zs), await balance(harness, ls)
    assert after_zs >= 0 and after_zs == 52_680_00 - 8 * 6_000_00
    assert before == after_zs + after_ls + sent_outside
    assert sorted(t["balance_after"] for t in done) == [52_680_00 - n * 6_000_00 for n in range(8, 0, -1)]


async def test_transfers_both_ways_at_once_all_complete(harness):
    # Opposite transfers lock the same two accounts: in one order (PostgreSQL), or one writer at
    # a time (SQLite); either way none waits for ever or fails, and no money appears or vanishes.
    zs, ls = await harness.login("zhangsan"), await harness.login("lisi")
    to_lisi, to_zhangsan = await payee_id(harness, zs, "李四"), await payee_id(harness, ls, "张三")
    before = await balance(harness, zs) + await balance(harness, ls)
    results = await asyncio.gather(
        *(send(harness, zs, 100_00, to_lisi) if i % 2 else send(harness, ls, 100_00, to_zhangsan) for i in range(16))
    )
    assert [status for status, _ in results] == [200] * 16, results
    assert await balance(harness, zs) + await balance(harness, ls) == before
    assert await balance(harness, zs) == 52_680_00


async def test_a_large_transfer_to_a_new_payee_needs_the_warning_acknowledged(harness):
    zs = await harness.login("zhangsan")
    stranger = {"name": "钱七", "account_number": "6212260000111122223"}
    status, quote = await harness.http(
        "POST", "/api/bank/transfers/quote", zs, json={"payee": stranger, "amount": 8_000_00, "purpose": "投资"}
    )
    assert status == 200 and quote["unusual"] and quote["payee"]["new"] and quote["problem"] is None
    status, body = await send(harness, zs, 8_000_00, stranger)
    refused(status, body, 409, "risk_ack_required")
    status, body = await send(harness, zs, 8_000_00, stranger, acknowledge_risk=True, save_payee=True)
    assert status == 200 and body["transfer"]["payee"]["saved"]
    _, small = await harness.http(
        "POST",
        "/api/bank/transfers/quote",
        zs,
        json={"payee": {"name": "孙八", "account_number": "6212260000999988887"}, "amount": 100_00},
    )
    assert not small["unusual"]
    # A customer of this bank must be named correctly.
    status, body = await send(harness, zs, 100_00, {"name": "王八", "account_number": "6222020200112233445"})
    refused(status, body, 422, "payee_name_mismatch")
    status, body = await send(harness, zs, 100_00, {"name": "张三", "account_number": "6222020200998877665"})
    refused(status, body, 422, "same_account")
    status, body = await send(harness, zs, 100_00, {"name": "钱七", "account_number": "12ab"})
    refused(status, body, 400, "invalid_account_number")


async def test_errors_speak_english_when_asked(harness):
    zs = await harness.login("zhangsan")
    wang = await payee_id(harness, zs, "王五")
    async with harness._http.post(
        f"{harness.base_url}/api/bank/transfers",
        headers={"Authorization": f"Bearer {zs}", "Accept-Language": "en-GB,en;q=0.9"},
        json={"payee_id": wang, "amount": 60_000_00, "password": PIN, "idempotency_key": key()},
    ) as resp:
        status, body = resp.status, await resp.json()
    refused(status, body, 422, "over_transaction_limit")
    assert body["error"]["message"] == "The amount is over your per-transaction limit of ¥50,000.00."


ENDPOINTS = [
    ("GET", "/api/bank/account"),
    ("GET", "/api/bank/transactions"),
    ("GET", "/api/bank/payees"),
    ("POST", "/api/bank/payees"),
    ("DELETE", "/api/bank/payees/1"),
    ("GET", "/api/bank/limits"),
    ("PUT", "/api/bank/limits"),
    ("POST", "/api/bank/transfers/quote"),
    ("POST", "/api/bank/transfers"),
    ("GET", "/api/bank/transfers/T1"),
]


@pytest.mark.parametrize("who", [None, "agent01", "super01", "garbage"])
async def test_only_customers_may_use_the_bank(harness, who):
    token = "not-a-token" if who == "garbage" else (await harness.login(who) if who else None)
    for method, path in ENDPOINTS:
        status, body = await harness.http(method, path, token, json={})
        if who in (None, "garbage"):
            assert status == 401, (method, path, body)
        else:
            refused(status, body, 403, "forbidden")
        assert body["error"]["message"]


async def test_a_customer_never_reaches_another_customers_data(harness):
    zs, ls = await harness.login("zhangsan"), await harness.login("lisi")
    lisi_payee = await payee_id(harness, ls, "张三")
    status, body = await send(harness, ls, 10_00, lisi_payee)
    assert status == 200
    lisi_transfer = body["transfer"]["id"]
    status, body = await harness.http("GET", f"/api/bank/transfers/{lisi_transfer}", zs)
    refused(status, body, 404, "not_found")
    # zhangsan cannot spend from lisi's list, nor delete from it.
    status, body = await send(harness, zs, 10_00, lisi_payee)
    refused(status, body, 404, "payee_not_found")
    status, body = await harness.http("DELETE", f"/api/bank/payees/{lisi_payee}", zs)
    refused(status, body, 404, "payee_not_found")
    _, payees = await harness.http("GET", "/api/bank/payees", ls)
    assert [p["name"] for p in payees["payees"]] == ["张三"]


async def test_payees_can_be_added_and_removed(harness):
    zs = await harness.login("zhangsan")
    status, body = await harness.http(
        "POST", "/api/bank/payees", zs, json={"name": "周九", "account_number": "6217000010009998887", "bank": "建设银行"}
    )
    assert status == 200 or status == 201, body
    new_id = body["payee"]["id"]
    status, body = await harness.http(
        "POST", "/api/bank/payees", zs, json={"name": "周九", "account_number": "6217000010009998887"}
    )
    refused(status, body, 409, "payee_exists")
    status, body = await harness.http("DELETE", f"/api/bank/payees/{new_id}", zs)
    assert status == 200
    status, body = await harness.http("POST", "/api/bank/payees", zs, json={"name": "", "account_number": "1"})
    assert status == 400 and body["error"]["code"] in ("invalid_name", "invalid_account_number")
    status, body = await harness.http("POST", "/api/bank/transfers", zs, data=b"not json")
    refused(status, body, 400, "bad_payload")
