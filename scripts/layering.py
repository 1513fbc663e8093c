"""Which part of Assist imports which, and the imports that go against the layering.

    domain ← service ← infrastructure ← transport ← composition root

- domain: signaling.domain (the call center's rules, pure) and the messages both ways,
  signaling.protocol and signaling.outbound (plain data the rules take and emit, no I/O)
- service: the use cases and their transport-free helpers (signaling.service, ports, ...)
- infrastructure: what the service and the transports use (storage, accounts and tokens, the
  cluster, metrics, config, the demo bank's store, the voice library); it implements the service's
  ports and never calls the use cases (signaling.service) itself
- transport: what turns requests into calls (socket.io, HTTP routes, the voice gateway, AppKeys)
- composition root: create_app and the commands (assist.server, assist.live, assist.cli, voice.cli)

The demo bank (demo_bank) is a host application that embeds the SDK, not the product: its
JSON API is a transport, its store and tables infrastructure. assist's composition root mounts
it; signaling and voice never import it.

A module may import its own layer and the ones below it. Besides: voice never imports assist
(it is a library assist composes), signaling and voice never import the demo bank, and imports
inside functions (often a dodged import cycle) and under `if TYPE_CHECKING:` (types only,
nothing at run time) are listed apart.

    python scripts/layering.py          # summary, then anything against the layering
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("signaling", "assist", "voice", "demo_bank")
LAYERS = ("domain", "service", "infrastructure", "transport", "root")

TRANSPORT = (
    "signaling.sio",
    "assist.appkeys",
    "assist.http_api",
    "assist.recordings_api",
    "assist.guest",
    "demo_bank",
    "demo_bank.api",
    "assist.web",
    "voice.gateway",
)
ROOT_MODULES = ("assist.server", "assist.live", "assist.cli", "assist.__main__", "voice.cli")
SERVICE = (
    "signaling.service",
    "signaling.ports",
    "signaling.scrub",
    "signaling.mirror_guard",
    "signaling.ratelimit",
    "signaling.ice",
    "signaling.keyframes",
    "signaling.tasks",
    "signaling",
)


def _within(module: str, names: tuple[str, ...]) -> bool:
    return any(module == n or module.startswith(n + ".") for n in names)


def layer(module: str) -> str:
    if _within(module, ("signaling.domain", "signaling.outbound", "signaling.protocol")):
        return "domain"
    if module in ROOT_MODULES:
        return "root"
    if module in TRANSPORT or _within(module, ("assist.web",)):
        return "transport"
    if module in SERVICE:
        return "service"
    return "infrastructure"


def component(module: str) -> str:
    """Coarse enough to read: the domain, the storage, the bank and voice as one each."""
    for group in ("signaling.domain", "assist.storage", "demo_bank", "assist.migrations", "assist.web", "voice"):
        if _within(module, (group,)):
            return group
    return module


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _resolve(name: str, path: Path, node: ast.ImportFrom) -> str:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    base = node.module or ""
    return f"{package}.{base}".strip(".") if node.level else base


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str]]:
    """(imported module, how) for each import of our own code: "top", "function" or "typing"."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, how: str) -> None:
        for child in ast.iter_child_nodes(node):
            where = how
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and how == "top":
                where = "function"
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for inner in child.body:
                    visit(ast.Module(body=[inner], type_ignores=[]), "typing")
                for inner in child.orelse:
                    visit(ast.Module(body=[inner], type_ignores=[]), where)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, where) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(name, path, child)
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    found.append((target if target in known else base, where))
            visit(child, where)

    visit(tree, "top")
    ours = []
    for target, how in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            ours.append((target, how))
    return ours


def against(source: str, target: str) -> str | None:
    if source.startswith("voice") and target.startswith("assist"):
        return "voice imports assist"
    if source.startswith(("signaling", "voice")) and target.startswith("demo_bank"):
        return f"{source.partition('.')[0]} imports the demo bank (a host application, not the product)"
    if LAYERS.index(layer(target)) > LAYERS.index(layer(source)):
        return f"{layer(source)} imports {layer(target)}"
    if target == "signaling.service" and layer(source) == "infrastructure":
        return "infrastructure imports the use cases: it implements ports, only transports drive the service"
    return None


def main() -> int:
    known = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    problems, deferred, typing_only = [], [], []
    for name, path in known.items():
        for target, how in imports(name, path, known):
            if how == "typing":
                typing_only.append(f"{name} → {target}")
                continue
            if how == "function":
                deferred.append(f"{name} → {target}")
            if component(name) != component(target):
                edges[component(name)].add(component(target))
            why = against(name, target)
            if why:
                problems.append(f"{name} → {target}  ({why}{', inside a function' if how == 'function' else ''})")
    print("Imports between parts (each part: its layer, then what it imports):")
    for source in sorted(edges, key=lambda c: (LAYERS.index(layer(c)), c)):
        print(f"  [{layer(source)}] {source} → {', '.join(sorted(edges[source]))}")
    for title, lines in (
        ("Against the layering", problems),
        ("Imports inside functions", deferred),
        ("For types only, under TYPE_CHECKING", typing_only),
    ):
        unique = sorted(set(lines))
        print(f"\n{title} ({len(unique)}):")
        print("\n".join(f"  {line}" for line in unique) or "  none")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
