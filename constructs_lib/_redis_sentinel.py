"""A primary that moves (Redis Sentinel): Envoy config that follows a failover, as plain data.

Envoy's ``redis_proxy`` cannot ask Sentinel who the primary is, and Envoy's own Redis health
checker only sends ``PING`` (or ``EXISTS``), which a replica answers too. What follows a failover
here is Envoy's generic TCP health check, sending Redis' ``ROLE`` command to every server and
expecting the bytes of ``master`` in the reply: the write cluster lists every server, and only the
one that says it is the primary passes. The figures that chose this design (and the designs it
was measured against: HAProxy in front, no replica rule, Envoy's default panic threshold; their
configs live in the benchmark) are printed by ``bench/sentinel_failover.py``; the failover itself is
tested in ``tests/test_integration_sentinel.py`` with real redis-server, redis-sentinel and the
Envoy config and start script that ``RedisAmbassador(sentinel=...)`` synthesizes.

Pure functions, no cdk8s: the caller (``_redis_ambassador``) places the clusters in its bootstrap
and, with a password, runs Envoy through :func:`render_password_script`.

Upstream behaviour encoded below (the upstream sources read, by file and function; line numbers
move between releases, so the function is named):

- Envoy, ``source/extensions/health_checkers/tcp/health_checker_impl.cc``
  (``TcpActiveHealthCheckSession::onData``): a reply passes when ``PayloadMatcher::match`` finds
  every ``receive`` segment; a reply that does not match is *not* a failure by itself, the check
  fails at its ``timeout`` (the TODO there: "we can't differentiate between wrong data and not
  enough data"). A closed connection (the server died) fails at once (``onEvent``, RemoteClose).
- Envoy, ``source/common/upstream/health_checker_impl.cc`` (``PayloadMatcher::match``): the
  segments are searched for *in order*, each after the end of the previous match; a segment's
  ``text`` is hex (``PayloadMatcher::loadProtoBytes``). ``tcp_health_check.send`` is one
  Payload and ``receive`` a list (``envoy/config/core/v3/health_check.proto``; Envoy 1.40 refuses
  a list for ``send``: "expected '{'").
- Envoy's default panic threshold is 50% (``CommonLbConfig.healthy_panic_threshold``; Envoy docs,
  intro/arch_overview/upstream/load_balancing/panic_threshold): below it, a cluster
  load-balances over *every* host, healthy or not. With one primary among three servers (33%
  healthy) that sends writes to the replicas: measured as design a0 in bench/sentinel_failover.py.
  Both clusters set it to 0 (0 disables panic mode).
- Redis, ``src/replication.c`` (``roleCommand``): a primary answers
  ``*3 $6 master :<offset> *<n>`` followed by one ``*3`` array (ip, port, offset) per replica
  whose ``replstate`` is ``SLAVE_STATE_ONLINE``; a replica answers ``*5 $5 slave ...``; a
  sentinel ``*2 $8 sentinel ...``. So ``receive: ["master", "*3\\r\\n"]`` (in order) means "a
  primary with at least one online replica": a restarted old primary, empty and alone, that
  says ``master`` until Sentinel converts it (about 10 s, measured) does not pass.
- Redis Sentinel, ``src/sentinel.c`` (``sentinelRefreshInstanceInfo``, "Handle master -> slave
  role switch"): a server Sentinel knows as a replica but that reports ``master`` is sent
  ``REPLICAOF`` (``+convert-to-slave``) only once it has reported ``master`` for more than
  ``SENTINEL_PUBLISH_PERIOD*4`` (8 s), seen at an INFO (every 10 s for replicas): 10.0-10.9 s
  measured, the split-brain window the ``require_replica`` rule closes.
- Redis AUTH: with ``requirepass`` every command but AUTH/HELLO answers ``-NOAUTH`` before
  authentication, so the check sends ``AUTH <password>`` first. Envoy's payload cannot read a
  file; the payload is rendered when the container starts, from the mounted Secret file, by
  :func:`render_password_script` (the full ``envoyproxy/envoy`` image has ``sh``, ``od``, ``sed``).
  The ConfigMap holds only :data:`PASSWORD_PLACEHOLDER_HEX`; no password is ever in a manifest.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from . import _envoy

Address = tuple[str, int]


#: Hex in the ConfigMap that the container's start script replaces with the hex of the RESP
#: ``AUTH <password>`` command read from the Secret file. Valid hex (so the template itself passes
#: ``envoy --mode validate``): the bytes of ``@@redis-password-from-file@@``.
PASSWORD_PLACEHOLDER_HEX = b"@@redis-password-from-file@@".hex()


def resp_command(*args: bytes | str) -> bytes:
    """One Redis command in RESP (an array of bulk strings), as clients send it."""
    parts = [a.encode() if isinstance(a, str) else a for a in args]
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        out += [f"${len(part)}\r\n".encode(), part, b"\r\n"]
    return b"".join(out)


def role_health_check(
    role: str,
    *,
    interval_ms: int,
    timeout_ms: int,
    authenticate: bool,
    require_replica: bool = False,
) -> dict[str, Any]:
    """An Envoy ``tcp_health_check`` that passes when the server's ``ROLE`` reply names ``role``.

    Args:
        role: ``"master"`` (the write cluster) or ``"slave"`` (the replicas' check).
        interval_ms: time between checks (and the ``no_traffic_interval``: redis_proxy clusters
            count as idle for Envoy, whose default would check them only every 60 s).
        timeout_ms: how long a reply may take; a server with another role fails at this timeout
            (Envoy's TCP checker cannot tell "wrong reply" from "not all of it yet").
        authenticate: send ``AUTH <password>`` first (placeholder replaced at container start).
        require_replica: for ``master``: pass only with at least one online replica (see module doc).
    """
    # One payload (``send`` is a single Payload; ``receive`` is a list): AUTH, then ROLE.
    send = (PASSWORD_PLACEHOLDER_HEX if authenticate else "") + resp_command("ROLE").hex()
    receive = [{"text": role.encode().hex()}]
    if require_replica:
        if role != "master":
            raise ValueError("require_replica applies to the master check only")
        receive.append({"text": b"*3\r\n".hex()})
    return {
        "timeout": _envoy.seconds(timeout_ms),
        "interval": _envoy.seconds(interval_ms),
        "no_traffic_interval": _envoy.seconds(interval_ms),
        "unhealthy_threshold": 1,
        "healthy_threshold": 1,
        "tcp_health_check": {"send": {"text": send}, "receive": receive},
    }


def role_checked_clusters(
    name: str,
    servers: Sequence[Address],
    connect_timeout_ms: int,
    health_check_interval_ms: int,
    password_file: str | None,
    *,
    require_replica: bool = True,
    health_check_timeout_ms: int | None = None,
) -> list[dict[str, Any]]:
    """The Envoy clusters for a Sentinel-managed Redis: ``<name>_primary`` and ``<name>_replicas``.

    Both list every server (``servers``: each data node's ``host:port``, e.g. a headless
    Service's per-pod names or one Service per pod; STRICT_DNS resolves names and takes IPs).

    - ``<name>_primary`` (the catch-all route: writes and everything else) passes only the
      server whose ``ROLE`` says ``master`` (with ``require_replica``: and lists at least one
      online replica). Panic threshold 0: while no server passes, Envoy fails the command at
      once ("no upstream host") instead of sending it to a replica.
    - ``<name>_replicas`` (``read_command_policy``) uses Envoy's Redis health checker (PING):
      reads go to every live server, the primary included, so reads never stop during a failover
      and never need a second role check. Panic threshold 0 as well: a dead server gets no reads.

    Args:
        name: cluster name prefix, e.g. ``"redis"``.
        servers: the data nodes (not the sentinels).
        connect_timeout_ms: upstream connect timeout.
        health_check_interval_ms: how often each server is asked ``ROLE`` (and PINGed); the
            promoted server passes at its next check, so this bounds the time Envoy adds after
            Sentinel's promotion.
        password_file: the upstream password file (the mounted Secret). When given, the role
            check sends AUTH with :data:`PASSWORD_PLACEHOLDER_HEX`, which
            :func:`render_password_script` must replace before Envoy starts.
        require_replica: the primary passes only with an online replica (closes the split-brain
            window of a restarted old primary; costs writes while every replica is down).
        health_check_timeout_ms: default ``min(interval / 2, connect timeout)``.
    """
    if not servers:
        raise ValueError("servers is empty")
    timeout_ms = health_check_timeout_ms or min(max(health_check_interval_ms // 2, 1), connect_timeout_ms)

    def cluster(suffix: str, check: dict[str, Any]) -> dict[str, Any]:
        cname = f"{name}_{suffix}"
        return {
            "name": cname,
            "type": "STRICT_DNS",
            "connect_timeout": _envoy.seconds(connect_timeout_ms),
            # The redis_proxy docs recommend RING_HASH: a key sticks to one server.
            "lb_policy": "RING_HASH",
            # A fresh dict per cluster: a shared one would be written as a YAML anchor and alias.
            "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
            "load_assignment": {
                "cluster_name": cname,
                "endpoints": [{"lb_endpoints": _envoy.lb_endpoints(servers)}],
            },
            "health_checks": [check],
            **_envoy.auth_options(password_file),
        }

    write_check = role_health_check(
        "master",
        interval_ms=health_check_interval_ms,
        timeout_ms=timeout_ms,
        authenticate=password_file is not None,
        require_replica=require_replica,
    )
    ping_check = _envoy.redis_health_check(timeout_ms, health_check_interval_ms)
    return [cluster("primary", write_check), cluster("replicas", ping_check)]


def render_password_script(
    template: str, rendered: str, password_file: str, envoy_args: Sequence[str], envoy: str = "envoy"
) -> list[str]:
    """The Envoy container's command when the role check must AUTH: ``["sh", "-c", script]``.

    The script reads the password file (the mounted Secret), hex-encodes the RESP
    ``AUTH <password>`` command (byte length from ``wc -c``, so any bytes work), writes the
    config with :data:`PASSWORD_PLACEHOLDER_HEX` replaced to ``rendered`` (on a writable
    emptyDir, e.g. ``/tmp/envoy/envoy.yaml``; mode 0600) and ``exec``s Envoy on it. Tools: POSIX
    ``sh``, ``wc``, ``od``, ``tr``, ``sed`` (the full ``envoyproxy/envoy`` image; not -distroless).

    Args:
        template: the ConfigMap's config path.
        rendered: where the rendered config goes (writable).
        password_file: the Secret file.
        envoy_args: Envoy's arguments after ``--config-path <rendered>``.
        envoy: the Envoy binary.
    """
    q = shlex.quote
    script = "\n".join(
        [
            "set -eu",
            "umask 077",
            f"n=$(wc -c < {q(password_file)} | tr -d ' ')",
            # printf's format: '*2' '$4' are literal here (single quotes); %s is the byte count.
            "hex=$({ printf '*2\\r\\n$4\\r\\nAUTH\\r\\n$%s\\r\\n' \"$n\"; "
            f"cat {q(password_file)}; printf '\\r\\n'; }} | od -An -v -tx1 | tr -d ' \\n')",
            f'mkdir -p "$(dirname {q(rendered)})"',
            f'sed "s/{PASSWORD_PLACEHOLDER_HEX}/$hex/" {q(template)} > {q(rendered)}',
            f"exec {q(envoy)} --config-path {q(rendered)} " + " ".join(q(a) for a in envoy_args),
        ]
    )
    return ["sh", "-c", script]
