"""Demo accounts and data seeded in demo mode (a production config turns demo mode off).

The product's demo sign-in accounts (customers, agents, a supervisor) and their published
password: one place for them, so the server, the CLI, the bank app, the voice assistant and the
tests agree. What only the demo bank needs (accounts, balances, history, the transaction
password) lives in demo_bank.demo_data; the demo customers' saved payees in voice.demo, beneath
both the bank and the voice assistant.
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
