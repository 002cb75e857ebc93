"""Runnable cdk8s apps, one module per pattern; `python -m examples` synthesizes them all."""

from collections.abc import Callable

# constructs_lib before cdk8s: it silences jsii's Node end-of-life banner before Node starts
import constructs_lib  # noqa: F401

# isort: split
import cdk8s

from . import (
    all_patterns,
    cronjob,
    daemonset,
    git_sync_apache,
    git_sync_native,
    git_sync_nginx,
    git_sync_python,
    git_sync_ssh,
    git_sync_tomcat,
    job,
    metrics_jmx,
    metrics_nginx,
    metrics_statsd,
    pod,
    redis_ambassador,
    redis_ambassador_dev,
    redis_cluster,
    redis_sentinel,
    redis_shards,
    statefulset,
)

#: Every example, as a function that adds its chart to an app.
EXAMPLES: dict[str, Callable[[cdk8s.App], cdk8s.Chart]] = {
    "git-sync-nginx": git_sync_nginx.build,
    "git-sync-ssh": git_sync_ssh.build,
    "git-sync-native": git_sync_native.build,
    "git-sync-apache": git_sync_apache.build,
    "git-sync-tomcat": git_sync_tomcat.build,
    "git-sync-python": git_sync_python.build,
    "redis-ambassador": redis_ambassador.build,
    "redis-ambassador-dev": redis_ambassador_dev.build,
    "redis-shards": redis_shards.build,
    "redis-cluster": redis_cluster.build,
    "redis-sentinel": redis_sentinel.build,
    "metrics-statsd": metrics_statsd.build,
    "metrics-nginx": metrics_nginx.build,
    "metrics-jmx": metrics_jmx.build,
    "all-patterns": all_patterns.build,
    # Every workload kind (the examples above are Deployments).
    "statefulset": statefulset.build,
    "daemonset": daemonset.build,
    "job": job.build,
    "cronjob": cronjob.build,
    "pod": pod.build,
}


def build_all(app: cdk8s.App) -> list[cdk8s.Chart]:
    return [build(app) for build in EXAMPLES.values()]
