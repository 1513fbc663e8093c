"""The layering holds: domain ← service ← infrastructure ← transport ← composition root
(scripts/layering.py names any import against it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_import_goes_against_the_layering():
    result = subprocess.run([sys.executable, str(ROOT / "scripts/layering.py")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:]
