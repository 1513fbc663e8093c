"""The settings tables in README.md and docs/deploy.md are the model's output, never edited by hand."""

from __future__ import annotations

import pytest

from assist import settings_doc
from assist.config import Settings


@pytest.mark.parametrize("path", settings_doc.TARGETS, ids=lambda p: p.name)
def test_the_settings_table_is_current(path):
    text = path.read_text(encoding="utf-8")
    assert settings_doc.START in text and settings_doc.END in text, f"{path.name} has no settings markers"
    assert settings_doc.rewrite(text) == text, (
        f"the settings table in {path.name} is stale: run `.venv/bin/python -m assist.settings_doc --write`"
    )


def test_every_setting_has_a_row_with_its_default_and_description():
    table = settings_doc.table()
    for name, spec in Settings.model_fields.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{Settings.env_name(name)}` |"))
        assert spec.description and row.endswith(f"| {spec.description} |"), row
    assert "| `ASSIST_DEMO` | `1` |" in table and "| `ASSIST_CACHE_DIR` | `var/models/` in the checkout |" in table
    assert "| `ASSIST_RECORDINGS_DIR` | unset |" in table and "| `ASSIST_TRUSTED_PROXIES` | `127.0.0.1,::1` |" in table


def test_a_stale_table_is_replaced_and_the_rest_kept():
    stale = f"before\n{settings_doc.START}\n| old | table |\n{settings_doc.END}\nafter\n"
    fresh = settings_doc.rewrite(stale)
    assert fresh.startswith(f"before\n{settings_doc.START}\n") and fresh.endswith(f"{settings_doc.END}\nafter\n")
    assert "| old | table |" not in fresh and settings_doc.table() in fresh
    with pytest.raises(ValueError, match="settings:start"):
        settings_doc.rewrite("no markers here")
