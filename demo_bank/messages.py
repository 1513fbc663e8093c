"""What the bank says when it refuses, in Chinese (default) and English.

The app sends `Accept-Language`; the error body is always `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "unauthorized": {
        "zh": "请先登录。",
        "en": "Please sign in first.",
    },
    "token_expired": {
        "zh": "登录已过期，请重新登录。",
        "en": "Your sign-in has expired; please sign in again.",
    },
    "token_invalid": {
        "zh": "登录凭证无效，请重新登录。",
        "en": "Your sign-in is not valid; please sign in again.",
    },
    "token_revoked": {
        "zh": "您已退出登录，请重新登录。",
        "en": "You have been signed out; please sign in again.",
    },
    "forbidden": {
        "zh": "只有银行客户本人可以使用手机银行。",
        "en": "Only the bank's customers can use mobile banking.",
    },
    "no_account": {
        "zh": "您还没有在本行开立账户。",
        "en": "You do not have an account with this bank.",
    },
    "bad_payload": {
        "zh": "请求内容不正确：{detail}",
        "en": "The request is not valid: {detail}",
    },
    "invalid_amount": {
        "zh": "金额必须是大于 0 的整数，单位为分（例如 ¥12.34 写作 1234）。",
        "en": "The amount must be a whole number of fen (cents) above 0, e.g. ¥12.34 is 1234.",
    },
    "invalid_name": {
        "zh": "请填写收款人姓名（不超过40个字）。",
        "en": "Enter the payee's name (at most 40 characters).",
    },
    "invalid_idempotency_key": {
        "zh": "缺少或无效的防重复提交标识（idempotency_key，8到100位字母、数字、-或_）。",
        "en": "The idempotency_key is missing or not valid (8 to 100 letters, digits, - or _).",
    },
    "not_found": {
        "zh": "找不到该记录。",
        "en": "No such record.",
    },
    "payee_not_found": {
        "zh": "找不到该收款人，请重新选择。",
        "en": "That payee was not found; please choose again.",
    },
    "payee_exists": {
        "zh": "该账号已在常用收款人中。",
        "en": "That account is already a saved payee.",
    },
    "payee_required": {
        "zh": "请选择常用收款人，或填写新收款人的姓名和账号。",
        "en": "Choose a saved payee, or enter a new payee's name and account number.",
    },
    "invalid_account_number": {
        "zh": "收款账号应为12到19位数字。",
        "en": "The account number must be 12 to 19 digits.",
    },
    "same_account": {
        "zh": "不能转账给自己的账户。",
        "en": "You cannot transfer to your own account.",
    },
    "payee_name_mismatch": {
        "zh": "收款人姓名与账号不符，请核对后再试。",
        "en": "The payee's name does not match the account number; please check them.",
    },
    "over_transaction_limit": {
        "zh": "转账金额超过单笔限额 {limit}。",
        "en": "The amount is over your per-transaction limit of {limit}.",
    },
    "over_daily_limit": {
        "zh": "超过每日累计限额 {limit}：今天已转出 {used}，最多还能转 {remaining}。",
        "en": "This is over your daily limit of {limit}: {used} sent today, at most {remaining} left.",
    },
    "insufficient_balance": {
        "zh": "余额不足：可用余额 {balance}，本次需要 {total}。",
        "en": "Not enough money: your balance is {balance}, this transfer needs {total}.",
    },
    "risk_ack_required": {
        "zh": "这笔转账存在风险，请先阅读风险提示并确认是本人操作。",
        "en": "This transfer looks unusual. Please read the warning and confirm that you are making it yourself.",
    },
    "wrong_password": {
        "zh": "交易密码错误，还可以再试 {left} 次。",
        "en": "Wrong transaction password. {left} tries left.",
    },
    "password_locked": {
        "zh": "交易密码连续输错 {max} 次，已锁定，请 {minutes} 分钟后再试，或联系客服。",
        "en": "The transaction password was wrong {max} times and is locked. Try again in {minutes} minutes, or contact us.",
    },
    "idempotency_conflict": {
        "zh": "这笔转账的内容已变化，请返回确认页重新确认。",
        "en": "The details of this transfer changed; please go back to the confirm page.",
    },
    "limit_above_maximum": {
        "zh": "{which}不能高于本行规定的最高额度 {maximum}。",
        "en": "The {which} cannot be above the bank's maximum of {maximum}.",
    },
    "limit_too_low": {
        "zh": "{which}至少为 {minimum}。",
        "en": "The {which} must be at least {minimum}.",
    },
    "limit_order": {
        "zh": "单笔限额不能高于每日累计限额。",
        "en": "The per-transaction limit cannot be above the daily limit.",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "per_transaction": {"zh": "单笔限额", "en": "per-transaction limit"},
    "daily": {"zh": "每日累计限额", "en": "daily limit"},
}


def language_of(accept_language: str | None) -> str:
    return "en" if (accept_language or "").strip().lower().startswith("en") else "zh"


def yuan(fen: int) -> str:
    """Integer fen as the customer reads it: 5268000 → ¥52,680.00 (no floats involved)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def message(code: str, language: str, **params) -> str:
    texts = MESSAGES.get(code)
    if texts is None:
        return code
    text = texts.get(language) or texts["zh"]
    values = {k: (WORDS[v][language] if isinstance(v, str) and v in WORDS else v) for k, v in params.items()}
    return text.format(**values)
