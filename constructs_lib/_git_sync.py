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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cdk8s
import cdk8s_plus_27 as kplus
import constructs

from . import _checks
from ._checks import Workload
from ._containers import (
    AddedContainer,
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
from ._pod import Claim, PodSeam
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
_REF = re.compile(r"(?!-|/)(?!.*\.\.)(?!.*@\{)(?!.*(/|\.|\.lock)$)[^\x00-\x20\x7f~^:?*\[\\]{1,255}")


class GitSubmodules(enum.Enum):
    """git-sync ``--submodules``: how submodules are checked out (upstream default: recursive)."""

    RECURSIVE = "recursive"
    SHALLOW = "shallow"
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


class SidecarGitSync(constructs.Construct):
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
        super().__init__(scope, id)
        where = _checks.child_path(scope, id)  # self.node.path, without two round trips
        # --- resolve and check every prop before touching the pod ---
        target = _checks.pattern_workload(where, workload, deployment)
        auth = _checks.instance(
            where,
            "auth",
            _checks.or_default(auth, GitAuth.none()),
            GitAuth,
            "use GitAuth.none(), .https() or .ssh()",
        )
        _checks.same_namespace(where, scope, target)
        seam = PodSeam.of(target)
        main = self.main_container_name = seam.main_container(container_name, where=where)
        resources = checked_resources(where, resources)
        self.repo = _check_repo(where, repo, auth)
        self.link = _check_link(
            where, link if link is not None else _default_link(repo), given=link is not None
        )
        if mount_path is None:  # a second instance: /srv/<name>
            taken = seam.mounts_of(main)
            mount_path = "/srv/git" if "/srv/git" not in taken else f"/srv/{name}"
        self.mount_path = _checks.absolute_path(where, "mount_path", mount_path)
        self.content_path = posixpath.join(self.mount_path, self.link)
        if serve_dir is not None:
            self.content_path = posixpath.join(
                self.content_path, _checks.relative_dir(where, "serve_dir", serve_dir)
            )
        _check_ref(where, ref)
        period_ms = _checks.duration_at_least(
            where,
            "period",
            _checks.or_default(period, _checks.seconds(10)),
            _MIN_PERIOD_MS,
            "use at least cdk8s.Duration.millis(10) (git-sync's minimum)",
        )
        _checks.non_negative_int(where, "depth", depth)
        self.http_port = _checks.port_number(
            where, "http_port", _checks.or_default(http_port, seam.free_port(2020))
        )
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
        self.image = _checks.pinned_image(where, "image", image)
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
        for arg in _checks.string_list(where, "extra_args", extra_args):
            if not arg.startswith("--"):
                raise PropsError(
                    where, "extra_args", arg, "not a git-sync flag", "pass flags as '--name=value'"
                )
        startup_ms = _checks.duration_at_least(
            where,
            "startup_timeout",
            _checks.or_default(startup_timeout, _checks.seconds(300)),
            10_000,
            "use at least 10s",
        )
        self.name = _checks.dns_label(where, "name", name)
        _checks.port_name(where, "name", name)  # it also names git-sync's container port
        self.native_sidecar = _checks.boolean(where, "native_sidecar", native_sidecar)
        self.metrics_enabled = _checks.boolean(where, "metrics", metrics)
        if content_env is not None:
            _checks.env_name(where, "content_env", content_env)

        common = [
            f"--repo={self.repo}",
            f"--ref={ref}",
            f"--root={_ROOT}",
            f"--link={self.link}",
            f"--period={_checks.go_duration(period_ms)}",
            f"--depth={depth}",
        ]
        if submodules is not None:
            common.append(
                f"--submodules={_checks.enum_member(where, 'submodules', GitSubmodules, submodules).value}"
            )
        max_failures = _checks.int_range(
            where,
            "max_failures",
            _checks.or_default(max_failures, -1),
            -1,
            _checks.INT32_MAX,
            "use e.g. 3, or -1 to retry forever",
        )
        if sync_timeout is not None:
            ms = _checks.duration_at_least(
                where, "sync_timeout", sync_timeout, _MIN_PERIOD_MS, "use at least 10ms"
            )
            common.append(f"--sync-timeout={_checks.go_duration(ms)}")
        if exechook is not None:
            _checks.instance(
                where, "exechook", exechook, GitSyncExechook, "pass GitSyncExechook(command=...)"
            )
            common += _exechook_args(where, exechook)
        auth_args, auth_secret, auth_items = _auth_args(where, auth)
        common += auth_args
        if webhook is not None:
            _checks.instance(where, "webhook", webhook, GitSyncWebhook, "pass GitSyncWebhook(url=...)")
        hooks = _webhook_args(where, webhook) if webhook is not None else []
        sparse_file = _sparse_checkout_file(where, sparse_checkout) if sparse_checkout is not None else None

        self.workload = self.deployment = target
        # A pod that must finish (Job, CronJob...) cannot keep a classic looping sidecar: there
        # the one-shot init container alone syncs, once, before the app starts.
        self.one_shot_only = seam.runs_to_completion and not self.native_sidecar
        if self.one_shot_only and webhook is not None:
            raise PropsError(
                where,
                "webhook",
                webhook.url,
                f"in a {seam.kind} only the one-shot initial sync runs, and the webhook runs only in the "
                "looping sidecar",
                "drop the webhook, use an exechook, or pass native_sidecar=True (Kubernetes >= 1.29)",
            )
        volumes = [f"{name}-root", f"{name}-tmp"]
        volumes += [f"{name}-config"] if sparse_file is not None else []
        volumes += [f"{name}-auth"] if auth_secret is not None else []
        seam.preflight(
            [
                Claim("container", name, "name"),
                *([] if native_sidecar else [Claim("container", f"{name}-init", "name")]),
                *(Claim("volume", v, "name") for v in volumes),
                *(
                    []
                    if self.one_shot_only
                    else [
                        Claim("port", (self.http_port, "TCP"), "http_port"),
                        Claim("port name", name, "name"),
                    ]
                ),
                Claim("mount", (main, self.mount_path), "mount_path"),
                *([Claim("env", (main, content_env), "content_env")] if content_env is not None else []),
            ],
            where=where,
        )
        seam.claim("git-sync link", self.content_path, where=where, prop="link")

        # --- volumes ---
        self.volume_name = root = seam.add_volume(empty_dir(f"{name}-root"), where=where, prop="name")
        # git-sync writes its temp git config below HOME=/tmp (Dockerfile.in); the root
        # filesystem is read-only, so /tmp is a small emptyDir.
        tmp = seam.add_volume(empty_dir(f"{name}-tmp", size_limit_mi=64), where=where, prop="name")
        mounts = [Mount(_ROOT, root), Mount("/tmp", tmp)]
        self.config_map: kplus.ConfigMap | None = None
        if sparse_file is not None:
            files = {"sparse-checkout": sparse_file}
            self.config_map, config = seam.add_config_files(self, name, files, path=_CONFIG_DIR, where=where)
            mounts.append(config)
            common.append(f"--sparse-checkout-file={_CONFIG_DIR}/sparse-checkout")
        if auth_secret is not None:
            # 0400 as git-sync's docs ask: ssh refuses keys that others can read.
            mounts.append(
                seam.add_secret_files(
                    f"{name}-auth", auth_secret, auth_items, path=_SECRET_DIR, mode=0o400, where=where
                )
            )
        # git-sync's docs: pod fsGroup so the key is readable and the server can read the files.
        self.fs_group = seam.ensure_fs_group(GIT_SYNC_UID)

        http = [f"--http-bind=:{self.http_port}"] + (["--http-metrics"] if metrics else [])
        # Outages: the looping sidecar retries forever by default (max_failures=-1), so a git
        # host outage leaves it running and the content on the volume served. git-sync's "/"
        # answers 503 until a fetch succeeds after each start, even with a checkout on the
        # volume (main.go: the "/" handler checks repoReady, set only by a successful
        # SyncRepo, which fetches first), so no probe of the looping or native sidecar aims at
        # "/": one would take the whole pod out of its Service whenever git-sync restarts
        # during an outage. Readiness and liveness are TCP checks of the HTTP port, which
        # git-sync binds before its first sync attempt (main.go: net.Listen before the loop).
        health = TcpProbe(port=self.http_port, period_seconds=10, failure_threshold=3)
        # The native sidecar is also the first sync: its startup probe holds the app back until
        # the link exists (created by the first successful sync). After a restart the link is
        # still on the volume, so it passes at once, remote or not. The image ships coreutils
        # (Dockerfile.in: stage_binaries.sh -p coreutils).
        startup = ExecProbe(
            command=("test", "-e", f"{_ROOT}/{self.link}"),
            period_seconds=2,
            failure_threshold=max(1, startup_ms // 2000),
        )
        spec = ContainerSpec(
            name=name,
            image=self.image,
            # git's pack and index work is bursty; raise these for large repositories.
            resources=resources or container_resources(10, 500, 64, 256),
            uid=run_as_user,
            gid=GIT_SYNC_UID,
            args=[*common, f"--max-failures={max_failures}", *http, *hooks, *extra_args],
            ports=[Port(name, self.http_port, name_prop="name", number_prop="http_port")],
            mounts=mounts,
            startup=startup if native_sidecar else None,
            liveness=health,
            readiness=health,
        )
        self.init_container: AddedContainer | None = None
        self.container: AddedContainer | None = None
        if native_sidecar:
            self.container = seam.add_container(spec, kind="native", where=where)
        else:
            init_spec = ContainerSpec(
                name=f"{name}-init",
                image=spec.image,
                resources=spec.resources,
                uid=spec.uid,
                gid=spec.gid,
                # --one-time exits non-zero on a failed sync (the kubelet retries the init
                # container): the app never starts without content.
                args=[*common, "--one-time", *extra_args],
                mounts=mounts,
            )
            self.init_container = seam.add_container(init_spec, kind="init", where=where)
            if not self.one_shot_only:
                self.container = seam.add_container(spec, kind="sidecar", where=where)
        seam.mount(main, Mount(self.mount_path, root, read_only=True), where=where, prop="mount_path")
        if content_env is not None:
            seam.add_env(main, content_env, env_value(self.content_path), where=where, prop="content_env")
        seam.done()

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
        return self.name if self.metrics_enabled and self.container is not None else None

    @property
    def metrics_path(self) -> str:
        return "/metrics"  # git-sync --http-metrics


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
    return repo


def _check_ref(where: str, ref: Any) -> str:
    if not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise PropsError(
            where,
            "ref",
            ref,
            "not a git ref (git check-ref-format)",
            "use a branch, tag or commit SHA such as 'main'",
        )
    return ref


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
) -> list[str]:
    args = []
    for label, value in (("timeout", timeout), ("backoff", backoff)):
        if value is not None:
            ms = _checks.duration_at_least(where, f"{prefix}.{label}", value, _MIN_HOOK_MS, "use at least 1s")
            args.append(f"--{prefix}-{label}={_checks.go_duration(ms)}")
    return args


def _webhook_args(where: str, hook: GitSyncWebhook) -> list[str]:
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
    return [
        f"--webhook-url={hook.url}",
        f"--webhook-method={hook.method}",
        f"--webhook-success-status={status}",
        *_hook_timing(where, "webhook", hook.timeout, hook.backoff),
    ]


def _exechook_args(where: str, hook: GitSyncExechook) -> list[str]:
    cmd = hook.command
    if not isinstance(cmd, str) or not re.fullmatch(r"/[^\s\x00-\x1f\x7f]*", cmd):
        raise PropsError(
            where,
            "exechook.command",
            cmd,
            "git-sync runs the hook without a shell or arguments, so it must be one absolute path",
            "point at an executable script, e.g. '/hooks/build.sh'",
        )
    return [f"--exechook-command={cmd}", *_hook_timing(where, "exechook", hook.timeout, hook.backoff)]


def _auth_args(where: str, auth: GitAuth) -> tuple[list[str], kplus.ISecret | None, dict[str, str]]:
    """git-sync flags for ``auth``, and the Secret and keys to mount below /etc/git-secret."""
    if auth.kind == "none":
        return [], None, {}
    if auth.kind == "https":
        password = _checks.secret_value(where, "auth.password", auth.password)
        if password is None:
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
                auth.username.split(":")[0] + ":<redacted>"
                if isinstance(auth.username, str)
                else auth.username
            )
            raise PropsError(
                where,
                "auth.username",
                shown,
                "not a user name (a ':' would start a password)",
                "pass the account name; the password or token goes in password=",
            )
        # --password-file (the --password flag is deprecated and would put it in the manifest).
        args = [f"--username={auth.username}", f"--password-file={_SECRET_DIR}/password"]
        return args, password.secret, {password.key: "password"}
    if auth.kind == "ssh":
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
                raise PropsError(
                    where, key_prop, key, "not a Secret key name", "use e.g. 'ssh' or 'known_hosts'"
                )
        if auth.ssh_key is None:
            raise PropsError(
                where, "auth.key", None, "SSH needs the private key's Secret key", "use e.g. 'ssh'"
            )
        if auth.ssh_key == auth.known_hosts_key:
            raise PropsError(
                where,
                "auth.known_hosts_key",
                auth.known_hosts_key,
                "the same Secret key as the private key",
                "name the known_hosts key of the Secret",
            )
        args = [f"--ssh-key-file={_SECRET_DIR}/ssh"]
        items = {auth.ssh_key: "ssh"}
        if auth.known_hosts_key is None:
            args.append("--ssh-known-hosts=false")
        else:
            args.append(f"--ssh-known-hosts-file={_SECRET_DIR}/known_hosts")
            items[auth.known_hosts_key] = "known_hosts"
        return args, auth.secret, items
    raise PropsError(where, "auth", auth.kind, "unknown auth kind", "use GitAuth.none(), .https() or .ssh()")
