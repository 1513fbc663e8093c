"""`make bench`: every benchmark, each printed as a table."""

from __future__ import annotations

import importlib

BENCHES = [
    "bench.signaling_bench",
    "bench.socket_bench",
    "bench.line_bench",
    "bench.auth_bench",
    "bench.scale_bench",
    "bench.delivery_bench",
    "bench.mirror_bench",
    "bench.console_bench",
    "bench.voice_bench",
    "bench.recording_bench",
]

if __name__ == "__main__":
    for name in BENCHES:
        module = importlib.import_module(name)
        print(f"\n=== {name} ===", flush=True)
        module.run()
