"""Pod Security Standard "restricted" for a whole rendered pod: harden what can be hardened,
refuse what cannot comply.

The rules are those of Kubernetes' PodSecurity admission (the API server's built-in
admission plugin), one check per file in ``staging/src/k8s.io/pod-security-admission/policy/``
of kubernetes/kubernetes. Each rule below names its check file. "restricted" includes every
"baseline" check. All containers count: ``initContainers``, ``containers`` and
``ephemeralContainers``.

:func:`harden` fills in the fields a compliant pod needs when they are absent
(``runAsNonRoot``, the ``RuntimeDefault`` seccomp profile, ``allowPrivilegeEscalation:
false``, ``capabilities.drop: [ALL]``). It never overrides a value somebody set on purpose:
a value that breaks a rule is reported by :func:`violations` instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# check_restrictedVolumes.go: the only volume sources "restricted" allows.
RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
# check_capabilities_restricted.go: after dropping ALL, only this one may be added back.
ALLOWED_CAPABILITY_ADDS = frozenset({"NET_BIND_SERVICE"})
# check_sysctls.go: the safe set as of policy version 1.27, the oldest version this library
# targets (later versions allow a few more; a pod within this set passes on every version).
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
    }
)
# check_seLinuxOptions.go: the SELinux types a pod may ask for ("" = the runtime's default).
ALLOWED_SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _containers(pod: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod.get(key, [])


def harden(pod: dict[str, Any]) -> None:
    """Add the fields "restricted" requires where they are missing (in place)."""
    pod_sc = pod.setdefault("securityContext", {})
    # check_runAsNonRoot.go: runAsNonRoot true at pod level covers every container.
    pod_sc.setdefault("runAsNonRoot", True)
    # check_seccompProfile_restricted.go: RuntimeDefault or Localhost, pod level covers all.
    pod_sc.setdefault("seccompProfile", {"type": "RuntimeDefault"})
    for c in _containers(pod):
        sc = c.setdefault("securityContext", {})
        # check_allowPrivilegeEscalation.go: must be false on every container.
        sc.setdefault("allowPrivilegeEscalation", False)
        # check_capabilities_restricted.go: drop must contain ALL.
        caps = sc.setdefault("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            caps["drop"] = ["ALL"]  # ALL subsumes any narrower drop list
        # cdk8s-plus-27's Capability enum writes "CAP_NET_BIND_SERVICE"; the check compares
        # the exact string "NET_BIND_SERVICE" (runtimes accept both spellings).
        if "add" in caps:
            caps["add"] = ["NET_BIND_SERVICE" if a == "CAP_NET_BIND_SERVICE" else a for a in caps["add"]]


def violations(pod: Mapping[str, Any], annotations: Mapping[str, str] | None = None) -> list[str]:
    """Every "restricted" rule the rendered pod spec breaks, one message each with the fix."""
    pod_sc = pod.get("securityContext") or {}
    errors = [
        *_host_namespace_errors(pod),
        *_volume_errors(pod),
        *_sysctl_errors(pod_sc),
        *_apparmor_annotation_errors(annotations or {}),
        *_security_context_errors("the pod", pod_sc, pod_level=True),
        *_pod_run_as_non_root_errors(pod_sc),
    ]
    for c in _containers(pod):
        errors += _container_errors(c, pod_sc)
    return errors


# --- pod-level rules -------------------------------------------------------------


def _host_namespace_errors(pod: Mapping[str, Any]) -> Iterator[str]:
    # check_hostNamespaces.go
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            yield f"{field}: true is not allowed (hostNamespaces); remove it"


def _volume_errors(pod: Mapping[str, Any]) -> Iterator[str]:
    for v in pod.get("volumes", []):
        kinds = set(v) - {"name"}
        # check_hostPathVolumes.go (baseline) and check_restrictedVolumes.go (restricted)
        bad = sorted(kinds - RESTRICTED_VOLUME_TYPES)
        if bad:
            yield (
                f"volume {v['name']!r} is of type {bad[0]}, which is not allowed (restrictedVolumes); "
                f"use one of {sorted(RESTRICTED_VOLUME_TYPES)}"
            )


def _sysctl_errors(pod_sc: Mapping[str, Any]) -> Iterator[str]:
    # check_sysctls.go
    for s in pod_sc.get("sysctls", []):
        if s.get("name") not in SAFE_SYSCTLS:
            yield f"sysctl {s.get('name')!r} is not in the safe set (sysctls); remove it"


def _apparmor_annotation_errors(annotations: Mapping[str, str]) -> Iterator[str]:
    # check_appArmorProfile.go: the annotation form (cdk8s-plus-27 can only set that one).
    for key, value in annotations.items():
        if key.startswith(_APPARMOR_ANNOTATION) and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            yield f"annotation {key}={value!r} is not allowed (appArmorProfile)"


def _pod_run_as_non_root_errors(pod_sc: Mapping[str, Any]) -> Iterator[str]:
    if pod_sc.get("runAsNonRoot") is False:  # check_runAsNonRoot.go: false at pod level fails
        yield "the pod: runAsNonRoot: false is not allowed (runAsNonRoot); remove it"


# --- container-level rules -------------------------------------------------------


def _container_errors(c: Mapping[str, Any], pod_sc: Mapping[str, Any]) -> list[str]:
    """The rules one container breaks; ``pod_sc`` is the pod's security context (its defaults)."""
    sc = c.get("securityContext") or {}
    who = f"container {c['name']!r}"
    return [
        *_security_context_errors(who, sc, pod_level=False),
        *_privilege_errors(who, sc),
        *_run_as_non_root_errors(who, sc, pod_sc),
        *_seccomp_restricted_errors(who, sc, pod_sc),
        *_capability_errors(who, sc),
        *_host_probe_errors(who, c),
        *_host_port_errors(who, c),
    ]


def _privilege_errors(who: str, sc: Mapping[str, Any]) -> Iterator[str]:
    # check_privileged.go
    if sc.get("privileged"):
        yield f"{who}: privileged: true is not allowed (privileged); remove it"
    # check_allowPrivilegeEscalation.go
    if sc.get("allowPrivilegeEscalation") is not False:
        yield f"{who}: allowPrivilegeEscalation must be false (allowPrivilegeEscalation)"


def _run_as_non_root_errors(who: str, sc: Mapping[str, Any], pod_sc: Mapping[str, Any]) -> Iterator[str]:
    # check_runAsNonRoot.go: the container's own value wins over the pod's.
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    non_root = sc["runAsNonRoot"] is True if "runAsNonRoot" in sc else pod_non_root
    if not non_root:
        yield f"{who}: runAsNonRoot must be true (runAsNonRoot); do not set it to false"


def _seccomp_restricted_errors(who: str, sc: Mapping[str, Any], pod_sc: Mapping[str, Any]) -> Iterator[str]:
    # check_seccompProfile_restricted.go: the container's profile, or the pod's.
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
    if seccomp not in ("RuntimeDefault", "Localhost"):
        yield (
            f"{who}: seccompProfile {seccomp or 'unset'} is not allowed (seccompProfile_restricted); "
            "use RuntimeDefault"
        )


def _capability_errors(who: str, sc: Mapping[str, Any]) -> Iterator[str]:
    # check_capabilities_restricted.go (and check_capabilities_baseline.go)
    caps = sc.get("capabilities") or {}
    if "ALL" not in caps.get("drop", []):
        yield f"{who}: capabilities.drop must contain ALL (capabilities_restricted)"
    added = sorted(set(caps.get("add", [])) - ALLOWED_CAPABILITY_ADDS)
    if added:
        yield (
            f"{who}: adds capabilities {added}; only NET_BIND_SERVICE may be added "
            "(capabilities_restricted); remove them"
        )


def _host_probe_errors(who: str, c: Mapping[str, Any]) -> Iterator[str]:
    # check_hostProbesAndhostLifecycle.go (policy >= 1.34): probes and hooks may not name a host
    handlers = [c.get(k) or {} for k in ("livenessProbe", "readinessProbe", "startupProbe")]
    handlers += [h or {} for h in (c.get("lifecycle") or {}).values()]
    for h in handlers:
        for action in ("httpGet", "tcpSocket"):
            if (h.get(action) or {}).get("host"):
                yield f"{who}: {action}.host is not allowed (hostProbesAndHostLifecycle); remove it"


def _host_port_errors(who: str, c: Mapping[str, Any]) -> Iterator[str]:
    # check_hostPorts.go
    for p in c.get("ports", []):
        if p.get("hostPort"):
            yield f"{who}: hostPort {p['hostPort']} is not allowed (hostPorts); remove it"


# --- rules read at both levels ---------------------------------------------------


def _security_context_errors(who: str, sc: Mapping[str, Any], *, pod_level: bool) -> list[str]:
    """Rules that read the same fields at pod and at container level."""
    errors = []
    # check_runAsUser.go
    if sc.get("runAsUser") == 0:
        errors.append(f"{who}: runAsUser 0 (root) is not allowed (runAsUser); use a non-root uid")
    # check_seccompProfile_baseline.go
    if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        errors.append(f"{who}: seccompProfile Unconfined is not allowed (seccompProfile_baseline)")
    # check_seLinuxOptions.go
    se = sc.get("seLinuxOptions") or {}
    if se.get("type", "") not in ALLOWED_SELINUX_TYPES or se.get("user") or se.get("role"):
        errors.append(f"{who}: seLinuxOptions {dict(se)} are not allowed (seLinuxOptions)")
    # check_windowsHostProcess.go
    if (sc.get("windowsOptions") or {}).get("hostProcess"):
        errors.append(f"{who}: windowsOptions.hostProcess is not allowed (windowsHostProcess)")
    # check_procMount.go (container level only)
    if not pod_level and sc.get("procMount", "Default") != "Default":
        errors.append(f"{who}: procMount {sc['procMount']} is not allowed (procMount); use Default")
    # check_appArmorProfile.go (the field form, Kubernetes >= 1.30)
    apparmor = (sc.get("appArmorProfile") or {}).get("type")
    if apparmor not in (None, "RuntimeDefault", "Localhost"):
        errors.append(f"{who}: appArmorProfile {apparmor} is not allowed (appArmorProfile)")
    return errors
