"""The env the ambassador injects, read by every Redis client people run, at exact versions (old
and new), at their defaults and with the one setting the docs name, in production (Envoy in
front of a real primary and read-only replica, with AUTH) and in development mode (the same Envoy
in front of the pod's scratch redis-server).

Each client is installed at an exact version in a directory of its own (tests/clients/versions.py)
and runs the app code of tests/clients/, which reads only the env the library injects
(``REDIS_URL``, ``REDIS_PASSWORD``, ``REDIS_PROTOCOL``). The client table of
docs/patterns/redis-ambassador.md is this matrix: the test renders it and compares (``UPDATE_GOLDEN=1``
rewrites it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .ambassador_harness import PASSWORD, Ambassador, ambassador, synthesize
from .clients.versions import MATRIX, Client, install, installed_version
from .redis_servers import primary_and_replica

pytestmark = pytest.mark.integration

APPS = Path(__file__).parent / "clients"
TABLE_PAGE = Path(__file__).resolve().parent.parent / "docs" / "patterns" / "redis-ambassador.md"
#: The one setting for the clients that need it, as the docs' table names it. redis-py 4.x
#: has no `protocol` option (it fails on one: TypeError) and ioredis speaks RESP2 only.
SETTING = {
    "redis-py": "`protocol=int(REDIS_PROTOCOL)`",
    "node-redis": "`RESP: Number(REDIS_PROTOCOL)`",
}
#: The clients that fail at their defaults through the ambassador (RESP3 first, no fallback).
NEEDS_THE_SETTING = {"redis-py 8.0.1", "redis-py 8.1.0", "node-redis 6.4.0"}
MODES = ("production", "development")


def has_setting(client: Client) -> bool:
    return client.library in SETTING and client.version != "4.3.4"


def run_client(client: Client, amb: Ambassador, key: str, setting: str) -> dict[str, object]:
    env = {**os.environ, **amb.env, "REDIS_PASSWORD": PASSWORD}
    if client.runtime == "python":
        env["PYTHONPATH"] = str(client.home)
        cmd = [sys.executable, str(APPS / "app.py"), key, setting]
    else:
        env["NODE_PATH"] = str(client.home / "node_modules")
        cmd = ["node", str(APPS / "app.js"), client.library, key, setting]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, f"{client.label} crashed: {proc.stderr[-2000:]}"
    out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert out["version"] == client.version, out
    return out


def verbatim(out: dict[str, object]) -> str:
    if out["result"] == "ok":
        assert (out["get"], out["incr"]) == ("v1", 1), out
        return "ok"
    return f"fails: {out['result']}"


def render_table(results: dict[tuple[str, str, str], str]) -> str:
    lines = [
        "| client | at its defaults | the setting that asks for RESP2 | with it |",
        "|---|---|---|---|",
    ]
    for client in MATRIX:
        at = [results[(client.label, mode, "defaults")] for mode in MODES]
        setting = SETTING[client.library] if has_setting(client) else "none exists"
        with_it = "-"
        if has_setting(client):
            with_it = " / ".join(dict.fromkeys(results[(client.label, mode, "protocol")] for mode in MODES))
        note = f" ({client.note})" if client.note else ""
        lines.append(f"| {client.label}{note} | {' / '.join(dict.fromkeys(at))} | {setting} | {with_it} |")
    return "\n".join(lines)


def test_every_client_at_every_version(tmp_path: Path) -> None:
    install()
    for client in MATRIX:
        assert installed_version(client) == client.version, client
    results: dict[tuple[str, str, str], str] = {}
    with primary_and_replica(tmp_path / "redis", password=PASSWORD) as (primary, replica):
        prod = synthesize(primary, replica, auth=True)
        with ambassador(prod, tmp_path / "prod"):
            for i, client in enumerate(MATRIX):
                for setting in ("defaults", "protocol") if has_setting(client) else ("defaults",):
                    sets, gets = primary.calls("set"), replica.calls("get")
                    out = run_client(client, prod, f"prod-{i}-{setting}", setting)
                    results[(client.label, "production", setting)] = verbatim(out)
                    if out["result"] == "ok":
                        assert primary.calls("set") == sets + 1, client  # the write reached the primary
                        assert replica.calls("get") > gets, client  # and the reads the replica
    dev = synthesize(None, None, auth=True)
    with ambassador(dev, tmp_path / "dev"):
        for i, client in enumerate(MATRIX):
            for setting in ("defaults", "protocol") if has_setting(client) else ("defaults",):
                out = run_client(client, dev, f"dev-{i}-{setting}", setting)
                results[(client.label, "development", setting)] = verbatim(out)
    # The same env in both modes, and no protocol in the URL (redis-py 4 fails every call on one).
    assert prod.env == {**dev.env, "REDIS_PORT": prod.env["REDIS_PORT"], "REDIS_URL": prod.env["REDIS_URL"]}
    assert prod.env["REDIS_URL"] == f"redis://127.0.0.1:{prod.port}"
    assert prod.env["REDIS_PROTOCOL"] == "2"

    table = render_table(results)
    print(table)
    for client in MATRIX:
        for mode in MODES:
            at_defaults = results[(client.label, mode, "defaults")]
            if client.label in NEEDS_THE_SETTING:
                assert "NOPROTO" in at_defaults, (client.label, mode, at_defaults)
                assert results[(client.label, mode, "protocol")] == "ok", (client.label, mode)
            else:
                assert at_defaults == "ok", (client.label, mode, at_defaults)
    text = TABLE_PAGE.read_text()
    block = re.search(r"<!-- client-matrix -->\n(.*?)\n<!-- /client-matrix -->", text, flags=re.S)
    assert block, "the docs page has no client-matrix block"
    if os.environ.get("UPDATE_GOLDEN"):
        TABLE_PAGE.write_text(text.replace(block[1], table))
    else:
        assert block[1] == table, "the docs' client table is out of date: UPDATE_GOLDEN=1 to rewrite it"


def test_select_is_refused_and_every_app_stays_on_database_0(tmp_path: Path) -> None:
    """Without the refusal Envoy 1.40 answered `SELECT 1` with OK and kept the client on database
    0 (an app selecting a database wrote into database 0 unawares); now SELECT is an error, and a
    URL with a database fails at connect instead of writing elsewhere."""
    import redis

    with primary_and_replica(tmp_path / "redis", password=PASSWORD) as (primary, replica):
        prod = synthesize(primary, replica, auth=True)
        with ambassador(prod, tmp_path / "prod"):
            r = redis.Redis(port=prod.port, password=PASSWORD, protocol=2, decode_responses=True)
            with pytest.raises(redis.ResponseError, match="Fault Injected: Error"):
                r.execute_command("SELECT", "1")
            assert r.set("after-select", "x") is True
            assert primary.client().get("after-select") == "x"  # database 0, as every client's
            on_db_1 = redis.from_url(f"{prod.url}/1", password=PASSWORD, protocol=2)
            with pytest.raises(redis.ResponseError, match="Fault Injected: Error"):
                on_db_1.set("k", "v")
