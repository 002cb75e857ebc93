"""An independent checker of the Pod Security Standard "restricted" (for tests).

Written from the upstream policy, not from the library: each rule is one entry of RULES,
named by its check ID and citing its source file in kubernetes/kubernetes,
``staging/src/k8s.io/pod-security-admission/policy/<file>``. "restricted" is the baseline
checks plus the restricted ones. Containers are init, regular and ephemeral containers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Pod = dict[str, Any]  # a pod template: {"metadata": ..., "spec": ...}


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def _sc(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("securityContext") or {}


def _host_namespaces(spec: dict[str, Any]) -> list[str]:
    return [f for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f)]


def _privileged(spec: dict[str, Any]) -> list[str]:
    return [c["name"] for c in _containers(spec) if _sc(c).get("privileged")]


_BASELINE_CAPS = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip


def _capabilities_baseline(spec: dict[str, Any]) -> list[str]:
    return [
        f"{c['name']} adds {cap}"
        for c in _containers(spec)
        for cap in (_sc(c).get("capabilities") or {}).get("add") or []
        if cap not in _BASELINE_CAPS
    ]


def _host_path_volumes(spec: dict[str, Any]) -> list[str]:
    return [v["name"] for v in spec.get("volumes") or [] if "hostPath" in v]


def _host_ports(spec: dict[str, Any]) -> list[str]:
    return [
        f"{c['name']}:{p['hostPort']}"
        for c in _containers(spec)
        for p in c.get("ports") or []
        if p.get("hostPort")
    ]


def _app_armor(pod: Pod) -> list[str]:
    bad = [
        k
        for k, v in (pod.get("metadata", {}).get("annotations") or {}).items()
        if k.startswith("container.apparmor.security.beta.kubernetes.io/")
        and v != "runtime/default"
        and not v.startswith("localhost/")
    ]
    spec = pod["spec"]
    levels = [_sc(spec), *(_sc(c) for c in _containers(spec))]
    bad += [
        str(s["appArmorProfile"])
        for s in levels
        if (s.get("appArmorProfile") or {}).get("type") == "Unconfined"
    ]
    return bad


def _se_linux(spec: dict[str, Any]) -> list[str]:
    allowed = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
    levels = [_sc(spec), *(_sc(c) for c in _containers(spec))]
    return [
        str(o)
        for s in levels
        if (o := s.get("seLinuxOptions") or {})
        and (o.get("type") not in allowed or o.get("user") or o.get("role"))
    ]


def _proc_mount(spec: dict[str, Any]) -> list[str]:
    return [c["name"] for c in _containers(spec) if _sc(c).get("procMount") not in (None, "Default")]


def _seccomp_baseline(spec: dict[str, Any]) -> list[str]:
    levels = [("pod", _sc(spec)), *((c["name"], _sc(c)) for c in _containers(spec))]
    return [who for who, s in levels if (s.get("seccompProfile") or {}).get("type") == "Unconfined"]


# The 1.27 safe set (later policy versions add a few; this is the strictest target).
_SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
}  # fmt: skip


def _sysctls(spec: dict[str, Any]) -> list[str]:
    return [s["name"] for s in _sc(spec).get("sysctls") or [] if s["name"] not in _SAFE_SYSCTLS]


def _windows_host_process(spec: dict[str, Any]) -> list[str]:
    levels = [_sc(spec), *(_sc(c) for c in _containers(spec))]
    return ["hostProcess" for s in levels if (s.get("windowsOptions") or {}).get("hostProcess")]


_RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
    "persistentVolumeClaim", "projected", "secret",
}  # fmt: skip


def _restricted_volumes(spec: dict[str, Any]) -> list[str]:
    return [v["name"] for v in spec.get("volumes") or [] if not set(v) - {"name"} <= _RESTRICTED_VOLUMES]


def _allow_privilege_escalation(spec: dict[str, Any]) -> list[str]:
    return [c["name"] for c in _containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]


def _run_as_non_root(spec: dict[str, Any]) -> list[str]:
    pod_value = _sc(spec).get("runAsNonRoot")
    bad = ["pod"] if pod_value is False else []
    for c in _containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is False or (value is None and pod_value is not True):
            bad.append(c["name"])
    return bad


def _run_as_user(spec: dict[str, Any]) -> list[str]:
    levels = [("pod", _sc(spec)), *((c["name"], _sc(c)) for c in _containers(spec))]
    return [who for who, s in levels if s.get("runAsUser") == 0]


def _seccomp_restricted(spec: dict[str, Any]) -> list[str]:
    pod_type = (_sc(spec).get("seccompProfile") or {}).get("type")
    ok = {"RuntimeDefault", "Localhost"}
    return [
        c["name"]
        for c in _containers(spec)
        if ((_sc(c).get("seccompProfile") or {}).get("type") or pod_type) not in ok
    ]


def _capabilities_restricted(spec: dict[str, Any]) -> list[str]:
    bad = []
    for c in _containers(spec):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            bad.append(f"{c['name']} does not drop ALL")
        bad += [f"{c['name']} adds {a}" for a in caps.get("add") or [] if a != "NET_BIND_SERVICE"]
    return bad


def _host_probes(spec: dict[str, Any]) -> list[str]:
    found = []
    for c in _containers(spec):
        handlers = [c.get(k) or {} for k in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += list((c.get("lifecycle") or {}).values())
        found += [
            c["name"] for h in handlers for a in ("httpGet", "tcpSocket") if (h.get(a) or {}).get("host")
        ]
    return found


def _on_spec(check: Callable[[dict[str, Any]], list[str]]) -> Callable[[Pod], list[str]]:
    return lambda pod: check(pod["spec"])


#: check ID -> (level, source file, check). Baseline rules are part of "restricted".
RULES: dict[str, tuple[str, str, Callable[[Pod], list[str]]]] = {
    "hostNamespaces": ("baseline", "check_hostNamespaces.go", _on_spec(_host_namespaces)),
    "privileged": ("baseline", "check_privileged.go", _on_spec(_privileged)),
    "capabilities_baseline": ("baseline", "check_capabilities_baseline.go", _on_spec(_capabilities_baseline)),
    "hostPathVolumes": ("baseline", "check_hostPathVolumes.go", _on_spec(_host_path_volumes)),
    "hostPorts": ("baseline", "check_hostPorts.go", _on_spec(_host_ports)),
    "appArmorProfile": ("baseline", "check_appArmorProfile.go", _app_armor),
    "seLinuxOptions": ("baseline", "check_seLinuxOptions.go", _on_spec(_se_linux)),
    "procMount": ("baseline", "check_procMount.go", _on_spec(_proc_mount)),
    "seccompProfile_baseline": ("baseline", "check_seccompProfile_baseline.go", _on_spec(_seccomp_baseline)),
    "sysctls": ("baseline", "check_sysctls.go", _on_spec(_sysctls)),
    "windowsHostProcess": ("baseline", "check_windowsHostProcess.go", _on_spec(_windows_host_process)),
    "hostProbesAndHostLifecycle": (
        "baseline",
        "check_hostProbesAndhostLifecycle.go",
        _on_spec(_host_probes),
    ),
    "restrictedVolumes": ("restricted", "check_restrictedVolumes.go", _on_spec(_restricted_volumes)),
    "allowPrivilegeEscalation": (
        "restricted",
        "check_allowPrivilegeEscalation.go",
        _on_spec(_allow_privilege_escalation),
    ),
    "runAsNonRoot": ("restricted", "check_runAsNonRoot.go", _on_spec(_run_as_non_root)),
    "runAsUser": ("restricted", "check_runAsUser.go", _on_spec(_run_as_user)),
    "seccompProfile_restricted": (
        "restricted",
        "check_seccompProfile_restricted.go",
        _on_spec(_seccomp_restricted),
    ),
    "capabilities_restricted": (
        "restricted",
        "check_capabilities_restricted.go",
        _on_spec(_capabilities_restricted),
    ),
}


def restricted_violations(pod: Pod) -> dict[str, list[str]]:
    """check ID -> what breaks it, for every rule the pod template breaks."""
    found = {rule: check(pod) for rule, (_, _, check) in RULES.items()}
    return {rule: bad for rule, bad in found.items() if bad}
