"""Debian's nginx in front of Assist nodes, configured by the same renderer as docker/nginx.conf."""

from __future__ import annotations

import subprocess
from pathlib import Path

from assist.deploy.nginx import render_nginx_conf

from .common import free_port, stop, wait_for_port

NGINX = "/usr/sbin/nginx"


class Nginx:
    def __init__(self, directory: Path, nodes: list[tuple[str, str, int]]) -> None:
        self.dir = directory
        self.nodes = nodes
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "nginx.conf"
        conf.write_text(
            render_nginx_conf(self.nodes, self.port, "127.0.0.1", temp_dir=self.dir, pid=self.dir / "nginx.pid", daemon=False)
        )
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, self.proc, what="nginx")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, timeout=5)
