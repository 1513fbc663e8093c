"""The bank's JSON API under /api/bank/ (customers only; amounts are integer fen)."""

from __future__ import annotations

import asyncio
import time
from functools import partial

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from assist.auth import AuthError
from assist.http_api import json_error, principal_of
from signaling.domain.model import Role, is_guest
from signaling.service import Principal

from .messages import language_of, message, yuan
from .store import BankError, BankStore, Payee

MAX_AMOUNT = 10**11  # far above any limit; keeps amounts inside 64-bit arithmetic
MONEY_PARAMS = {"limit", "used", "remaining", "balance", "total", "maximum", "minimum"}
ACCOUNT_PATTERN = r"^\d{12,19}$"
KEY_PATTERN = r"^[A-Za-z0-9_-]{8,100}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NewPayeeIn(_In):
    name: str = Field(min_length=1, max_length=40)
    account_number: str = Field(pattern=ACCOUNT_PATTERN)
    bank: str = Field(default="", max_length=40)
    nickname: str | None = Field(default=None, max_length=20)

    def payee(self) -> Payee:
        return Payee(self.name, self.account_number, self.bank, self.nickname or None)


class QuoteIn(_In):
    payee_id: StrictInt | None = None
    payee: NewPayeeIn | None = None
    amount: StrictInt = Field(gt=0, le=MAX_AMOUNT)
    purpose: str = Field(default="", max_length=40)


class TransferIn(QuoteIn):
    idempotency_key: str = Field(pattern=KEY_PATTERN)
    password: str = Field(min_length=1, max_length=64)
    acknowledge_risk: StrictBool = False
    save_payee: StrictBool = False


class LimitsIn(_In):
    per_transaction: StrictInt | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    daily: StrictInt | None = Field(default=None, ge=0, le=MAX_AMOUNT)


FIELD_CODES = {
    "amount": "invalid_amount",
    "account_number": "invalid_account_number",
    "name": "invalid_name",
    "idempotency_key": "invalid_idempotency_key",
    "per_transaction": "invalid_amount",
    "daily": "invalid_amount",
}


def _text(request: web.Request, code: str, **params) -> str:
    language = language_of(request.headers.get("Accept-Language"))
    params = {k: yuan(v) if k in MONEY_PARAMS and isinstance(v, int) else v for k, v in params.items()}
    return message(code, language, **params)


def _refusal(request: web.Request, status: int, code: str, **params) -> web.Response:
    return json_error(status, code, _text(request, code, **params))


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


async def _body(request: web.Request, model: type[BaseModel]):
    try:
        raw = await request.json()
    except ValueError:
        raise _Refused(_refusal(request, 400, "bad_payload", detail="JSON")) from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][-1]) if first["loc"] else ""
        code = FIELD_CODES.get(field)
        if code:
            raise _Refused(_refusal(request, 400, code)) from None
        detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:3])
        raise _Refused(_refusal(request, 400, "bad_payload", detail=detail)) from None


def add_routes(app: web.Application, store: BankStore) -> None:
    async def customer(request: web.Request) -> Principal:
        try:
            principal = await principal_of(request)
        except AuthError as exc:
            raise _Refused(_refusal(request, 401, exc.code)) from None
        if principal.role is not Role.CUSTOMER or is_guest(principal.user_id):  # a guest has no account
            raise _Refused(_refusal(request, 403, "forbidden"))
        return principal

    async def run(fn, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(store.io, partial(fn, *args, **kwargs))

    def endpoint(handler):
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request, await customer(request))
            except _Refused as exc:
                return exc.response
            except BankError as exc:
                return _refusal(request, exc.status, exc.code, **exc.params)

        return wrapped

    async def overview(request, who: Principal):
        return web.json_response(await run(store.overview, who.user_id, who.display_name, time.time()))

    async def list_transactions(request, who: Principal):
        try:
            limit = max(1, min(200, int(request.query.get("limit", "50"))))
        except ValueError:
            raise _Refused(_refusal(request, 400, "bad_payload", detail="limit")) from None
        return web.json_response({"transactions": await run(store.list_transactions, who.user_id, limit)})

    async def list_payees(request, who: Principal):
        return web.json_response({"payees": await run(store.list_payees, who.user_id)})

    async def add_payee(request, who: Principal):
        body = await _body(request, NewPayeeIn)
        payee = await run(store.add_payee, who.user_id, body.payee(), time.time())
        return web.json_response({"payee": payee}, status=201)

    async def delete_payee(request, who: Principal):
        try:
            payee_id = int(request.match_info["payee_id"])
        except ValueError:
            raise BankError(404, "payee_not_found") from None
        await run(store.delete_payee, who.user_id, payee_id)
        return web.json_response({"deleted": payee_id})

    async def get_limits(request, who: Principal):
        return web.json_response((await run(store.overview, who.user_id, who.display_name, time.time()))["limits"])

    async def put_limits(request, who: Principal):
        body = await _body(request, LimitsIn)
        limits = await run(store.set_limits, who.user_id, body.per_transaction, body.daily, time.time())
        return web.json_response(limits)

    def payee_of(request: web.Request, body: QuoteIn) -> tuple[int | None, Payee | None]:
        if (body.payee_id is None) == (body.payee is None):
            raise _Refused(_refusal(request, 400, "payee_required"))
        return body.payee_id, body.payee.payee() if body.payee else None

    async def quote(request, who: Principal):
        body = await _body(request, QuoteIn)
        payee_id, payee = payee_of(request, body)
        result = await run(store.quote, who.user_id, payee_id, payee, body.amount, time.time())
        problem: BankError | None = result.pop("_problem")
        result.pop("_target")
        result["purpose"] = body.purpose
        result["problem"] = None
        if problem is not None:
            result["problem"] = {"code": problem.code, "message": _text(request, problem.code, **problem.params)}
        return web.json_response(result)

    async def transfer(request, who: Principal):
        body = await _body(request, TransferIn)
        payee_id, payee = payee_of(request, body)
        await run(store.verify_pin, who.user_id, body.password, time.time())
        replayed, result = await run(
            store.transfer,
            who.user_id,
            body.idempotency_key,
            payee_id,
            payee,
            body.amount,
            body.purpose,
            body.acknowledge_risk,
            body.save_payee,
            time.time(),
        )
        return web.json_response(result, headers={"Idempotent-Replayed": "true" if replayed else "false"})

    async def get_transfer(request, who: Principal):
        return web.json_response(await run(store.get_transfer, who.user_id, request.match_info["transfer_id"]))

    routes = [
        ("GET", "/api/bank/account", overview),
        ("GET", "/api/bank/transactions", list_transactions),
        ("GET", "/api/bank/payees", list_payees),
        ("POST", "/api/bank/payees", add_payee),
        ("DELETE", "/api/bank/payees/{payee_id}", delete_payee),
        ("GET", "/api/bank/limits", get_limits),
        ("PUT", "/api/bank/limits", put_limits),
        ("POST", "/api/bank/transfers/quote", quote),
        ("POST", "/api/bank/transfers", transfer),
        ("GET", "/api/bank/transfers/{transfer_id}", get_transfer),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, endpoint(handler))
