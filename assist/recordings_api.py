"""Recordings over HTTP: list, metadata with timeline, events for the player, viewing log.

Agents see only sessions they handled, supervisors all, customers none; every opening of a
recording is itself logged (who, when, what).
"""
from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from aiohttp import web

from signaling.domain.model import Role
from signaling.service import Principal

from .http_api import json_error, staff
from .storage.recordings import recording_views, recordings
from .storage.sql import PUBLIC, help_requests, request_events


def _row(row) -> dict:
    data = dict(row._mapping)
    data["agents"] = [a for a in data.pop("agent_ids", "").split(",") if a]
    return data


def add_routes(app: web.Application) -> None:
    from .server import RECORDINGS, RECORDS

    def run(fn, *args):
        return asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def visible(principal: Principal, row) -> bool:
        return principal.role is Role.SUPERVISOR or f",{principal.user_id}," in row.agent_ids

    def query_list(principal: Principal, q: dict) -> list[dict]:
        query = (sa.select(recordings, help_requests.c.outcome, help_requests.c.end_reason,
                           help_requests.c.ended_at, help_requests.c.edition, help_requests.c.topic)
                 .join(help_requests, help_requests.c.request_id == recordings.c.request_id, isouter=True)
                 .order_by(recordings.c.started_at.desc()).limit(q["limit"]))
        if principal.role is Role.AGENT:
            query = query.where(recordings.c.agent_ids.like(f"%,{principal.user_id},%"))
        if q.get("agent"):
            query = query.where(recordings.c.agent_ids.like(f"%,{q['agent']},%"))
        if q.get("customer"):
            query = query.where(recordings.c.customer_id == q["customer"])
        if q.get("outcome"):
            query = query.where(help_requests.c.outcome == q["outcome"])
        if q.get("from") is not None:
            query = query.where(recordings.c.started_at >= q["from"])
        if q.get("to") is not None:
            query = query.where(recordings.c.started_at < q["to"])
        with app[RECORDS].engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def load(principal: Principal, session_id: str, what: str):
        with app[RECORDS].engine.begin() as conn:
            row = conn.execute(sa.select(recordings).where(recordings.c.session_id == session_id)).first()
            if row is None or not visible(principal, row):
                return None  # another agent's recording answers exactly like a missing one
            conn.execute(recording_views.insert().values(session_id=session_id, viewer=principal.user_id,
                                                         at=time.time(), what=what))
            if what != "meta":
                return row
            timeline = conn.execute(sa.select(request_events).where(request_events.c.request_id == row.request_id)
                                    .order_by(request_events.c.at, request_events.c.id)).all()
            request = conn.execute(sa.select(*PUBLIC).where(help_requests.c.request_id == row.request_id)).first()
            return _row(row) | {
                "request": dict(request._mapping) if request else None,
                "timeline": [{"at": e.at, "event": e.event, "detail": e.detail} for e in timeline],
            }

    async def list_recordings(request: web.Request) -> web.Response:
        principal = await staff(request)
        q = request.query
        try:
            params = {"limit": max(1, min(500, int(q.get("limit", "100")))),
                      "from": float(q["from"]) if "from" in q else None,
                      "to": float(q["to"]) if "to" in q else None,
                      "agent": q.get("agent", ""), "customer": q.get("customer", ""), "outcome": q.get("outcome", "")}
        except ValueError:
            return json_error(400, "bad_payload", "limit, from and to must be numbers.")
        await app[RECORDINGS].flush()
        return web.json_response({"recordings": await run(query_list, principal, params)})

    async def get_recording(request: web.Request) -> web.Response:
        principal = await staff(request)
        await app[RECORDINGS].flush()
        meta = await run(load, principal, request.match_info["session_id"], "meta")
        if meta is None:
            return json_error(404, "not_found", "No such recording for you.")
        return web.json_response(meta)

    async def get_events(request: web.Request) -> web.Response:
        principal = await staff(request)
        session_id = request.match_info["session_id"]
        await app[RECORDINGS].flush()
        if await run(load, principal, session_id, "events") is None:
            return json_error(404, "not_found", "No such recording for you.")
        events = await run(lambda: list(app[RECORDINGS].read(session_id)))
        return web.json_response({"events": events})

    async def get_views(request: web.Request) -> web.Response:
        principal = await staff(request)
        if principal.role is not Role.SUPERVISOR:
            return json_error(403, "forbidden", "Only supervisors see the viewing log.")

        def read():
            with app[RECORDS].engine.connect() as conn:
                rows = conn.execute(sa.select(recording_views)
                                    .where(recording_views.c.session_id == request.match_info["session_id"])
                                    .order_by(recording_views.c.id)).all()
                return [{"viewer": r.viewer, "at": r.at, "what": r.what} for r in rows]
        return web.json_response({"views": await run(read)})

    app.router.add_get("/api/recordings", list_recordings)
    app.router.add_get("/api/recordings/{session_id}", get_recording)
    app.router.add_get("/api/recordings/{session_id}/events", get_events)
    app.router.add_get("/api/recordings/{session_id}/views", get_views)
