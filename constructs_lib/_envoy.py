"""Envoy config fragments every topology of the ambassador writes: pure data, no cdk8s.

Shared by ``_redis_ambassador.py`` (the replicated, sharded and Redis Cluster topologies) and
``_redis_sentinel.py`` (the Sentinel topology's role-checked clusters), and by the Sentinel bench.
Envoy API: envoy.config.cluster.v3 (Cluster, health checks), envoy.config.core.v3 (SocketAddress),
envoy.extensions.filters.network.redis_proxy.v3 (RedisProtocolOptions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Prefix of every typed_config ``@type``.
TYPE = "type.googleapis.com/envoy.extensions"
REDIS_FILTER = "envoy.filters.network.redis_proxy"


def decimal_seconds(ms: int) -> str:
    """Whole milliseconds as exact decimal seconds ('5', '0.25', '1234.567'); no float rounding."""
    whole, frac = divmod(ms, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


def seconds(ms: int) -> str:
    """Whole milliseconds as an Envoy duration ('5s', '0.25s')."""
    return decimal_seconds(ms) + "s"


def socket(address: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": address, "port_value": port}}


def lb_endpoints(servers: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    """One ``lb_endpoints`` entry per ``(host, port)``, in the order given."""
    return [{"endpoint": {"address": socket(host, port)}} for host, port in servers]


def auth_options(password_file: str | None) -> dict[str, Any]:
    """A cluster's ``typed_extension_protocol_options`` that AUTH to its servers with the password
    in ``password_file`` (read by Envoy, never in the config); empty without one."""
    if password_file is None:
        return {}
    return {
        "typed_extension_protocol_options": {
            REDIS_FILTER: {
                "@type": f"{TYPE}.filters.network.redis_proxy.v3.RedisProtocolOptions",
                "auth_password": {"filename": password_file},
            }
        }
    }


def redis_health_check(timeout_ms: int, interval_ms: int) -> dict[str, Any]:
    """Envoy's Redis health checker (a PING, authenticated with the cluster's auth_password): one
    failure takes a server out, one success brings it back. ``no_traffic_interval`` as
    ``interval``: Envoy's default (60 s) applies to clusters it sees as idle, as redis_proxy's are."""
    return {
        "timeout": seconds(timeout_ms),
        "interval": seconds(interval_ms),
        "no_traffic_interval": seconds(interval_ms),
        "unhealthy_threshold": 1,
        "healthy_threshold": 1,
        "custom_health_check": {
            "name": "envoy.health_checkers.redis",
            "typed_config": {"@type": f"{TYPE}.health_checkers.redis.v3.Redis"},
        },
    }
