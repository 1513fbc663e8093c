"""Demo accounts and data seeded in demo mode (a production config turns demo mode off).

One place for them, so the bank app, the voice assistant and the tests agree. The demo
customers' saved payees live in voice.demo, beneath both the bank and the voice assistant.
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
