"""The demo bank's customers: accounts, balances, saved payees (from voice.demo) and history.

Seeded once, in demo mode, when an account is missing; amounts are integer fen.
The two demo customers hold each other's accounts as payees, so a transfer between them
credits the other side (李四 in 张三's payees is lisi's account, and 张三 in 李四's is zhangsan's).
"""

from __future__ import annotations

from assist import demo
from voice.demo import DEMO_PAYEES

TRANSACTION_PASSWORD = "135790"  # the demo transaction password of both customers

ACCOUNTS = {
    "zhangsan": {"account_number": "6222020200998877665", "balance": 5_268_000},  # ¥52,680.00
    "lisi": {"account_number": "6222020200112233445", "balance": 800_000},  # ¥8,000.00
}

HISTORY = {
    "zhangsan": [
        {
            "days_ago": 13,
            "direction": "in",
            "kind": "pension",
            "amount": 420_000,
            "counterparty": "市社会保险事业管理局",
            "purpose": "养老金",
        },
        {"days_ago": 11, "direction": "out", "kind": "payment", "amount": 18_650, "counterparty": "国网电力", "purpose": "电费"},
        {
            "days_ago": 9,
            "direction": "in",
            "kind": "transfer",
            "amount": 100_000,
            "counterparty": "张丽",
            "account": "6225880212345678901",
            "purpose": "生活费",
        },
        {"days_ago": 7, "direction": "out", "kind": "payment", "amount": 26_840, "counterparty": "华联超市", "purpose": "购物"},
        {
            "days_ago": 5,
            "direction": "out",
            "kind": "transfer",
            "amount": 200_000,
            "counterparty": "王五",
            "account": "6217000010002223334",
            "purpose": "还款",
        },
        {"days_ago": 3, "direction": "out", "kind": "payment", "amount": 10_000, "counterparty": "中国移动", "purpose": "话费"},
        {
            "days_ago": 1,
            "direction": "in",
            "kind": "transfer",
            "amount": 50_000,
            "counterparty": "张伟",
            "account": "6222021001122334455",
            "purpose": "生活费",
        },
    ],
    "lisi": [
        {
            "days_ago": 8,
            "direction": "in",
            "kind": "salary",
            "amount": 850_000,
            "counterparty": "华夏科技有限公司",
            "purpose": "工资",
        },
        {
            "days_ago": 6,
            "direction": "out",
            "kind": "transfer",
            "amount": 300_000,
            "counterparty": "陈建国",
            "account": "6217000010005556667",
            "purpose": "房租",
        },
        {"days_ago": 2, "direction": "out", "kind": "payment", "amount": 4_580, "counterparty": "美团外卖", "purpose": "餐饮"},
    ],
}


def customers() -> list[dict]:
    return [
        {
            "username": name,
            "holder_name": demo.DEMO_USERS[name]["display_name"],
            "account_number": info["account_number"],
            "balance": info["balance"],
            "payees": DEMO_PAYEES.get(name, []),
            "history": HISTORY.get(name, []),
        }
        for name, info in ACCOUNTS.items()
    ]
