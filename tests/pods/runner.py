"""``PodSet``: play synthesized workloads as real podman pods, wait for them, probe them, clean up.

    with PodSet(docs, secrets={"redis": {"password": "pw"}}) as pods:
        pods["redis-primary"].exec("redis", ["redis-cli", "ping"])
        assert all(r.ok for r in pods.probe_all())

Each workload becomes one pod (one replica) on a podman network of its own (``--disable-dns``:
names resolve through the hostAliases the play file writes; nothing listens outside the
bridge), at a static IP chosen before playing so Services can be written into every pod's
/etc/hosts. The containers of a pod share network, IPC and volumes as on a kubelet. Pods are
played with ``--start=false`` so volume ownership and modes can be fixed as the kubelet would
(fsGroup, defaultMode, emptyDir 0777) before anything runs. Everything created (pods, volumes,
network, temp files) is removed on exit, also when starting failed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets as _secrets
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from . import images, playfile
from .playfile import PlayPod
from .probes import ProbeResult, run_probes

Doc = dict[str, Any]


class PodSetError(RuntimeError):
    """A pod did not come up as the manifest says (the message has the containers' logs)."""


def podman(*argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["podman", *argv], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode:
        raise PodSetError(
            f"podman {' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    return proc


class Pod:
    """One running pod: its IP, and exec/logs/restarts by container name (as in the manifest)."""

    def __init__(self, play: PlayPod) -> None:
        self.play = play
        self.name = play.name
        self.workload = play.workload
        self.ip = play.ip
        self.left_out = play.left_out

    def container(self, name: str) -> str:
        """The podman container name of the manifest's container ``name``."""
        return f"{self.name}-{name}"

    def exec(
        self, container: str, argv: Sequence[str], timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        return podman("exec", self.container(container), *argv, check=False, timeout=timeout)

    def logs(self, container: str) -> str:
        proc = podman("logs", self.container(container), check=False)
        return proc.stdout + proc.stderr

    def state(self, container: str) -> Doc:
        out = podman("inspect", "--format", "{{json .State}}", self.container(container)).stdout
        return dict(json.loads(out))

    def restarts(self, container: str) -> int:
        return int(podman("inspect", "--format", "{{.RestartCount}}", self.container(container)).stdout)

    def problem(self) -> str | None:
        """Why the pod is not (yet) as it should be; None when it is."""
        for name in self.play.containers:
            st = self.state(name)
            done = self.play.batch and name not in self.play.sidecars
            if done and st["Status"] == "exited":
                if st["ExitCode"] != 0:
                    return f"{name} exited {st['ExitCode']}"
                continue
            if st["Status"] != "running" or (done and st["Status"] != "exited"):
                return f"{name} is {st['Status']} (exit {st.get('ExitCode')}, restarts {self.restarts(name)})"
            if self.restarts(name):
                return f"{name} restarted {self.restarts(name)} times"
        return None

    def probe(self, within: float = 10.0) -> list[ProbeResult]:
        """The original manifest's probes for the containers that run (see :mod:`.probes`)."""

        def exec_fn(c: str, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
            return self.exec(c, argv, timeout=timeout)

        # A batch app container that has completed is probed no more (the kubelet stops probing a
        # terminated container).
        done = [c for c in self.play.containers if self.play.batch and self.state(c)["Status"] == "exited"]
        return run_probes(
            self.workload, self.play.template, self.ip, exec_fn, skip=[*self.left_out, *done], within=within
        )


class PodSet:
    """The workloads of ``docs`` as running pods; a context manager (see the module docstring).

    ``secrets``: Secret name -> key -> value (Secrets are created out of band in real clusters).
    ``extra_hosts``: host name -> IP, Service or workload name, for names no Service defines.
    ``seed``: workload (or a part of its name) -> manifest volume name -> relative path -> text:
    files written into an emptyDir volume before the pod starts, e.g. what a left-out git-sync
    would have fetched (group fsGroup, world-readable).
    """

    def __init__(
        self,
        docs: Sequence[Doc],
        *,
        secrets: Mapping[str, Mapping[str, str]] | None = None,
        extra_hosts: Mapping[str, str] | None = None,
        seed: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
        start_timeout: float = 90.0,
    ) -> None:
        self.seed = seed or {}
        self.docs = [d for d in docs if d]
        self.secrets = secrets or {}
        self.extra_hosts = extra_hosts or {}
        self.start_timeout = start_timeout
        self.run_id = _secrets.token_hex(3)
        self.network = f"clpods-{self.run_id}"
        self.pods: dict[str, Pod] = {}
        self._created_pods: list[str] = []
        self._created_volumes: list[str] = []
        self._network_created = False
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # ------------------------------------------------------------------------------ lookups

    def __getitem__(self, name: str) -> Pod:
        """A pod by workload name, or by a part of it that only one workload name contains."""
        if name in self.pods:
            return self.pods[name]
        found = [p for w, p in self.pods.items() if name in w]
        if len(found) != 1:
            raise KeyError(f"{name!r} matches {len(found)} of {sorted(self.pods)}")
        return found[0]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.pods.values())

    @property
    def left_out(self) -> dict[str, dict[str, str]]:
        """workload -> container -> why it is not in the pod."""
        return {w: dict(p.left_out) for w, p in self.pods.items() if p.left_out}

    def probe_all(self, within: float = 10.0) -> list[ProbeResult]:
        return [r for pod in self.pods.values() for r in pod.probe(within=within)]

    # ------------------------------------------------------------------------------ lifecycle

    def __enter__(self) -> PodSet:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        images.ensure_images()
        self._tmp = tempfile.TemporaryDirectory(prefix="clpods-")
        ips = self._create_network()
        plays = playfile.build(
            self.docs, ips, run_id=self.run_id, secrets=self.secrets, extra_hosts=self.extra_hosts
        )
        for play in plays:
            self._play(play)
            self.pods[play.workload] = Pod(play)
        for workload, volumes in self.seed.items():
            self._seed(self[workload].play, volumes)
        for play in plays:
            podman("pod", "start", play.name)
        self._wait()

    def _create_network(self) -> list[str]:
        """A network of our own; its hosts from .10 on, for the pods' static IPs."""
        podman("network", "create", "--disable-dns", self.network)
        self._network_created = True
        info = json.loads(podman("network", "inspect", self.network).stdout)[0]
        subnet = ipaddress.ip_network(info["subnets"][0]["subnet"])
        return [str(ip) for ip in list(subnet.hosts())[9:]]

    def _play(self, play: PlayPod) -> None:
        assert self._tmp is not None
        path = Path(self._tmp.name) / f"{play.name}.yaml"
        path.write_text(yaml.safe_dump_all(play.play, sort_keys=False))
        self._created_pods.append(play.name)
        self._created_volumes.extend(fix.volume for fix in play.volume_fixes)
        podman("kube", "play", "--start=false", "--network", self.network, "--ip", play.ip, str(path))
        for fix in play.volume_fixes:
            _fix_volume(fix)

    def _seed(self, play: PlayPod, volumes: Mapping[str, Mapping[str, str]]) -> None:
        fixes = {f.volume: f for f in play.volume_fixes}
        for volume, files in volumes.items():
            podman_volume = play.volumes[volume]
            root = Path(
                podman("volume", "inspect", "--format", "{{.Mountpoint}}", podman_volume).stdout.strip()
            )
            group = fixes[podman_volume].group
            for rel, text in files.items():
                path = root / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                for p in [path, *path.relative_to(root).parents]:
                    target = root / p
                    os.chown(target, -1, -1 if group is None else group)
                    target.chmod(0o755 if target.is_dir() else 0o644)

    def _wait(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            problems = {p.workload: p.problem() for p in self.pods.values()}
            bad = {w: why for w, why in problems.items() if why}
            if not bad:
                return
            crashed = {w: why for w, why in bad.items() if "restarted" in why or "exited" in why}
            if crashed or time.monotonic() > deadline:
                raise PodSetError(self._explain(crashed or bad))
            time.sleep(0.5)

    def _explain(self, bad: Mapping[str, str]) -> str:
        parts = []
        for workload, why in bad.items():
            pod = self.pods[workload]
            parts.append(f"pod {workload}: {why}")
            for c in pod.play.containers:
                parts.append(f"--- {c} logs (last 1500 chars):\n{pod.logs(c)[-1500:]}")
        return "\n".join(parts)

    def close(self) -> None:
        """Remove everything this set created; never raises for what is already gone."""
        # All at once: each `pod rm` is mostly podman waiting (stop timeout, network teardown),
        # seconds per pod one after the other.
        removals = [
            subprocess.Popen(
                ["podman", "pod", "rm", "--force", "--time", "1", name],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name in reversed(self._created_pods)
        ]
        for proc in removals:
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for volume in self._created_volumes:
            podman("volume", "rm", "--force", volume, check=False)
        if self._network_created:
            podman("network", "rm", "--force", self.network, check=False)
        if self._tmp is not None:
            self._tmp.cleanup()
        self._created_pods, self._created_volumes, self._network_created, self._tmp = [], [], False, None

    # ------------------------------------------------------------------------------ report

    def report(self, results: Sequence[ProbeResult]) -> str:
        """A table per pod: containers run / left out, probes passed, result."""
        lines = [f"{'pod':<45} {'run':>4} {'out':>4} {'probes':>7} {'restarts':>8}  result"]
        for pod in self.pods.values():
            mine = [r for r in results if r.pod == pod.workload]
            passed = sum(r.ok for r in mine)
            restarts = sum(pod.restarts(c) for c in pod.play.containers)
            ok = passed == len(mine) and restarts == 0 and pod.problem() is None
            lines.append(
                f"{pod.workload:<45} {len(pod.play.containers):>4} {len(pod.left_out):>4} "
                f"{passed:>3}/{len(mine):<3} {restarts:>8}  {'PASS' if ok else 'FAIL'}"
            )
            lines.extend(f"    left out {c}: {why}" for c, why in pod.left_out.items())
            lines.extend(
                f"    probe FAILED {r.container} {r.probe} {r.action}: {r.detail}" for r in mine if not r.ok
            )
        return "\n".join(lines)


def _fix_volume(fix: playfile.VolumeFix) -> None:
    """Ownership and modes as the kubelet sets them (kube play: 0644 root:root, no fsGroup)."""
    out = podman("volume", "inspect", "--format", "{{.Mountpoint}}", fix.volume, check=False)
    if out.returncode:
        return  # kube play made no named volume for it (nothing to fix)
    root = Path(out.stdout.strip())
    group = -1 if fix.group is None else fix.group
    if fix.kind in ("emptyDir", "claim"):
        _consume_copy_up(fix.volume)
        os.chown(root, 0, group)
        if fix.kind == "emptyDir":
            root.chmod(0o2777 if fix.group is not None else 0o777)
        else:
            root.chmod(0o2775 if fix.group is not None else 0o755)
        return
    for path in [root, *root.rglob("*")]:
        os.chown(path, -1, group, follow_symlinks=False)
        if path.is_file() and not path.is_symlink() and fix.file_mode is not None:
            path.chmod(fix.file_mode)


def _consume_copy_up(volume: str) -> None:
    """Mount a new volume once in a throwaway container: podman copies the image directory's mode
    and owner onto a new volume at its first mount (NeedsCopyUp/NeedsChown), which would undo the
    kubelet-like modes set next. A path the image does not have leaves the volume as it is."""
    podman(
        "run",
        "--rm",
        "--pull=never",
        "--network=none",
        "-v",
        f"{volume}:/pods-volume-init",
        images.base_image(),
        "true",
    )
