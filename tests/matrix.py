"""The composition matrix: each pair of patterns on one workload, two instances of each pattern,
and all three patterns on each workload kind, with the user's own edits before and after.

One definition serves the manifest checks (tests/test_composition.py) and the real pod runs
(tests/test_pods.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus

from constructs_lib import (
    MetricsAdapter,
    MetricsSource,
    RedisAmbassador,
    SidecarGitSync,
    container_resources,
    restricted_pod_security,
)

REPO = "https://github.com/example/site.git"
#: Every cell's app: a numeric non-root uid, small resources, a probe (restricted-ready).
APP_IMAGE = "example/shop-api:1.4.2"

Attach = Callable[[cdk8s.Chart, Any, int, bool], Any]


def _git(c: cdk8s.Chart, w: Any, i: int, batch: bool) -> Any:
    # A second instance needs its own name (container, volumes) and link; its mount path and
    # port move aside by themselves.
    return SidecarGitSync(
        c, f"site{i}", workload=w, repo=REPO, name="git-sync" if i == 0 else "docs-sync", link=f"site{i}"
    )


def _ambassador(c: cdk8s.Chart, w: Any, i: int, batch: bool) -> Any:
    # Development mode: a real redis-server in the pod behind the same Envoy, so every cell runs
    # as a pod on its own. A second instance needs only its name.
    return RedisAmbassador(
        c,
        f"cache{i}",
        workload=w,
        development=True,
        native_sidecar=batch,
        **({} if i == 0 else {"name": "sessions"}),
    )


def _metrics(c: cdk8s.Chart, w: Any, i: int, batch: bool) -> Any:
    # Two adapters of one pod: two sources (a pod has one prometheus.io port; PodMonitors list both).
    # The app offers nginx's stub_status page on its port (tests/pods/app.py); the redis exporter
    # reads the Redis on 6379 (the ambassador's, where the cell has one).
    source = (
        MetricsSource.nginx(scrape_uri="http://127.0.0.1:8000/stub_status")
        if i == 0
        else MetricsSource.redis()
    )
    return MetricsAdapter(
        c,
        f"metrics{i}",
        workload=w,
        source=source,
        native_sidecar=batch,
        pod_monitor=True,
        annotations=i == 0,
        **({} if i == 0 else {"name": "redis-metrics", "port_name": "redis-metrics"}),
    )


PATTERNS: dict[str, Attach] = {"git-sync": _git, "ambassador": _ambassador, "metrics": _metrics}

KINDS: dict[str, Callable[[cdk8s.Chart], Any]] = {
    "Deployment": lambda c: kplus.Deployment(c, "w"),
    "StatefulSet": lambda c: kplus.StatefulSet(c, "w", containers=[kplus.ContainerProps(**_app())]),
    "DaemonSet": lambda c: kplus.DaemonSet(c, "w"),
    "Job": lambda c: kplus.Job(c, "w"),
    "CronJob": lambda c: kplus.CronJob(c, "w", schedule=cdk8s.Cron.daily()),
    "Pod": lambda c: kplus.Pod(c, "w"),
}
BATCH = frozenset({"Job", "CronJob"})


def _app() -> dict[str, Any]:
    return dict(
        name="app",
        image=APP_IMAGE,
        ports=[kplus.ContainerPort(number=8000, name="http")],
        security_context=kplus.ContainerSecurityContextProps(user=10001, group=10001),
        resources=container_resources(50, 500, 32, 64),
        readiness=kplus.Probe.from_http_get("/healthz", port=8000),
    )


@dataclass(frozen=True)
class Cell:
    """One pod of the matrix: ``patterns`` (names of :data:`PATTERNS`, repeats = instances) on a
    workload of ``kind``."""

    name: str
    kind: str
    patterns: tuple[str, ...]

    def build(self, app: cdk8s.App, *, reverse: bool = False, late_edits: bool = False) -> cdk8s.Chart:
        """The cell's chart; ``reverse`` attaches in the other order, ``late_edits`` makes the
        user's own edits (an env variable, a volume) after the patterns instead of before."""
        c = cdk8s.Chart(app, self.name, namespace="matrix")
        w = KINDS[self.kind](c)
        if self.kind != "StatefulSet":
            w.add_container(**_app())
        if not late_edits:
            _user_edits(c, w)
        seen: dict[str, int] = {}
        order = list(reversed(self.patterns)) if reverse else list(self.patterns)
        for pattern in order:
            i = seen[pattern] = seen.get(pattern, -1) + 1
            PATTERNS[pattern](c, w, i, self.kind in BATCH)
        if late_edits:
            _user_edits(c, w)
        restricted_pod_security(w)
        return c


def _user_edits(c: cdk8s.Chart, w: Any) -> None:
    app = w.containers[0]
    app.env.add_variable("LOG_LEVEL", kplus.EnvValue.from_value("info"))
    app.mount("/tmp", kplus.Volume.from_empty_dir(c, "app-tmp", "app-tmp"))


CELLS: list[Cell] = [
    Cell("git-sync-and-ambassador", "Deployment", ("git-sync", "ambassador")),
    Cell("git-sync-and-metrics", "Deployment", ("git-sync", "metrics")),
    Cell("ambassador-and-metrics", "Deployment", ("ambassador", "metrics")),
    Cell("two-git-syncs", "Deployment", ("git-sync", "git-sync")),
    Cell("two-ambassadors", "Deployment", ("ambassador", "ambassador")),
    Cell("two-adapters", "Deployment", ("metrics", "metrics")),
    *(Cell(f"all-on-{k.lower()}", k, ("git-sync", "ambassador", "metrics")) for k in KINDS),
]
