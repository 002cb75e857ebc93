"""Debian's real nginx on loopback, running a synthesized server config (conf.d/default.conf)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .programs import free_port, require, wait_for_port

# nginx's temp directories default below /var/lib/nginx; keep them inside the scratch dir.
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@contextmanager
def nginx(workdir: Path, server_conf: str, prefix: Path) -> Iterator[int]:
    """Run ``server_conf`` after ``nginx -t``; yields the port.

    Translated for loopback, and nothing else: ``listen <port>`` becomes a free 127.0.0.1 port,
    and absolute ``root`` paths get ``prefix`` in front (the pod's volumes live below it).
    """
    binary = require("nginx", "nginx-light")
    port = free_port()
    server_conf, listens = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", server_conf)
    assert listens == 1, server_conf
    server_conf = server_conf.replace("root /", f"root {prefix}/")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "default.conf").write_text(server_conf)
    temp_paths = "".join(f"  {kind}_temp_path {workdir}/{kind};\n" for kind in TEMP_PATHS)
    (workdir / "nginx.conf").write_text(
        f"daemon off;\nuser root root;\npid {workdir}/nginx.pid;\nerror_log stderr warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  access_log off;\n{temp_paths}  include {workdir}/default.conf;\n}}\n"
    )
    conf = str(workdir / "nginx.conf")
    check = subprocess.run([binary, "-t", "-c", conf], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([binary, "-c", conf], stderr=subprocess.PIPE)
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
