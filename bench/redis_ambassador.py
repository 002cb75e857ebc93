"""Benchmark: redis-benchmark GET/SET throughput through the ambassador vs straight to the primary.

Both are measured in the same run, interleaved, on the same real redis-server; the figure
that matters is the ratio (absolute numbers on a shared 2-core machine are noise). The
ambassador is the synthesized Envoy config and command (tests/ambassador_harness.py).
The issue's target: ratio >= 0.6 pipelined.

    .venv/bin/python -m bench.redis_ambassador [--requests 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import subprocess
import tempfile
from pathlib import Path

from tests import envoy_runner
from tests.ambassador_harness import ambassador, synthesize
from tests.programs import require
from tests.redis_servers import primary_and_replica

PIPELINE = {"not pipelined": 1, "pipelined (-P 16)": 16}


def throughput(port: int, pipeline: int, requests: int) -> dict[str, float]:
    """requests/s per command from redis-benchmark's CSV output."""
    out = subprocess.run(
        [
            require("redis-benchmark", "redis-tools"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-t",
            "set,get",
            "-n",
            str(requests),
            "-c",
            "50",
            "-P",
            str(pipeline),
            "--csv",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    rows = list(csv.reader(io.StringIO(out)))
    return {row[0]: float(row[1]) for row in rows[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    envoy_runner.envoy_binary()
    with tempfile.TemporaryDirectory() as tmp, primary_and_replica(Path(tmp) / "redis") as (primary, replica):
        amb = synthesize(primary, replica)  # the construct's defaults
        with ambassador(amb, Path(tmp) / "pod"):
            samples: dict[tuple[str, str, str], list[float]] = {}
            for _ in range(opts.rounds):
                for mode, pipeline in PIPELINE.items():
                    for target, port in (("direct", primary.port), ("ambassador", amb.port)):
                        for command, rps in throughput(port, pipeline, opts.requests).items():
                            samples.setdefault((mode, command, target), []).append(rps)
    print(f"redis-benchmark -c 50 -n {opts.requests}, median of {opts.rounds} interleaved rounds")
    print(f"{'mode':<20}{'cmd':<5}{'direct rps':>12}{'ambassador rps':>16}{'ratio':>8}")
    for mode in PIPELINE:
        for command in ("SET", "GET"):
            direct = statistics.median(samples[(mode, command, "direct")])
            proxied = statistics.median(samples[(mode, command, "ambassador")])
            print(f"{mode:<20}{command:<5}{direct:>12.0f}{proxied:>16.0f}{proxied / direct:>8.2f}")


if __name__ == "__main__":
    main()
