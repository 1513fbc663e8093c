"""Generate the protocol's reference from its models: `python -m signaling.protocol_doc --write`.

One source, three outputs, so none of them drifts from the code:
- docs/protocol.schema.json: a JSON Schema of every payload both ways (the models of
  signaling/protocol.py and signaling/outbound.py), with the events as two maps of
  event → payload;
- the tables of docs/protocol.md between the `<!-- generated: … -->` markers (the prose around
  them is written by hand);
- sdk/protocol.d.ts: TypeScript declarations of the same, for the customer SDK and
  the consoles (JSDoc `@type {import(".../protocol").ServerEvents["offer"]}`).

`--check` (and tests/signaling/test_protocol_doc.py) fails when a generated file is stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from .domain.model import Role
from .outbound import MODELS, OUTBOUND
from .protocol import INBOUND, PROTOCOL_VERSION

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "docs" / "protocol.schema.json"
DOC_PATH = ROOT / "docs" / "protocol.md"
TS_PATH = ROOT / "sdk" / "protocol.d.ts"
COMMAND = "python -m signaling.protocol_doc --write"

Schema = dict[str, Any]
ID_PATTERN = "^[A-Za-z0-9_-]+$"  # signaling.protocol.Id

# What each client → server event does and acknowledges (the table's last column), beyond the
# payload the model gives. Written here, next to the generator, so the table stays one table.
INBOUND_NOTES: dict[str, str] = {
    "sync": "ack `{protocol, user, role, display_name, ice_servers, record_audio, view}` (`record_audio`: "
    "whether the server records the call's audio); `view` for a customer: `{}` or `{request: {request_id, "
    "status, callback, long_wait, position?, eta_s?}}` or `{session: {session_id, state, code, agent: "
    "{name, badge}}}`; for an agent: `{state, presence, sessions, wrap_ups, wrap_up_about, offer?, queue, "
    "queue_total}` (each session with `elapsed_s`, how long the call has run; `wrap_up_about`: session id → "
    "`{customer_name, reason}`, what each pending wrap-up is about); "
    "for a supervisor: `{queue, queue_total, sessions, wall, board, now}` (`queue`: the first 100 of the "
    "line, `queue_total`: how many wait; `board` as the `board` event's rows; `now` the server's clock, "
    "for times in phase)",
    "help_request": "ack `{request: {...}}` as in `sync`. A second tap while waiting returns the same request. "
    "When nobody who speaks `language` is on shift: `{unstaffed: {language}}` and no place in line "
    "(recorded as `unstaffed`); the customer is offered the hotline or `callback_request`",
    "callback_request": "ack `{request: {..., callback: true}}`: the waiting request becomes a callback in its "
    "place, or a new callback joins the line. A callback waits whoever is on shift, outlives "
    "the customer's connection, and is offered to agents like any request",
    "help_cancel": "ack `{}`",
    "consent": "ack `{}`; `accept: true` starts sharing; `accept: false` keeps the call without sharing (the agent "
    "gets `share_declined` and may ask again); consenting again after `stop_sharing` resumes sharing",
    "ask_to_share": "the agent in the session; ack `{}`; on the call and not sharing: the customer gets "
    "`share_requested` (their consent dialog opens)",
    "stop_sharing": "ack `{}`",
    "customer_step": "the customer in a session; ack `{}`; the agent and supervisors in the session get "
    "`customer_step`; the record notes `scam_warning_at`. Only the step's name travels: never "
    "the payee or the amount",
    "rate_session": "ack `{}`; once per session, within an hour of its end; stored on the record (`rating`, `rating_comment`)",
    "end_session": "a supervisor only after barging in; ack `{}`",
    "agent_state": "ack `{}`",
    "offer_accept": "ack `{}` (then `session_started`)",
    "offer_decline": "ack `{}`",
    "wrap_up": "ack `{}`",
    "transfer": "ack `{}` (the target gets an `offer` of kind `transfer`)",
    "transfer_targets": "the agent in the session; ack `{agents: [{agent_id, name, badge}]}`: who could take a "
    "transfer of it now (available, free, speaks the customer's language)",
    "invite_supervisor": "ack `{}`",
    "supervisor_join": "ack `{session}`; `monitor` is silent (the supervisor hears the call); `whisper` coaches: "
    "the agent hears the supervisor, the customer does not (the agent is told); `barge` joins "
    "the call: both parties hear the supervisor and are told. Joining again changes the mode",
    "supervisor_leave": "ack `{}`",
    "record_audio": "the agent of the session, after the customer's consent; `sdp`: the console's complete WebRTC "
    "offer of the call's audio (both voices mixed); ack `{sdp}` (the server's answer, candidates "
    "included); `recording_off` when the server does not record audio (`ASSIST_RECORD_AUDIO=0`), "
    "`not_consented` before consent. See [recordings.md](recordings.md)",
    "reassign": "ack `{}`; the waiting (or ringing) customer is offered to that agent, who must be free and speak "
    "the customer's language (`agent_unavailable` otherwise)",
    "whisper": "a supervisor in the session; ack `{}`; only the agent receives it",
    "voice_start": "`sdp`: the browser's complete WebRTC offer for its microphone; ack `{sdp}` (the server's "
    "answer; candidates included). One utterance per customer: a new start replaces the old",
    "voice_stop": "ack `{}`; stop listening now and decode what was said (silence and a 15 s cap also end it)",
    "monitor_signal": "in the session; `supervisor` is required from the agent (which supervisor); ack `{}`; the "
    "agent's console forwards the call audio to a monitoring supervisor over its own WebRTC "
    "connection",
    "mirror": "ack `{}`; a batch too large for one message travels as pieces, each alone in its batch: "
    "`events: [{assistChunk: {id, index, total, data}}]`, joined by the server before anything is "
    "relayed ([masking.md](masking.md))",
    "annotation": "ack `{}`; `point` and `path` are fractions 0–1 of the customer's viewport",
    "rtc_signal": "ack `{}`",
}


# ---------------------------------------------------------------- the JSON Schema
def _inbound_models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for _, model, _ in INBOUND.values():
        seen.setdefault(model.__name__, model)
    return list(seen.values())


def _tidy(node: Any) -> Any:
    """Drop pydantic's per-property titles ("Session Id"): noise for readers and generators."""
    if isinstance(node, dict):
        props = node.get("properties")
        out = {k: _tidy(v) for k, v in node.items() if k != "properties"}
        if isinstance(props, dict):
            out["properties"] = {name: {k: _tidy(v) for k, v in prop.items() if k != "title"} for name, prop in props.items()}
        return out
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def _not_null(prop: Schema) -> Schema:
    variants = [v for v in prop.get("anyOf", ()) if v != {"type": "null"}]
    if "anyOf" not in prop:
        return prop
    rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    return {**rest, **variants[0]} if len(variants) == 1 else {**rest, "anyOf": variants}


def build_schema() -> Schema:
    inbound = _inbound_models()
    adapters: list[tuple[tuple[type, JsonSchemaMode], JsonSchemaMode, TypeAdapter[Any]]] = [
        ((m, "validation"), "validation", TypeAdapter(m)) for m in inbound
    ]
    adapters += [((m, "serialization"), "serialization", TypeAdapter(m)) for m in MODELS]
    _, schema = TypeAdapter.json_schemas(adapters, ref_template="#/$defs/{model}")
    defs: Schema = _tidy(schema["$defs"])
    for model in MODELS:  # on the wire: a default is always sent; a None default means "left out"
        node = defs[model.__name__]
        optional = model.optional_fields()
        node["required"] = [name for name in node["properties"] if name not in optional]
        for name in optional:
            node["properties"][name] = _not_null(node["properties"][name])
    client = {
        event: {"$ref": f"#/$defs/{model.__name__}", "x-senders": sorted(r.value for r in roles), "x-relay": relay}
        for event, (roles, model, relay) in INBOUND.items()
    }
    server: Schema = {}
    for event, models in OUTBOUND.items():
        refs = [{"$ref": f"#/$defs/{m.__name__}"} for m in models]
        server[event] = {**(refs[0] if len(refs) == 1 else {"oneOf": refs}), "x-to": models[0].to}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://assist.example/protocol.schema.json",
        "title": f"Assist signaling protocol, version {PROTOCOL_VERSION}",
        "description": f"Generated by `{COMMAND}` from signaling/protocol.py and signaling/outbound.py; "
        "docs/protocol.md explains it. Each event's payload is one JSON object.",
        "type": "object",
        "properties": {
            "client_to_server": {"type": "object", "properties": client, "additionalProperties": False},
            "server_to_client": {"type": "object", "properties": server, "additionalProperties": False},
        },
        "$defs": dict(sorted(defs.items())),
    }


# ---------------------------------------------------------------- types in words (the docs)
def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def doc_type(prop: Schema, defs: Schema) -> str:
    """A payload field's type as the tables write it: `str ≤ 200`, `"a"\\|"b"`, `[Point] ≤ 500`."""
    if "$ref" in prop:
        name = _ref_name(prop["$ref"])
        target = defs[name]
        if "enum" in target:
            return "\\|".join(_literal(v) for v in target["enum"])
        return name
    if "anyOf" in prop or "oneOf" in prop:
        return " \\| ".join(doc_type(v, defs) for v in (prop.get("anyOf") or prop.get("oneOf") or []))
    if "const" in prop:
        return _literal(prop["const"])
    if "enum" in prop:
        return "\\|".join(_literal(v) for v in prop["enum"])
    kind = prop.get("type")
    if kind == "string":
        if prop.get("pattern") == ID_PATTERN:
            return "id"  # the table's footnote says what an id may be
        out = "str"
        if "pattern" in prop:
            out += f" /{prop['pattern'].strip('^$')}/"
        low, high = prop.get("minLength"), prop.get("maxLength")
        if high is not None:
            out += f" {low}–{high}" if low else f" ≤ {high}"
        elif low:
            out += f" ≥ {low}"
        return out
    if kind in ("integer", "number"):
        out = "int" if kind == "integer" else "number"
        low, high = prop.get("minimum"), prop.get("maximum")
        if low is not None and high is not None:
            return f"{out} {low}–{high}"
        if low is not None:
            return f"{out} ≥ {low}"
        return out
    if kind == "boolean":
        return "bool"
    if kind == "null":
        return "null"
    if kind == "array":
        out = f"[{doc_type(prop.get('items', {}), defs)}]"
        return out + (f" ≤ {prop['maxItems']}" if "maxItems" in prop else "")
    if kind == "object":
        extra = prop.get("additionalProperties")
        if isinstance(extra, dict):
            return f"{{str: {doc_type(extra, defs)}}}"
        return "object"
    return "any"


def doc_fields(node: Schema, defs: Schema, defaults: bool) -> str:
    """`{a: T, b?: T = d}`: every field of an object, `?` where it may be left out."""
    required = set(node.get("required", ()))
    parts = []
    for name, prop in node.get("properties", {}).items():
        if name == "v":
            continue  # every payload may carry the protocol version (below the table)
        text = f"{name}{'' if name in required else '?'}: {doc_type(prop, defs)}"
        if defaults and "default" in prop and prop["default"] is not None:
            text += f" = {_literal(prop['default'])}"
        parts.append(text)
    return "{" + ", ".join(parts) + "}"


def _cell(text: str) -> str:
    return " ".join(text.split())


def _description(node: Schema) -> str:
    return _cell(node.get("description", ""))


def inbound_table(schema: Schema) -> str:
    defs = schema["$defs"]
    rows = ["| event | sender | payload | notes |", "|---|---|---|---|"]
    for event, entry in schema["properties"]["client_to_server"]["properties"].items():
        node = defs[_ref_name(entry["$ref"])]
        senders = ", ".join(r for r in (Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR) if r.value in entry["x-senders"])
        rows.append(f"| `{event}` | {senders} | `{doc_fields(node, defs, True)}` | {_cell(INBOUND_NOTES[event])} |")
    return "\n".join(rows)


def outbound_table(schema: Schema) -> str:
    defs = schema["$defs"]
    rows = ["| event | to | payload | notes |", "|---|---|---|---|"]
    for event, entry in schema["properties"]["server_to_client"]["properties"].items():
        refs = [r["$ref"] for r in entry.get("oneOf", [entry])]
        nodes = [defs[_ref_name(r)] for r in refs]
        payload = " or ".join(f"`{doc_fields(n, defs, False)}`" for n in nodes)
        notes = " ".join(d for d in (_description(n) for n in nodes) if d)
        rows.append(f"| `{event}` | {entry['x-to']} | {payload} | {notes} |")
    return "\n".join(rows)


def shapes_table(schema: Schema) -> str:
    """The nested objects the payloads name (a request as agents see it, a board row, …)."""
    defs = schema["$defs"]
    named = set()
    for node in defs.values():
        named |= set(re.findall(r'"\$ref": "#/\$defs/(\w+)"', json.dumps(node)))
    events = {_ref_name(e["$ref"]) for e in schema["properties"]["client_to_server"]["properties"].values()}
    events |= {m.__name__ for m in MODELS}
    rows = ["| shape | fields | notes |", "|---|---|---|"]
    for name in sorted(named - events):
        node = defs[name]
        if "enum" in node:
            continue  # written out where it is used
        rows.append(f"| `{name}` | `{doc_fields(node, defs, True)}` | {_description(node)} |")
    return "\n".join(rows)


SECTIONS: dict[str, Callable[[Schema], str]] = {
    "client-to-server": inbound_table,
    "server-to-client": outbound_table,
    "shapes": shapes_table,
}


def render_doc(doc: str, schema: Schema) -> str:
    for name, table in SECTIONS.items():
        start, end = f"<!-- generated: {name} ({COMMAND}) -->", f"<!-- end generated: {name} -->"
        if start not in doc or end not in doc:
            raise SystemExit(f"{DOC_PATH}: the markers of the {name} table are missing")
        before, rest = doc.split(start, 1)
        _, after = rest.split(end, 1)
        doc = f"{before}{start}\n{table(schema)}\n{end}{after}"
    return doc


# ---------------------------------------------------------------- TypeScript declarations
def ts_type(prop: Schema) -> str:
    if "$ref" in prop:
        return _ref_name(prop["$ref"])
    if "anyOf" in prop or "oneOf" in prop:
        variants = [ts_type(v) for v in (prop.get("anyOf") or prop.get("oneOf") or [])]
        return " | ".join(dict.fromkeys(variants))  # int | float are both number
    if "const" in prop:
        return _literal(prop["const"])
    if "enum" in prop:
        return " | ".join(_literal(v) for v in prop["enum"])
    kind = prop.get("type")
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "null":
        return "null"
    if kind == "array":
        item = ts_type(prop.get("items", {}))
        return f"({item})[]" if " | " in item else f"{item}[]"
    if kind == "object":
        extra = prop.get("additionalProperties")
        return f"Record<string, {ts_type(extra)}>" if isinstance(extra, dict) else "Record<string, unknown>"
    return "unknown"


def _ts_comment(text: str, indent: str = "") -> list[str]:
    if not text:
        return []
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return [f"{indent}/** {' '.join(line for line in lines if line)} */"]


def render_ts(schema: Schema) -> str:
    out = [
        f"// Generated by `{COMMAND}` from signaling/protocol.py and signaling/outbound.py:",
        "// do not edit. The payloads of the Assist signaling protocol, both ways (docs/protocol.md).",
        "// JavaScript reads them through JSDoc, e.g.",
        '//   /** @param {import("./protocol").ServerEvents["offer"]} offer */',
        "",
    ]
    for name, node in schema["$defs"].items():
        out += _ts_comment(node.get("description", ""))
        if "enum" in node:
            out.append(f"export type {name} = {' | '.join(_literal(v) for v in node['enum'])};")
        else:
            required = set(node.get("required", ()))
            out.append(f"export interface {name} {{")
            for field, prop in node.get("properties", {}).items():
                key = field if re.fullmatch(r"[A-Za-z_]\w*", field) else _literal(field)
                out += _ts_comment(prop.get("description", ""), "  ")
                out.append(f"  {key}{'' if field in required else '?'}: {ts_type(prop)};")
            out.append("}")
        out.append("")
    for title, section in (("ClientEvents", "client_to_server"), ("ServerEvents", "server_to_client")):
        what = "client → server: event → payload" if title == "ClientEvents" else "server → client: event → payload"
        out.append(f"/** The events {what}. */")
        out.append(f"export interface {title} {{")
        for event, entry in schema["properties"][section]["properties"].items():
            out.append(f"  {event}: {ts_type(entry)};")
        out.append("}")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- the command
def outputs() -> dict[Path, str]:
    schema = build_schema()
    return {
        SCHEMA_PATH: json.dumps(schema, indent=2, ensure_ascii=False) + "\n",
        DOC_PATH: render_doc(DOC_PATH.read_text(), schema),
        TS_PATH: render_ts(schema),
    }


def stale() -> list[Path]:
    return [path for path, text in outputs().items() if not path.exists() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="rewrite the generated files")
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale")
    args = parser.parse_args(argv)
    if args.write:
        for path, text in outputs().items():
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
                print(f"wrote {path.relative_to(ROOT)}")
        return 0
    if args.check:
        old = stale()
        for path in old:
            print(f"stale: {path.relative_to(ROOT)} (run `{COMMAND}`)", file=sys.stderr)
        return 1 if old else 0
    sys.stdout.write(json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
