"""The settings tables in README.md and docs/deploy.md, generated from `assist.config.Settings`.

    python -m assist.settings_doc --write   # rewrite the tables between the markers
    python -m assist.settings_doc           # check: exit 1 when a table is stale

A setting's name, default and description live in one place, the model; the documents carry
its output between `<!-- settings:start -->` and `<!-- settings:end -->`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assist.config import REPO_ROOT, Settings

START = "<!-- settings:start -->"
END = "<!-- settings:end -->"
NOTE = (
    "<!-- generated from assist/config.py (Settings) by `python -m assist.settings_doc --write`: edit the descriptions there -->"
)
TARGETS = (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "deploy.md")


def default_text(value: object) -> str:
    """A default as an operator would write it in the environment."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if isinstance(value, Path):
        try:
            return f"`{value.relative_to(REPO_ROOT)}/` in the checkout"
        except ValueError:
            return f"`{value}`"
    if isinstance(value, tuple):
        value = ",".join(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`" if value != "" else "empty"


def table() -> str:
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, spec in Settings.model_fields.items():
        if not spec.description:
            raise ValueError(f"{Settings.env_name(name)} has no description (assist/config.py)")
        cells = (f"`{Settings.env_name(name)}`", default_text(spec.default), spec.description)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def rewrite(text: str) -> str:
    """`text` with the part between the markers replaced by the current table."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"expected {START} … {END}")
    return f"{head}{START}\n{NOTE}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assist.settings_doc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="rewrite the tables (default: only check them)")
    args = parser.parse_args(argv)
    stale = []
    for path in TARGETS:
        text = path.read_text(encoding="utf-8")
        fresh = rewrite(text)
        if fresh != text:
            stale.append(path)
            if args.write:
                path.write_text(fresh, encoding="utf-8")
    for path in stale:
        print(f"{'rewrote' if args.write else 'stale'}: {path.relative_to(REPO_ROOT)}", file=sys.stderr)
    return 1 if stale and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
