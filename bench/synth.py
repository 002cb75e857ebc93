"""Benchmark: build + synthesize time of a Deployment with each pattern, as a ratio to the same
Deployment without patterns, measured in the same run (median of interleaved repetitions).

    .venv/bin/python -m bench.synth [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import cdk8s
import cdk8s_plus_27 as kplus

from constructs_lib import MetricsAdapter, MetricsSource, RedisAmbassador, SidecarGitSync
from examples.git_sync_nginx import add_nginx


def git_sync(chart: cdk8s.Chart, web: kplus.Deployment) -> None:
    SidecarGitSync(chart, "site", deployment=web, repo="https://github.com/example/site.git")


def ambassador(chart: cdk8s.Chart, web: kplus.Deployment) -> None:
    RedisAmbassador(
        chart, "cache", deployment=web, primary="redis.data.svc:6379", replicas=["r.data.svc:6379"]
    )


def adapter(chart: cdk8s.Chart, web: kplus.Deployment) -> None:
    MetricsAdapter(chart, "metrics", deployment=web, source=MetricsSource.nginx())


def all_three(chart: cdk8s.Chart, web: kplus.Deployment) -> None:
    for attach in (git_sync, ambassador, adapter):
        attach(chart, web)


CASES: dict[str, Callable[[cdk8s.Chart, kplus.Deployment], None]] = {
    "baseline (nginx alone)": lambda chart, web: None,
    "+ SidecarGitSync": git_sync,
    "+ RedisAmbassador": ambassador,
    "+ MetricsAdapter": adapter,
    "+ all three": all_three,
}


def once(attach: Callable[[cdk8s.Chart, kplus.Deployment], None]) -> float:
    start = time.perf_counter()
    app = cdk8s.App()
    chart = cdk8s.Chart(app, "bench")
    attach(chart, add_nginx(chart))
    app.synth_yaml()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    opts = parser.parse_args()
    for attach in CASES.values():  # warm up node and jsii
        once(attach)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(opts.runs):
        for name, attach in CASES.items():
            samples[name].append(once(attach))
    base = statistics.median(samples["baseline (nginx alone)"])
    print(f"build + synth_yaml, median of {opts.runs} interleaved runs")
    print(f"{'case':<26}{'ms':>8}{'ratio':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<26}{median * 1000:>8.1f}{median / base:>8.2f}")


if __name__ == "__main__":
    main()
