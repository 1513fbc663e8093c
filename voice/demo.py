"""The demo customers' saved payees: what the voice assistant's command, benchmarks and tests
recognize names against, and what the demo bank (demo_bank.demo_data) seeds.

Here, in the voice package, because voice is a library the application composes: it never
imports assist, and assist may import it.
"""

from __future__ import annotations

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
