"""The env the ambassador injects works with today's clients at their default settings, in
production (Envoy in front of a real primary and read-only replica) and in development mode
(the same Envoy in front of the pod's scratch redis-server), and behaves the same in both.

The clients are the current major releases, installed from the registries by this test
(``.clients/``): redis-py 8 and 5 (PyPI), ioredis 6 and node-redis 6 (npm). Each runs the
app code of ``tests/clients/`` with ``REDIS_URL`` exactly as the synthesized manifest sets it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .ambassador_harness import PASSWORD, ambassador, synthesize
from .redis_servers import primary_and_replica

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
APPS = Path(__file__).parent / "clients"
CLIENTS = ROOT / ".clients"
#: The current major of each client; bump a major here when a new one ships.
PYTHON_CLIENTS = {"redis-py 8": "redis>=8,<9", "redis-py 5": "redis>=5,<6"}
NODE_PACKAGES = ["ioredis@^6", "redis@^6"]
#: client -> (runner, extra argument); node-redis is run twice: defaults, and RESP: 2.
MATRIX = {
    "redis-py 8": ("python", "redis-py 8"),
    "redis-py 5": ("python", "redis-py 5"),
    "ioredis 6": ("node", "ioredis"),
    "node-redis 6 (RESP: 2)": ("node", "node-redis-resp2"),
    "node-redis 6 (defaults)": ("node", "node-redis"),
}


def install_clients() -> None:
    """Install every client once into .clients/ (re-done when the wanted versions change)."""
    stamp = CLIENTS / "installed.json"
    wanted = json.dumps({"python": PYTHON_CLIENTS, "node": NODE_PACKAGES}, sort_keys=True)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    for name, spec in PYTHON_CLIENTS.items():
        target = CLIENTS / name.replace(" ", "-")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target", str(target), spec],
            check=True,
            timeout=300,
        )
    node = CLIENTS / "node"
    node.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(node),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            *NODE_PACKAGES,
        ],
        check=True,
        timeout=300,
    )
    stamp.write_text(wanted)


def run_client(client: str, url: str, key: str) -> dict[str, object]:
    runner, arg = MATRIX[client]
    env = {**os.environ, "REDIS_URL": url, "REDIS_PASSWORD": PASSWORD}
    if runner == "python":
        env["PYTHONPATH"] = str(CLIENTS / arg.replace(" ", "-"))
        cmd = [sys.executable, str(APPS / "app.py"), key]
    else:
        env["NODE_PATH"] = str(CLIENTS / "node" / "node_modules")
        cmd = ["node", str(APPS / "app.js"), arg, key]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_every_client_in_production_and_development(tmp_path: Path) -> None:
    install_clients()
    results: dict[tuple[str, str], dict[str, object]] = {}
    with primary_and_replica(tmp_path / "redis", password=PASSWORD) as (primary, replica):
        prod = synthesize(primary, replica, auth=True)
        with ambassador(prod, tmp_path / "prod"):
            for i, client in enumerate(MATRIX):
                sets, gets = primary.calls("set"), replica.calls("get")
                results[(client, "production")] = out = run_client(client, prod.url, f"prod{i}")
                if out["result"] == "ok":
                    assert primary.calls("set") == sets + 1, client  # the write reached the primary
                    assert replica.calls("get") > gets, client  # and the reads the replica
    dev = synthesize(None, None, auth=True)
    with ambassador(dev, tmp_path / "dev"):
        for i, client in enumerate(MATRIX):
            results[(client, "development")] = run_client(client, dev.url, f"dev{i}")
    # The same env in both modes (test_redis_ambassador.py shows it byte for byte per port).
    assert prod.url == f"redis://127.0.0.1:{prod.port}?protocol=2"
    assert dev.url == f"redis://127.0.0.1:{dev.port}?protocol=2"

    table = "\n".join(
        f"{c:26} {m:12} {r.get('version', '')!s:8} {r['result']}" for (c, m), r in results.items()
    )
    print(table)
    for (client, mode), out in results.items():
        if client == "node-redis 6 (defaults)":
            # node-redis 6 opens with HELLO 3 and reads no protocol from the URL; Envoy answers
            # NOPROTO. It fails the same way in development, so nobody finds out in production.
            assert "NOPROTO" in str(out["result"]), (client, mode, out)
        else:
            assert out["result"] == "ok", (client, mode, out)
            assert (out["get"], out["incr"]) == ("v1", 1), (client, mode, out)
