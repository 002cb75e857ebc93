"""Sidecar pattern: git-sync keeps a shared volume in sync with a git repository.

The main container mounts the volume read-only and serves ``content_path``; it knows
nothing about git. Flags and defaults follow git-sync v4's manual
(github.com/kubernetes/git-sync, README "Manual" and main.go).
"""

from __future__ import annotations

import enum
import functools
import posixpath
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks
from ._additions import AppEnv, AppMount, ConfigFiles, PodAdditions, SecretFiles
from ._checks import Workload
from ._containers import (
    ContainerKind,
    ContainerSpec,
    ExecProbe,
    Mount,
    Port,
    TcpProbe,
    checked_resources,
    container_resources,
    empty_dir,
    env_value,
)
from ._errors import PropsError, credential_in
from ._pod import HeldUntilSynth, PodSeam, pattern_seam
from ._workload_kinds import kplus_container

# Pinned release (registry.k8s.io/git-sync/git-sync, v4.7.1 released 2026-07-06).
DEFAULT_IMAGE = "registry.k8s.io/git-sync/git-sync:v4.7.1"
# The image's own user and group (Dockerfile.in: USER 65533:65533).
GIT_SYNC_UID = 65533
# Where git-sync keeps the checkout inside its container (the image sets GITSYNC_ROOT=/git).
_ROOT = "/git"
_SECRET_DIR = "/etc/git-secret"  # git-sync's default for --ssh-key-file / --ssh-known-hosts-file
_CONFIG_DIR = "/etc/git-sync"
# --period and --sync-timeout "must be at least 10ms" (main.go flag validation).
_MIN_PERIOD_MS = 10
# Webhook/exechook --*-timeout and --*-backoff must be at least 1s (main.go).
_MIN_HOOK_MS = 1000

# Flags the library sets from props; an extra_args copy would override them behind the
# probes', volumes' and content_path's back (git-sync takes the last value).
_MODELLED_FLAGS = {
    "--repo",
    "--root",
    "--link",
    "--ref",
    "--period",
    "--depth",
    "--one-time",
    "--submodules",
    "--git-gc",
    "--sparse-checkout-file",
    "--max-failures",
    "--sync-timeout",
    "--http-bind",
    "--http-metrics",
    "--webhook-url",
    "--webhook-method",
    "--webhook-success-status",
    "--webhook-timeout",
    "--webhook-backoff",
    "--exechook-command",
    "--exechook-timeout",
    "--exechook-backoff",
    "--ssh-key-file",
    "--ssh-known-hosts",
    "--ssh-known-hosts-file",
}
# Flags that carry credentials; they must come from Secrets through GitAuth instead.
_CREDENTIAL_FLAGS = {
    "--password",
    "--username",
    "--password-file",
    "--github-app-private-key",
    "--cookie-file",
}
_LINK = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,254}")
_SCP_LIKE = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)\S+")
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \\, no "..", no "@{", no
# leading "-" or "/", no trailing "/", "." or ".lock" (refs.c: check_refname_component).
_REF = re.compile(
    r"(?!-|/)(?!.*\.\.)(?!.*@\{)(?!.*(/|\.|\.lock)$)[^ ~^:?*\[\\" + _checks.CONTROL_CHARS + "]{1,255}"
)


class GitSubmodules(enum.Enum):
    """git-sync ``--submodules``: how submodules are checked out (upstream default: recursive)."""

    RECURSIVE = "recursive"
    SHALLOW = "shallow"
    OFF = "off"


class GitGC(enum.Enum):
    """git-sync ``--git-gc``: git garbage collection after each sync. Upstream default: always
    (main.go, kubernetes/git-sync@04ea5e4: the ``gcMode`` constants and the ``git-gc`` flag)."""

    AUTO = "auto"
    ALWAYS = "always"
    AGGRESSIVE = "aggressive"
    OFF = "off"


@dataclass(frozen=True)
class GitAuth:
    """How git-sync authenticates. Build it with :meth:`none`, :meth:`https` or :meth:`ssh`.

    Credentials only ever come from Kubernetes Secrets, mounted as files with mode 0400.
    """

    kind: Literal["none", "https", "ssh"]
    username: str | None = None
    password: kplus.SecretValue | None = None
    secret: kplus.ISecret | None = None
    ssh_key: str = "ssh"
    known_hosts_key: str | None = "known_hosts"

    @classmethod
    def none(cls) -> GitAuth:
        """A public repository (the default)."""
        return cls(kind="none")

    @classmethod
    def https(cls, *, username: str, password: kplus.SecretValue) -> GitAuth:
        """HTTPS basic auth; ``password`` (or token) is a key of a Secret, passed via ``--password-file``."""
        return cls(kind="https", username=username, password=password)

    @classmethod
    def ssh(
        cls, *, secret: kplus.ISecret, key: str = "ssh", known_hosts_key: str | None = "known_hosts"
    ) -> GitAuth:
        """SSH with a private key and known_hosts from ``secret`` (git-sync's documented keys).

        ``known_hosts_key=None`` turns host-key checking off (``--ssh-known-hosts=false``);
        do that only for throw-away environments.
        """
        return cls(kind="ssh", secret=secret, ssh_key=key, known_hosts_key=known_hosts_key)


@dataclass(frozen=True)
class GitSyncWebhook:
    """Call an HTTP endpoint after every sync (git-sync ``--webhook-*``).

    Attributes:
        url: usually the app on localhost, e.g. ``http://127.0.0.1:8080/-/reload``.
        method: HTTP method. Default ``POST``.
        success_status: status that counts as success; 0 means fire-and-forget. Default 200.
        timeout: request timeout, at least 1s. Default git-sync's (1s).
        backoff: wait before a retry, at least 1s. Default git-sync's (3s).
    """

    url: str
    method: str = "POST"
    success_status: int = 200
    timeout: cdk8s.Duration | None = None
    backoff: cdk8s.Duration | None = None


@dataclass(frozen=True)
class GitSyncExechook:
    """Run a command in the git-sync container after every sync (``--exechook-*``).

    git-sync executes ``command`` directly (no shell, no arguments) with the new worktree
    as working directory and ``$GITSYNC_HASH`` set. Hooks re-fire when git-sync starts,
    so the command must be idempotent.

    Attributes:
        command: absolute path of an executable available in the git-sync container.
        timeout: at least 1s. Default git-sync's (30s).
        backoff: at least 1s. Default git-sync's (3s).
    """

    command: str
    timeout: cdk8s.Duration | None = None
    backoff: cdk8s.Duration | None = None


class SidecarGitSync(HeldUntilSynth, constructs.Construct):
    """Keep a git repository checked out in a volume that the main container serves read-only.

    The content exists before the main container starts: by default a one-shot
    ``git-sync --one-time`` init container does the first sync and a looping sidecar keeps
    it fresh (works on Kubernetes 1.27). With ``native_sidecar=True`` one native sidecar
    (an init container with ``restartPolicy: Always``, Kubernetes >= 1.29) does both, and
    its startup probe (the link exists) holds the main container back until the first
    sync is done.

    In a pod that must finish (a Job, a CronJob, a Pod whose restart policy is not
    ``Always``), a classic looping sidecar would never exit, so there the one-shot init
    container alone syncs, once, before the app starts (no webhook, no metrics port). With
    ``native_sidecar=True`` the native sidecar keeps syncing while the app runs, and the
    kubelet stops it when the app has exited.

    Later pushes appear without a restart: git-sync swaps the ``link`` symlink atomically.
    The volume is mounted whole (never with ``subPath``, which would pin the old target).

    Args:
        scope: construct scope.
        id: construct id.
        workload: the workload to attach to: a cdk8s-plus-27 Deployment, StatefulSet,
            DaemonSet, Job, CronJob or Pod.
        deployment: older name of ``workload`` (pass one of the two).
        repo: ``https://...``, ``ssh://...``, ``user@host:path`` or ``file://...`` URL.
        ref: branch, tag or full commit SHA. Default ``HEAD`` (the remote's default branch).
        period: time between syncs, at least 10ms. Default 10s.
        depth: commits of history to fetch; 0 means full history. Default 1.
        link: name of the symlink below ``mount_path`` that points at the current checkout.
            Default: the last part of the repo URL without ``.git`` (git-sync's own default
            keeps ``.git``; the library always passes ``--link``).
        mount_path: where the main container sees the volume. Default ``/srv/git``, or
            ``/srv/<name>`` when the main container already mounts something there (a second
            instance).
        serve_dir: sub-directory of the repository that holds the content to serve.
            Default: the repository root.
        submodules: submodule handling. Default git-sync's (recursive).
        git_gc: git garbage collection after each sync (``GitGC.AUTO`` lets git decide, ``OFF``
            keeps every object: cheaper syncs, a growing volume). Default git-sync's (always).
        sparse_checkout: git sparse-checkout patterns (rendered to a ConfigMap and passed
            with ``--sparse-checkout-file``). Default: full checkout.
        max_failures: consecutive failed syncs the looping sidecar tolerates before it exits;
            negative retries forever. Default -1: through a git host outage the sidecar keeps
            running and the pod keeps serving the content it has (git-sync's own default, 0,
            exits on the first failed fetch). The one-shot initial sync always fails fast.
        sync_timeout: limit for one sync, at least 10ms. Default git-sync's (120s).
        webhook: HTTP call after each sync (sidecar only: the app is not running during the
            initial sync). Default none.
        exechook: command after each sync (also in the initial sync, so the content is
            complete before the app starts). Default none.
        auth: credentials. Default :meth:`GitAuth.none`.
        http_port: port of git-sync's health (and metrics) endpoint. Default 2020, or the next
            port above it that no container of the pod uses.
        metrics: serve Prometheus metrics at ``/metrics`` on ``http_port``. Default True.
        native_sidecar: one native sidecar instead of init container + sidecar
            (Kubernetes >= 1.29). Default False.
        startup_timeout: how long the first sync of the native sidecar may take before the
            kubelet restarts it. Default 5 minutes.
        content_env: name of an env variable to set to ``content_path`` in the main
            container (use it as ``$(NAME)`` in the container's args). Default none.
        name: prefix of everything added to the pod: containers ``<name>`` and
            ``<name>-init``, volumes ``<name>-root``, ``<name>-tmp`` (and ``<name>-auth``,
            ``<name>-config``), port ``<name>`` (at most 15 characters). Default ``git-sync``;
            set it when attaching two.
        container_name: the main container. Default: the workload's only app container.
        image: git-sync image. Default :data:`DEFAULT_GIT_SYNC_IMAGE` (``constructs_lib``'s export).
        resources: git-sync's requests/limits. Default 10m/64Mi requests, 500m/256Mi limits.
        run_as_user: uid of git-sync. Default 65533 (the image's user); SSH needs it.
        extra_args: further git-sync flags (``--flag=value``) for options not modelled here.

    Attributes:
        content_path: where the main container finds the content
            (``mount_path/link[/serve_dir]``); point the web server's root here.
        mount_path: where the main container sees the volume.
        link: the symlink git-sync swaps after each sync.
        repo: the repository URL (credential-free).
        http_port: git-sync's health and metrics port.
        name: prefix of everything added to the pod.
        volume: the shared volume (``<name>-root``) git-sync writes and the app reads, as a
            cdk8s-plus Volume (made on first use); ``volume_name`` is its name.
        container: the looping or native git-sync container (an ``AddedContainer``: its name,
            kind and rendered spec), or None in a Job without
            ``native_sidecar`` (only the init container syncs there).
        init_container: the one-shot initial sync, or None with ``native_sidecar``.
        main_container: the app container the volume is mounted into.
        config_map: the sparse-checkout ConfigMap, or None.
        fs_group: the pod's effective ``fsGroup`` (65533 unless the pod had one).
        one_shot_only: True when only the initial sync runs (Jobs, CronJobs...).
        workload: the workload attached to (``deployment`` is its older name).
        metrics_port_name: the container port serving ``/metrics``, or None.
    """

    #: Dropped once App.synth() wrote the workload (HeldUntilSynth).
    _HELD = ("props", "container", "init_container")

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        workload: Workload | None = None,
        deployment: Workload | None = None,
        repo: str,
        ref: str = "HEAD",
        period: cdk8s.Duration | None = None,
        depth: int = 1,
        link: str | None = None,
        mount_path: str | None = None,
        serve_dir: str | None = None,
        submodules: GitSubmodules | None = None,
        git_gc: GitGC | None = None,
        sparse_checkout: Sequence[str] | None = None,
        max_failures: int | None = None,
        sync_timeout: cdk8s.Duration | None = None,
        webhook: GitSyncWebhook | None = None,
        exechook: GitSyncExechook | None = None,
        auth: GitAuth | None = None,
        http_port: int | None = None,
        metrics: bool = True,
        native_sidecar: bool = False,
        startup_timeout: cdk8s.Duration | None = None,
        content_env: str | None = None,
        name: str = "git-sync",
        container_name: str | None = None,
        image: str = DEFAULT_IMAGE,
        resources: kplus.ContainerResources | None = None,
        run_as_user: int = GIT_SYNC_UID,
        extra_args: Sequence[str] = (),
    ) -> None:
        """Attach the pattern to ``workload``; every prop is described in the class docstring."""
        given = _checks.props_of(GitSyncProps, locals())
        super().__init__(scope, id)
        where, self.workload, seam = pattern_seam(scope, id, workload, deployment)
        self.deployment = self.workload
        props = self.props = check_props(where, given, seam)
        attached = seam.attach(self, render(props), where=where)
        self.main_container_name = props.main
        self.repo, self.link, self.name, self.image = props.repo, props.link, props.name, props.image
        self.mount_path, self.content_path, self.http_port = (
            props.mount_path,
            props.content_path,
            props.http_port,
        )
        self.native_sidecar, self.metrics_enabled, self.one_shot_only = (
            props.native_sidecar,
            props.metrics,
            props.one_shot_only,
        )
        self.volume_name = props.volume_name
        self.config_map = attached.config_map
        self.fs_group = attached.fs_group
        self.init_container = attached.container("init")
        self.container = attached.container("native") or attached.container("sidecar")

    @property
    def main_container(self) -> kplus.Container:
        """The app container (the cdk8s-plus object you added)."""
        return kplus_container(self.workload, self.main_container_name)

    @functools.cached_property
    def volume(self) -> kplus.Volume:
        """The shared volume ``<name>-root`` as a cdk8s-plus Volume, made on first use: mount it
        read-only into another of your containers (``c.mount(path, site.volume, read_only=True)``)."""
        PodSeam.of(self.workload, read=False).share_volume(self.volume_name)
        return kplus.Volume.from_empty_dir(self, "root", self.volume_name)

    @property
    def metrics_port_name(self) -> str | None:
        """Name of the container port serving ``/metrics``, or None when metrics are off."""
        # The looping container (which serves /metrics) is left out exactly when only the one-shot sync runs.
        return self.name if self.metrics_enabled and not self.one_shot_only else None

    @property
    def metrics_path(self) -> str:
        return "/metrics"  # git-sync --http-metrics


# --- props -> checks ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class GitSyncProps:
    """The keyword arguments of :class:`SidecarGitSync` as given (each is described, with its
    default, in the class docstring). :func:`check_props` checks them all, in one place."""

    workload: Workload | None = None
    deployment: Workload | None = None
    repo: str
    ref: str = "HEAD"
    period: cdk8s.Duration | None = None
    depth: int = 1
    link: str | None = None
    mount_path: str | None = None
    serve_dir: str | None = None
    submodules: GitSubmodules | None = None
    git_gc: GitGC | None = None
    sparse_checkout: Sequence[str] | None = None
    max_failures: int | None = None
    sync_timeout: cdk8s.Duration | None = None
    webhook: GitSyncWebhook | None = None
    exechook: GitSyncExechook | None = None
    auth: GitAuth | None = None
    http_port: int | None = None
    metrics: bool = True
    native_sidecar: bool = False
    startup_timeout: cdk8s.Duration | None = None
    content_env: str | None = None
    name: str = "git-sync"
    container_name: str | None = None
    image: str = DEFAULT_IMAGE
    resources: kplus.ContainerResources | None = None
    run_as_user: int = GIT_SYNC_UID
    extra_args: Sequence[str] = ()


#: A hook's checked ``--<hook>-timeout`` / ``--<hook>-backoff``: (label, milliseconds).
HookTiming = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class CheckedGitSync:
    """The props checked, with every default resolved: all that :func:`render` reads."""

    name: str
    main: str  # the app container
    repo: str
    ref: str
    link: str
    mount_path: str
    content_path: str
    period_ms: int
    depth: int
    submodules: GitSubmodules | None
    git_gc: GitGC | None
    sparse_checkout: str | None  # the sparse-checkout file's text
    max_failures: int
    sync_timeout_ms: int | None
    webhook: GitSyncWebhook | None
    webhook_timing: HookTiming
    exechook: GitSyncExechook | None
    exechook_timing: HookTiming
    auth: GitAuth
    http_port: int
    metrics: bool
    native_sidecar: bool
    one_shot_only: bool  # a pod that must finish: only the one-shot initial sync runs
    startup_ms: int
    content_env: str | None
    image: str
    resources: kplus.ContainerResources | None
    run_as_user: int
    extra_args: tuple[str, ...]

    @property
    def volume_name(self) -> str:
        return sys.intern(f"{self.name}-root")  # kept by the pattern for the process's life


def check_props(where: str, props: GitSyncProps, seam: PodSeam) -> CheckedGitSync:
    """Every prop checked and every default resolved (some from the pod: the app container, a
    free port, a free mount path), before anything is added. ``where`` is the pattern's path."""
    auth = _check_auth(where, props.auth)
    main = seam.main_container(props.container_name, where=where)
    return CheckedGitSync(
        main=main,
        auth=auth,
        **_check_source(where, props, auth, seam.mounts_of(main)),
        **_check_sync(where, props),
        **_check_container(where, props, auth, seam),
        **_check_hooks(where, props, seam),
    )


def _check_source(where: str, props: GitSyncProps, auth: GitAuth, taken: set[str]) -> dict[str, Any]:
    """What is synced, and where the app sees it."""
    repo = _check_repo(where, props.repo, auth)
    given = props.link is not None
    link = _check_link(where, props.link if props.link is not None else _default_link(repo), given=given)
    mount_path = props.mount_path
    if mount_path is None:  # a second instance: /srv/<name>
        mount_path = "/srv/git" if "/srv/git" not in taken else f"/srv/{props.name}"
    mount_path = _checks.absolute_path(where, "mount_path", mount_path)
    content_path = posixpath.join(mount_path, link)
    if props.serve_dir is not None:
        serve_dir = _checks.relative_dir(where, "serve_dir", props.serve_dir)
        content_path = posixpath.join(content_path, serve_dir)
    ref = _check_ref(where, props.ref)
    return dict(repo=repo, ref=ref, link=link, mount_path=mount_path, content_path=content_path)


def _check_sync(where: str, props: GitSyncProps) -> dict[str, Any]:
    """How git-sync syncs: period, depth, submodules, sparse checkout, failures, timeout."""
    period = _checks.or_default(props.period, _checks.seconds(10))
    fix = "use at least cdk8s.Duration.millis(10) (git-sync's minimum)"
    period_ms = _checks.duration_at_least(where, "period", period, _MIN_PERIOD_MS, fix)
    depth = _checks.non_negative_int(where, "depth", props.depth)
    submodules = props.submodules
    if submodules is not None:
        submodules = _checks.enum_member(where, "submodules", GitSubmodules, submodules)
    git_gc = props.git_gc
    if git_gc is not None:
        git_gc = _checks.enum_member(where, "git_gc", GitGC, git_gc)
    max_failures = _checks.int_range(
        where,
        "max_failures",
        _checks.or_default(props.max_failures, -1),
        -1,
        _checks.INT32_MAX,
        "use e.g. 3, or -1 to retry forever",
    )
    sync_timeout_ms = None
    if props.sync_timeout is not None:
        sync_timeout_ms = _checks.duration_at_least(
            where, "sync_timeout", props.sync_timeout, _MIN_PERIOD_MS, "use at least 10ms"
        )
    sparse = props.sparse_checkout
    return dict(
        period_ms=period_ms,
        depth=depth,
        submodules=submodules,
        git_gc=git_gc,
        sparse_checkout=_sparse_checkout_file(where, sparse) if sparse is not None else None,
        max_failures=max_failures,
        sync_timeout_ms=sync_timeout_ms,
    )


def _check_container(where: str, props: GitSyncProps, auth: GitAuth, seam: PodSeam) -> dict[str, Any]:
    """git-sync's container: name, image, resources, port, user, extra flags, modes."""
    resources = checked_resources(where, props.resources)
    http_port = _checks.or_default(props.http_port, seam.free_port(2020))
    _checks.port_number(where, "http_port", http_port)
    _check_user(where, props.run_as_user, auth)
    image = _checks.pinned_image(where, "image", props.image)
    extra_args = _check_extra_args(where, props.extra_args)
    startup = _checks.or_default(props.startup_timeout, _checks.seconds(300))
    startup_ms = _checks.duration_at_least(where, "startup_timeout", startup, 10_000, "use at least 10s")
    name = _checks.dns_label(where, "name", props.name)
    _checks.port_name(where, "name", name)  # it also names git-sync's container port
    if props.content_env is not None:
        _checks.env_name(where, "content_env", props.content_env)
    return dict(
        name=name,
        image=image,
        resources=resources,
        http_port=http_port,
        run_as_user=props.run_as_user,
        extra_args=tuple(extra_args),
        startup_ms=startup_ms,
        native_sidecar=_checks.boolean(where, "native_sidecar", props.native_sidecar),
        metrics=_checks.boolean(where, "metrics", props.metrics),
        content_env=props.content_env,
    )


def _check_hooks(where: str, props: GitSyncProps, seam: PodSeam) -> dict[str, Any]:
    """The exechook and the webhook; in a pod that must finish (Job, CronJob...) a classic
    looping sidecar cannot run, so there the one-shot init container alone syncs, once."""
    exechook, exechook_timing = _check_exechook(where, props.exechook)
    webhook, webhook_timing = _check_webhook(where, props.webhook)
    one_shot_only = seam.runs_to_completion and not props.native_sidecar
    if one_shot_only and webhook is not None:
        raise PropsError(
            where,
            "webhook",
            webhook.url,
            f"in a {seam.kind} only the one-shot initial sync runs, and the webhook runs only in the "
            "looping sidecar",
            "drop the webhook, use an exechook, or pass native_sidecar=True (Kubernetes >= 1.29)",
        )
    return dict(
        exechook=exechook,
        exechook_timing=exechook_timing,
        webhook=webhook,
        webhook_timing=webhook_timing,
        one_shot_only=one_shot_only,
    )


def _check_user(where: str, run_as_user: int, auth: GitAuth) -> None:
    _checks.int_range(
        where, "run_as_user", run_as_user, 1, _checks.MAX_ID, "git-sync must not run as root: keep 65533"
    )
    if auth.kind == "ssh" and run_as_user != GIT_SYNC_UID:
        raise PropsError(
            where,
            "run_as_user",
            run_as_user,
            "SSH needs the uid in /etc/passwd; git-sync's --add-user cannot write it on a read-only "
            "root filesystem",
            f"keep run_as_user={GIT_SYNC_UID} (the image's user) with SSH",
        )


def _check_extra_args(where: str, extra_args: Any) -> list[str]:
    # git-sync's own credential flags first: their fix names the auth option.
    for arg in extra_args if isinstance(extra_args, list | tuple) else ():
        flag = arg.partition("=")[0] if isinstance(arg, str) else None
        if flag in _MODELLED_FLAGS:
            raise PropsError(
                where,
                "extra_args",
                flag,
                "the library sets this flag from a prop",
                "use the prop instead (probes, content_path and volumes follow the props)",
            )
        if flag in _CREDENTIAL_FLAGS:
            raise PropsError(
                where,
                "extra_args",
                flag,
                "credentials in args end up in the manifest",
                "use auth=GitAuth.https(...) or GitAuth.ssh(...), which read them from Secrets",
            )
    checked = _checks.string_list(where, "extra_args", extra_args)
    for arg in checked:
        if not arg.startswith("--"):
            raise PropsError(where, "extra_args", arg, "not a git-sync flag", "pass flags as '--name=value'")
    return checked


def _check_repo(where: str, repo: str, auth: GitAuth) -> str:
    if not isinstance(repo, str) or not repo or any(c.isspace() for c in repo):
        raise PropsError(
            where, "repo", repo, "not a repository URL", "use https://, ssh://, git@host:path or file://"
        )
    # No credentials in any scheme, in the userinfo or the query (--repo is in the manifest);
    # ssh's bare user (git@host) is not one.
    _checks.text(where, "repo", repo, fix="use https://, ssh://, git@host:path or file://")
    if repo.startswith("https://"):
        scheme = "https"
    elif repo.startswith("ssh://") or _SCP_LIKE.fullmatch(repo):
        scheme = "ssh"
    elif repo.startswith("file://"):
        scheme = "file"
    else:
        raise PropsError(
            where,
            "repo",
            repo,
            "neither an https, ssh nor file URL",
            "use https://host/org/repo.git, ssh://git@host/org/repo.git, git@host:org/repo.git or file:///path",
        )
    _check_scheme_auth(where, scheme, auth)
    return repo


def _check_scheme_auth(where: str, scheme: str, auth: GitAuth) -> None:
    """The credentials fit the repository's scheme."""
    if auth.kind == "https" and scheme != "https":
        raise PropsError(
            where,
            "auth",
            "GitAuth.https",
            f"a {scheme} repository cannot use HTTPS credentials",
            "use GitAuth.ssh(...) for ssh repositories, or an https:// URL",
        )
    if auth.kind == "ssh" and scheme != "ssh":
        raise PropsError(
            where,
            "auth",
            "GitAuth.ssh",
            f"a {scheme} repository cannot use an SSH key",
            "use an ssh:// or git@host:path URL, or GitAuth.https(...)",
        )
    if scheme == "ssh" and auth.kind != "ssh":
        raise PropsError(
            where,
            "auth",
            auth.kind,
            "an SSH repository needs a private key",
            "pass auth=GitAuth.ssh(secret=...) with keys 'ssh' and 'known_hosts'",
        )


def _check_ref(where: str, ref: Any) -> str:
    if not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise PropsError(
            where,
            "ref",
            ref,
            "not a git ref (git check-ref-format)",
            "use a branch, tag or commit SHA such as 'main'",
        )
    return _checks.no_credentials(where, "ref", ref)  # --ref is in the manifest


def _default_link(repo: str) -> str:
    tail = repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    tail = tail[:-4] if tail.endswith(".git") else tail
    return re.sub(r"[^A-Za-z0-9._-]", "-", tail).lstrip(".-") or "repo"


def _check_link(where: str, link: str, *, given: bool) -> str:
    if not isinstance(link, str) or not _LINK.fullmatch(link) or link in (".", ".."):
        prop_value = link if given else f"{link} (derived from repo)"
        raise PropsError(
            where,
            "link",
            prop_value,
            "not a plain file name (no '/', not hidden)",
            "pass link= a name such as 'current' made of letters, digits, '.', '_' and '-'",
        )
    return link


def _sparse_checkout_file(where: str, patterns: Sequence[str]) -> str:
    fix = "pass e.g. ['/public/', '!/public/drafts/'], one pattern per item"
    if isinstance(patterns, str | bytes) or not isinstance(patterns, list | tuple) or not patterns:
        raise PropsError(where, "sparse_checkout", patterns, "not a non-empty list of patterns", fix)
    for p in patterns:
        if not _checks.text(where, "sparse_checkout", p, fix=fix).strip():
            raise PropsError(where, "sparse_checkout", p, "a blank pattern", fix)
    return "".join(f"{p}\n" for p in patterns)


def _hook_timing(
    where: str, prefix: str, timeout: cdk8s.Duration | None, backoff: cdk8s.Duration | None
) -> HookTiming:
    timing = []
    for label, value in (("timeout", timeout), ("backoff", backoff)):
        if value is not None:
            ms = _checks.duration_at_least(where, f"{prefix}.{label}", value, _MIN_HOOK_MS, "use at least 1s")
            timing.append((label, ms))
    return tuple(timing)


def _check_webhook(where: str, hook: Any) -> tuple[GitSyncWebhook | None, HookTiming]:
    if hook is None:
        return None, ()
    _checks.instance(where, "webhook", hook, GitSyncWebhook, "pass GitSyncWebhook(url=...)")
    if not isinstance(hook.url, str) or not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]+", hook.url):
        raise PropsError(
            where, "webhook.url", hook.url, "not an http(s) URL", "use e.g. 'http://127.0.0.1:8080/reload'"
        )
    _checks.no_credentials(where, "webhook.url", hook.url)
    if not isinstance(hook.method, str) or not re.fullmatch(r"[A-Z]{1,32}", hook.method):
        raise PropsError(where, "webhook.method", hook.method, "not an HTTP method", "use e.g. 'POST'")
    status = hook.success_status
    if isinstance(status, bool) or not isinstance(status, int) or not (status == 0 or 100 <= status <= 599):
        raise PropsError(
            where,
            "webhook.success_status",
            status,
            "not an HTTP status",
            "use e.g. 200, or 0 for fire-and-forget",
        )
    return hook, _hook_timing(where, "webhook", hook.timeout, hook.backoff)


def _check_exechook(where: str, hook: Any) -> tuple[GitSyncExechook | None, HookTiming]:
    if hook is None:
        return None, ()
    _checks.instance(where, "exechook", hook, GitSyncExechook, "pass GitSyncExechook(command=...)")
    cmd = hook.command
    if not isinstance(cmd, str) or not re.fullmatch(r"/[^\s\x00-\x1f\x7f]*", cmd):
        raise PropsError(
            where,
            "exechook.command",
            cmd,
            "git-sync runs the hook without a shell or arguments, so it must be one absolute path",
            "point at an executable script, e.g. '/hooks/build.sh'",
        )
    return hook, _hook_timing(where, "exechook", hook.timeout, hook.backoff)


def _check_auth(where: str, given: Any) -> GitAuth:
    auth: GitAuth = _checks.instance(
        where,
        "auth",
        _checks.or_default(given, GitAuth.none()),
        GitAuth,
        "use GitAuth.none(), .https() or .ssh()",
    )
    if auth.kind == "https":
        _check_https_auth(where, auth)
    elif auth.kind == "ssh":
        _check_ssh_auth(where, auth)
    elif auth.kind != "none":
        raise PropsError(
            where, "auth", auth.kind, "unknown auth kind", "use GitAuth.none(), .https() or .ssh()"
        )
    return auth


def _check_https_auth(where: str, auth: GitAuth) -> None:
    if _checks.secret_value(where, "auth.password", auth.password) is None:
        raise PropsError(
            where,
            "auth.password",
            None,
            "HTTPS auth needs a password or token",
            "pass password=kplus.SecretValue(secret=..., key='token')",
        )
    if (
        not isinstance(auth.username, str)
        or not re.fullmatch(r"[^\s\x00-\x1f\x7f:]{1,255}", auth.username)
        or credential_in(auth.username)
    ):
        shown = (
            auth.username.split(":")[0] + ":<redacted>" if isinstance(auth.username, str) else auth.username
        )
        raise PropsError(
            where,
            "auth.username",
            shown,
            "not a user name (a ':' would start a password)",
            "pass the account name; the password or token goes in password=",
        )


def _check_ssh_auth(where: str, auth: GitAuth) -> None:
    if not _checks.is_secret(auth.secret):
        raise PropsError(
            where,
            "auth.secret",
            auth.secret,
            "not a Secret",
            "pass secret=kplus.Secret.from_secret_name(scope, id, 'git-creds')",
        )
    for key_prop, key in (("auth.key", auth.ssh_key), ("auth.known_hosts_key", auth.known_hosts_key)):
        if key is not None and (not isinstance(key, str) or not _checks.SECRET_KEY.fullmatch(key)):
            raise PropsError(where, key_prop, key, "not a Secret key name", "use e.g. 'ssh' or 'known_hosts'")
    if auth.ssh_key is None:
        raise PropsError(where, "auth.key", None, "SSH needs the private key's Secret key", "use e.g. 'ssh'")
    if auth.ssh_key == auth.known_hosts_key:
        raise PropsError(
            where,
            "auth.known_hosts_key",
            auth.known_hosts_key,
            "the same Secret key as the private key",
            "name the known_hosts key of the Secret",
        )


# --- checked props -> render (pure: no pod, no seam, no node) ---------------------------


def render(c: CheckedGitSync) -> PodAdditions:
    """What git-sync adds to the pod, from the checked props alone."""
    auth_args, auth_files = _auth_args(c)
    config = None
    if c.sparse_checkout is not None:
        config = ConfigFiles(c.name, {"sparse-checkout": c.sparse_checkout}, _CONFIG_DIR)
    mounts = [Mount(_ROOT, c.volume_name), Mount("/tmp", f"{c.name}-tmp")]
    mounts += [config.mount] if config is not None else []
    mounts += [auth_files.mount] if auth_files is not None else []
    common = [*_sync_args(c), *auth_args]
    common += [f"--sparse-checkout-file={_CONFIG_DIR}/sparse-checkout"] if config is not None else []
    looping = _looping_container(c, common, mounts)
    containers: list[tuple[ContainerSpec, ContainerKind]] = []
    if c.native_sidecar:
        containers.append((looping, "native"))
    else:
        # --one-time exits non-zero on a failed sync (the kubelet retries the init container):
        # the app never starts without content.
        init_args = [*common, "--one-time", *c.extra_args]
        containers.append(
            (replace(looping, name=f"{c.name}-init", args=init_args, ports=(), **_NO_PROBES), "init")
        )
        containers += [] if c.one_shot_only else [(looping, "sidecar")]
    env = [AppEnv(c.main, c.content_env, env_value(c.content_path), "content_env")] if c.content_env else []
    return PodAdditions(
        owner=c.name,
        containers=containers,
        # git-sync writes its temp git config below HOME=/tmp (Dockerfile.in); the root
        # filesystem is read-only, so /tmp is a small emptyDir.
        volumes=[empty_dir(c.volume_name), empty_dir(f"{c.name}-tmp", size_limit_mi=64)],
        config=config,
        secrets=[auth_files] if auth_files is not None else [],
        app_mounts=[AppMount(c.main, Mount(c.mount_path, c.volume_name, read_only=True), "mount_path")],
        app_env=env,
        # git-sync's docs: pod fsGroup so the key is readable and the server can read the files.
        fs_group=GIT_SYNC_UID,
        unique=[("git-sync link", c.content_path, "link")],
    )


_NO_PROBES: dict[str, Any] = dict(startup=None, liveness=None, readiness=None)


def _sync_args(c: CheckedGitSync) -> list[str]:
    """The flags both the one-shot and the looping git-sync take (before the credentials)."""
    args = [
        f"--repo={c.repo}",
        f"--ref={c.ref}",
        f"--root={_ROOT}",
        f"--link={c.link}",
        f"--period={_checks.go_duration(c.period_ms)}",
        f"--depth={c.depth}",
    ]
    args += [f"--submodules={c.submodules.value}"] if c.submodules is not None else []
    args += [f"--git-gc={c.git_gc.value}"] if c.git_gc is not None else []
    args += (
        [f"--sync-timeout={_checks.go_duration(c.sync_timeout_ms)}"] if c.sync_timeout_ms is not None else []
    )
    if c.exechook is not None:
        args += [f"--exechook-command={c.exechook.command}", *_timing_args("exechook", c.exechook_timing)]
    return args


def _timing_args(prefix: str, timing: HookTiming) -> list[str]:
    return [f"--{prefix}-{label}={_checks.go_duration(ms)}" for label, ms in timing]


def _looping_container(c: CheckedGitSync, common: list[str], mounts: list[Mount]) -> ContainerSpec:
    """The looping (or native) git-sync: the sync flags, its HTTP endpoint, the webhook."""
    http = [f"--http-bind=:{c.http_port}"] + (["--http-metrics"] if c.metrics else [])
    hooks = []
    if c.webhook is not None:
        hook = c.webhook
        hooks = [
            f"--webhook-url={hook.url}",
            f"--webhook-method={hook.method}",
            f"--webhook-success-status={hook.success_status}",
            *_timing_args("webhook", c.webhook_timing),
        ]
    # Outages: the looping sidecar retries forever by default (max_failures=-1), so a git
    # host outage leaves it running and the content on the volume served. git-sync's "/"
    # answers 503 until a fetch succeeds after each start, even with a checkout on the
    # volume (main.go: the "/" handler checks repoReady, set only by a successful
    # SyncRepo, which fetches first), so no probe of the looping or native sidecar aims at
    # "/": one would take the whole pod out of its Service whenever git-sync restarts
    # during an outage. Readiness and liveness are TCP checks of the HTTP port, which
    # git-sync binds before its first sync attempt (main.go: net.Listen before the loop).
    health = TcpProbe(port=c.http_port, period_seconds=10, failure_threshold=3)
    # The native sidecar is also the first sync: its startup probe holds the app back until
    # the link exists (created by the first successful sync). After a restart the link is
    # still on the volume, so it passes at once, remote or not. The image ships coreutils
    # (Dockerfile.in: stage_binaries.sh -p coreutils).
    startup = ExecProbe(
        command=("test", "-e", f"{_ROOT}/{c.link}"),
        period_seconds=2,
        failure_threshold=max(1, c.startup_ms // 2000),
    )
    return ContainerSpec(
        name=c.name,
        image=c.image,
        # git's pack and index work is bursty; raise these for large repositories.
        resources=c.resources or container_resources(10, 500, 64, 256),
        uid=c.run_as_user,
        gid=GIT_SYNC_UID,
        args=[*common, f"--max-failures={c.max_failures}", *http, *hooks, *c.extra_args],
        ports=[Port(c.name, c.http_port, name_prop="name", number_prop="http_port")],
        mounts=mounts,
        startup=startup if c.native_sidecar else None,
        liveness=health,
        readiness=health,
    )


def _auth_args(c: CheckedGitSync) -> tuple[list[str], SecretFiles | None]:
    """git-sync's credential flags, and the Secret's keys as files below /etc/git-secret."""
    auth = c.auth
    if auth.kind == "https":
        assert auth.password is not None  # _check_https_auth
        # --password-file (the --password flag is deprecated and would put it in the manifest).
        args = [f"--username={auth.username}", f"--password-file={_SECRET_DIR}/password"]
        secret, items = auth.password.secret, {auth.password.key: "password"}
    elif auth.kind == "ssh":
        assert auth.secret is not None  # _check_ssh_auth
        args = [f"--ssh-key-file={_SECRET_DIR}/ssh"]
        items = {auth.ssh_key: "ssh"}
        if auth.known_hosts_key is None:
            args.append("--ssh-known-hosts=false")
        else:
            args.append(f"--ssh-known-hosts-file={_SECRET_DIR}/known_hosts")
            items[auth.known_hosts_key] = "known_hosts"
        secret = auth.secret
    else:
        return [], None
    # 0400 as git-sync's docs ask: ssh refuses keys that others can read.
    return args, SecretFiles(f"{c.name}-auth", secret, items, _SECRET_DIR, 0o400)
