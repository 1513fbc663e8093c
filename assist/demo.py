"""Demo accounts and data seeded in demo mode (a production config turns demo mode off).

One place for them, so the bank app, the voice assistant and the tests agree.
"""
from __future__ import annotations

DEMO_PASSWORD = "demo1234"

# username → (role, display name, extra profile)
DEMO_USERS: dict[str, dict] = {
    "zhangsan": {"role": "customer", "display_name": "张三"},
    "lisi": {"role": "customer", "display_name": "李四"},
    "agent01": {
        "role": "agent",
        "display_name": "王晓敏",
        "badge": "A1024",
        "languages": ["zh", "en"],
        "skills": ["elderly_care"],
    },
    "agent02": {
        "role": "agent",
        "display_name": "陈立",
        "badge": "A2048",
        "languages": ["zh"],
        "skills": [],
    },
    "super01": {"role": "supervisor", "display_name": "刘主管", "badge": "S0001"},
}

# The saved payees of the demo customers. `nickname` is what the customer calls them
# (儿子, 女儿); `name` is the account holder's name; `pinyin` helps English speech.
DEMO_PAYEES: dict[str, list[dict]] = {
    "zhangsan": [
        {"name": "李四", "nickname": None, "account": "6222020200112233445", "bank": "工商银行"},
        {"name": "王五", "nickname": None, "account": "6217000010002223334", "bank": "建设银行"},
        {"name": "赵六", "nickname": None, "account": "6228480010203040506", "bank": "农业银行"},
        {"name": "刘芳", "nickname": None, "account": "6216610100009876543", "bank": "中国银行"},
        {"name": "张伟", "nickname": "儿子", "account": "6222021001122334455", "bank": "工商银行"},
        {"name": "张丽", "nickname": "女儿", "account": "6225880212345678901", "bank": "招商银行"},
    ],
    "lisi": [
        {"name": "张三", "nickname": None, "account": "6222020200998877665", "bank": "工商银行"},
    ],
}
