"""Recordings over HTTP: list, metadata with timeline, events for the player, viewing log.

Agents see only sessions they handled, supervisors all, customers none; every opening of a
recording is itself logged (who, when, what).
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa
from aiohttp import web

from signaling.domain.model import Role, is_guest
from signaling.service import Principal

from .appkeys import RECORDINGS, RECORDS
from .guest import GUEST_NAME
from .http_api import json_error, staff
from .storage.recordings import audio_segments, recording_views, recordings
from .storage.sql import PUBLIC, help_requests, request_events, users


def _row(row, names: dict[str, str] | None = None) -> dict:
    data = dict(row._mapping)
    data["agents"] = [a for a in data.pop("agent_ids", "").split(",") if a]
    if names is not None:  # people by their names, not their sign-in names
        # A guest has no account: named as the consoles name guests (in their own language).
        guest = is_guest(data["customer_id"])
        data["customer_name"] = GUEST_NAME if guest else names.get(data["customer_id"], data["customer_id"])
        data["agent_names"] = [names.get(a, a) for a in data["agents"]]
    return data


def _names(conn, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(users.c.username, users.c.display_name).where(users.c.username.in_(ids)))
    return {r.username: r.display_name for r in rows}


def _people(conn, text: str) -> list[str]:
    """Sign-in names whose sign-in or display name contains the text (the console's search box)."""
    pattern = f"%{text}%"
    rows = conn.execute(
        sa.select(users.c.username).where(sa.or_(users.c.username.like(pattern), users.c.display_name.like(pattern)))
    )
    return [r.username for r in rows]


def add_routes(app: web.Application) -> None:
    def run(fn, *args):
        return asyncio.get_running_loop().run_in_executor(None, fn, *args)

    def visible(principal: Principal, row) -> bool:
        return principal.role is Role.SUPERVISOR or f",{principal.user_id}," in row.agent_ids

    def query_list(principal: Principal, q: dict) -> list[dict]:
        query = (
            sa.select(
                recordings,
                help_requests.c.outcome,
                help_requests.c.end_reason,
                help_requests.c.ended_at,
                help_requests.c.edition,
                help_requests.c.topic,
                help_requests.c.language,
                help_requests.c.requested_at,
                help_requests.c.handle_s,
                help_requests.c.rating,
                help_requests.c.rating_comment,
            )
            .join(help_requests, help_requests.c.request_id == recordings.c.request_id, isouter=True)
            .order_by(recordings.c.started_at.desc())
            .limit(q["limit"])
        )
        if principal.role is Role.AGENT:
            query = query.where(recordings.c.agent_ids.like(f"%,{principal.user_id},%"))
        if q.get("outcome"):
            query = query.where(help_requests.c.outcome == q["outcome"])
        if q.get("from") is not None:
            query = query.where(recordings.c.started_at >= q["from"])
        if q.get("to") is not None:
            query = query.where(recordings.c.started_at < q["to"])
        with app[RECORDS].engine.connect() as conn:
            if q.get("agent"):  # a sign-in name, or part of a name
                agents = _people(conn, q["agent"]) or [q["agent"]]
                query = query.where(sa.or_(*(recordings.c.agent_ids.like(f"%,{a},%") for a in agents)))
            if q.get("customer"):
                query = query.where(recordings.c.customer_id.in_(_people(conn, q["customer"]) or [q["customer"]]))
            rows = conn.execute(query).all()
            names = _names(conn, {r.customer_id for r in rows} | {a for r in rows for a in r.agent_ids.split(",") if a})
            return [_row(r, names) for r in rows]

    def load(principal: Principal, session_id: str, what: str):
        with app[RECORDS].engine.begin() as conn:
            row = conn.execute(sa.select(recordings).where(recordings.c.session_id == session_id)).first()
            if row is None or not visible(principal, row):
                return None  # another agent's recording answers exactly like a missing one
            conn.execute(
                recording_views.insert().values(session_id=session_id, viewer=principal.user_id, at=time.time(), what=what)
            )
            if what != "meta":
                return row
            timeline = conn.execute(
                sa.select(request_events)
                .where(request_events.c.request_id == row.request_id)
                .order_by(request_events.c.at, request_events.c.id)
            ).all()
            request = conn.execute(sa.select(*PUBLIC).where(help_requests.c.request_id == row.request_id)).first()
            names = _names(
                conn,
                {
                    row.customer_id,
                    *(a for a in row.agent_ids.split(",") if a),
                    *(str(v) for e in timeline for v in (e.detail or {}).values()),
                },
            )
            return _row(row, names) | {
                "names": names,
                "request": dict(request._mapping) if request else None,
                "timeline": [{"at": e.at, "event": e.event, "detail": e.detail} for e in timeline],
            }

    async def list_recordings(request: web.Request) -> web.Response:
        principal = await staff(request)
        q = request.query
        try:
            params = {
                "limit": max(1, min(500, int(q.get("limit", "100")))),
                "from": float(q["from"]) if "from" in q else None,
                "to": float(q["to"]) if "to" in q else None,
                "agent": q.get("agent", ""),
                "customer": q.get("customer", ""),
                "outcome": q.get("outcome", ""),
            }
        except ValueError:
            return json_error(400, "bad_payload", "limit, from and to must be numbers.")
        await app[RECORDINGS].flush()
        return web.json_response({"recordings": await run(query_list, principal, params)})

    async def opened(request: web.Request, what: str):
        """The recording as the principal may see it (logged as a view of `what`), or None."""
        principal = await staff(request)
        await app[RECORDINGS].flush()
        return await run(load, principal, request.match_info["session_id"], what)

    def missing() -> web.Response:
        return json_error(404, "not_found", "No such recording for you.")

    async def get_recording(request: web.Request) -> web.Response:
        meta = await opened(request, "meta")
        return missing() if meta is None else web.json_response(meta)

    async def get_events(request: web.Request) -> web.Response:
        if await opened(request, "events") is None:
            return missing()
        events = await run(lambda: list(app[RECORDINGS].read(request.match_info["session_id"])))
        return web.json_response({"events": events})

    async def get_audio(request: web.Request) -> web.Response:
        """The call's audio segments: their start times (the player places them on its clock)."""
        if await opened(request, "audio") is None:
            return missing()
        found = audio_segments(app[RECORDINGS].directory, request.match_info["session_id"])
        return web.json_response(
            {"segments": [{"index": i, "started_at": at, "bytes": path.stat().st_size} for i, (at, path) in enumerate(found)]}
        )

    async def get_audio_segment(request: web.Request) -> web.StreamResponse:
        found = audio_segments(app[RECORDINGS].directory, request.match_info["session_id"])
        index = request.match_info["index"]
        if not index.isdigit() or int(index) >= len(found) or await opened(request, "audio_file") is None:
            return missing()
        return web.FileResponse(found[int(index)][1], headers={"Content-Type": "audio/ogg"})

    async def get_views(request: web.Request) -> web.Response:
        principal = await staff(request)
        if principal.role is not Role.SUPERVISOR:
            return json_error(403, "forbidden", "Only supervisors see the viewing log.")

        def read():
            with app[RECORDS].engine.connect() as conn:
                rows = conn.execute(
                    sa.select(recording_views)
                    .where(recording_views.c.session_id == request.match_info["session_id"])
                    .order_by(recording_views.c.id)
                ).all()
                return [{"viewer": r.viewer, "at": r.at, "what": r.what} for r in rows]

        return web.json_response({"views": await run(read)})

    app.router.add_get("/api/recordings", list_recordings)
    app.router.add_get("/api/recordings/{session_id}", get_recording)
    app.router.add_get("/api/recordings/{session_id}/events", get_events)
    app.router.add_get("/api/recordings/{session_id}/views", get_views)
    app.router.add_get("/api/recordings/{session_id}/audio", get_audio)
    app.router.add_get("/api/recordings/{session_id}/audio/{index}", get_audio_segment)
